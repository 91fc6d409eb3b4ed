"""Projects, subprocesses and invariant checks shared by the reliability tests.

Two kinds of project:

* :class:`LightProject`: a pipeline of plain-JSON transforms that imports
  neither torch nor Lightning, so a ``runway`` subprocess costs about a
  second. Each transform appends its node name to ``calls.txt`` (fsynced),
  so a test counts computations across processes.
* :func:`make_digits_project`: the ``runway init`` template cut down to
  300 samples and a small network, for the commands that need Lightning
  (``train``, ``infer``).

The invariant checks say what must hold at *any* moment, whatever was killed:
every cache entry folder is complete and matches its checksum, every
``metrics.json`` and ``summary.json`` parses, every ``*.ckpt`` loads.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from click.testing import Result
from tiny_example import tiny_example

from runway.pipeline.cache import COMPLETE_MARKER, DATA_DIR, META_FILE, TMP_PREFIX, TRASH_PREFIX, data_checksum

LIGHT_TRANSFORMS = '''
import json
import os
import time

import runway


def record(log, name):
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(name + "\\n")
            handle.flush()
            os.fsync(handle.fileno())


@runway.register_transform
class Numbers(runway.Transform):
    def setup(self, n=1000, _log=None, _sleep=0.0):
        self.n, self.log, self.sleep = n, _log, _sleep

    def _call(self, data):
        record(self.log, self.node_name)
        time.sleep(self.sleep)
        return {"values": list(range(self.n))}


@runway.register_transform
class Scale(runway.Transform):
    def setup(self, factor=10, _log=None, _sleep=0.0):
        self.factor, self.log, self.sleep = factor, _log, _sleep

    def _call(self, data):
        record(self.log, self.node_name)
        time.sleep(self.sleep)
        return {"values": [v * self.factor for v in data["values"]]}


@runway.register_transform
class Join(runway.Transform):
    def setup(self, _log=None):
        self.log = _log

    def _call(self, parts):
        record(self.log, self.node_name)
        return {"values": [v for part in parts for v in part["values"]]}


@runway.register_transform
class ReadLines(runway.Transform):
    file_inputs = ("path",)

    def setup(self, path, _log=None):
        self.path, self.log = path, _log

    def _call(self, data):
        record(self.log, self.node_name)
        return (self.project_root / self.path).read_text(encoding="utf-8").splitlines()


class Opaque:
    """Not JSON, not tensors: cached with the pickle format."""

    def __init__(self, values):
        self.values = values

    def __eq__(self, other):
        return isinstance(other, Opaque) and other.values == self.values


@runway.register_transform
class Wrap(runway.Transform):
    def setup(self, _log=None):
        self.log = _log

    def _call(self, data):
        record(self.log, self.node_name)
        return Opaque(data["values"])
'''


def light_pipeline(*, n: int = 1000, sleep: float = 0.0, log: str = "calls.txt") -> dict:
    """Two inputs, two scaled branches, a join and a pickled output (six nodes, five cached)."""
    kwargs = {"_log": log, "_sleep": sleep}
    return {
        "name": "light",
        "transforms": {
            "input:a": {"transform_name": "Numbers", "setup_kwargs": {"n": n, **kwargs}},
            "input:b": {"transform_name": "Numbers", "setup_kwargs": {"n": n // 2, **kwargs}},
            "scale:a": {"transform_name": "Scale", "input_node": "input:a", "setup_kwargs": {"factor": 3, **kwargs}},
            "scale:b": {"transform_name": "Scale", "input_node": "input:b", "setup_kwargs": {"factor": 5, **kwargs}},
            "join": {"transform_name": "Join", "input_node": ["scale:a", "scale:b"], "setup_kwargs": {"_log": log}},
            "output:wrapped": {"transform_name": "Wrap", "input_node": "join", "setup_kwargs": {"_log": log}},
        },
    }


class LightProject:
    """A project folder with :data:`LIGHT_TRANSFORMS` and JSON experiment configs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "runway.toml").write_text("", encoding="utf-8")
        (root / "configs" / "experiments").mkdir(parents=True, exist_ok=True)
        (root / "data_processing").mkdir(exist_ok=True)
        (root / "data_processing" / "light_transforms.py").write_text(LIGHT_TRANSFORMS, encoding="utf-8")
        self.log = root / "calls.txt"

    def write_config(self, name: str, data_pipeline: dict | None = None, **sections: object) -> Path:
        path = self.root / "configs" / "experiments" / f"{name}.jsonnet"
        config = {"data_pipeline": data_pipeline or light_pipeline(), **sections}
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return path

    def calls(self) -> Counter:
        if not self.log.exists():
            return Counter()
        return Counter(self.log.read_text(encoding="utf-8").split())

    @property
    def cache_dir(self) -> Path:
        return self.root / "local_cache"

    @property
    def experiments_dir(self) -> Path:
        return self.root / "experiments"




def make_digits_project(root: Path, *, epochs: int = 3) -> Path:
    """The ``runway init`` project plus ``configs/experiments/tiny.jsonnet``."""
    from runway.testing import make_project

    return make_project(root, configs={"tiny": tiny_example(epochs, extra="\n  eval+: { metrics: ['accuracy'] },")})


# ------------------------------------------------------------------ subprocesses


def subprocess_env(**extra: str) -> dict[str, str]:
    """The test's environment for a ``runway`` subprocess (no inherited version)."""
    env = {k: v for k, v in os.environ.items() if k != "RUNWAY_EXPERIMENT_VERSION"}
    env.setdefault("RUNWAY_PLUGINS_BUILTIN_ONLY", "1")
    env.update(extra)
    return env


def start_runway(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``python -m runway ARGS`` in ``root``, stdout and stderr captured as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "runway", *args],
        cwd=root,
        env=env or subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@dataclass
class Finished:
    code: int
    out: str
    err: str
    seconds: float


def run_runway(root: Path, *args: str, env: dict[str, str] | None = None, limit_s: float = 300) -> Finished:
    """Run ``runway ARGS`` to the end; ``seconds`` is its wall time (to place kills, never asserted)."""
    start = time.monotonic()
    proc = start_runway(root, *args, env=env)
    out, err = proc.communicate(timeout=limit_s)
    return Finished(proc.returncode, out, err, time.monotonic() - start)


def kill_after(root: Path, args: tuple[str, ...], delay_s: float, *, env: dict[str, str] | None = None) -> Finished:
    """Start ``runway ARGS``, SIGKILL it after ``delay_s`` (unless it finished first)."""
    start = time.monotonic()
    proc = start_runway(root, *args, env=env)
    try:
        proc.wait(timeout=delay_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    return Finished(proc.returncode, out, err, time.monotonic() - start)


def kill_delays(seed: int, duration_s: float, count: int, *, low: float = 0.05, high: float = 0.95) -> list[float]:
    """``count`` kill delays drawn by a seeded RNG over ``[low, high]`` of a measured duration."""
    rng = random.Random(seed)
    return sorted(rng.uniform(low, high) * duration_s for _ in range(count))


def wait_for(predicate, what: str, limit_s: float = 120.0) -> None:
    """Poll ``predicate()``; the limit only stops a hung test, nothing is timed."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


# ------------------------------------------------------------------ invariants


def cache_entries(cache_dir: Path) -> list[Path]:
    """Entry folders (``<node>/<key>``), temporary and trashed folders excluded."""
    if not cache_dir.is_dir():
        return []
    found = []
    for node_dir in cache_dir.iterdir():
        if not node_dir.is_dir() or node_dir.name.startswith("."):
            continue
        for entry in node_dir.iterdir():
            if entry.is_dir() and not entry.name.startswith((TMP_PREFIX, TRASH_PREFIX)):
                found.append(entry)
    return sorted(found)


def assert_cache_consistent(cache_dir: Path) -> int:
    """Every entry folder is complete and its data matches ``meta.json``; returns how many."""
    entries = cache_entries(cache_dir)
    for entry in entries:
        assert (entry / COMPLETE_MARKER).is_file(), f"{entry} is an entry folder without its completion marker"
        meta = json.loads((entry / META_FILE).read_text(encoding="utf-8"))
        assert data_checksum(entry / DATA_DIR) == meta["checksum"], f"{entry}: data does not match meta.json"
    return len(entries)


def assert_records_readable(experiments_dir: Path) -> None:
    """Every JSON record parses (or is absent) and every checkpoint loads completely."""
    if not experiments_dir.is_dir():
        return
    for name in ("metrics.json", "summary.json", "config.json", "provenance.json", "status.json"):
        for path in experiments_dir.rglob(name):
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise AssertionError(f"{path} is not valid JSON: {exc}") from None
    for path in experiments_dir.rglob("*.jsonl"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                json.loads(line)
            except ValueError as exc:
                raise AssertionError(f"{path}:{number} is not valid JSON: {exc}") from None
    checkpoints = list(experiments_dir.rglob("*.ckpt"))
    if checkpoints:
        import torch

        for path in checkpoints:
            try:
                state = torch.load(path, map_location="cpu", weights_only=False)
            except Exception as exc:  # a torn file fails in many ways
                raise AssertionError(f"{path} is a partial checkpoint: {exc!r}") from None
            assert "state_dict" in state, f"{path} has no state_dict"


def write_fake_distribution(folder: Path, *, dist: str, plugin: str, module: str, source: str, version: str = "0.1") -> Path:
    """A real installed-looking distribution on ``folder``: a module and a ``.dist-info``
    whose ``entry_points.txt`` names it under the ``runway`` group."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = folder / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[runway]\n{plugin} = {module}\n", encoding="utf-8")
    return folder


# A launcher (plugin ``hold``) that only records the job it was handed, so that
# starting a version is tested without paying for a training.
HOLD_LAUNCHER = '''
import json
import os

from runway.hookspecs import hookimpl
from runway.launch.job import JobHandle


@hookimpl
def launch_job(job, launcher):
    if launcher != "hold":
        return None
    (job.version_dir / "held-job.json").write_text(json.dumps({**job.to_dict(), "pid": os.getpid()}))
    return JobHandle(launcher="hold", state="submitted", job_id=str(os.getpid()))
'''


def hold_launcher_env(site: Path) -> dict[str, str]:
    """A subprocess environment in which ``--launcher hold`` exists (and no other installed plugin)."""
    write_fake_distribution(site, dist="runway-hold", plugin="hold", module="hold_launcher", source=HOLD_LAUNCHER)
    env = subprocess_env(PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    env.pop("RUNWAY_PLUGINS_BUILTIN_ONLY", None)
    env["RUNWAY_PLUGINS_ALLOW"] = "hold"
    return env


GATED_EXECUTOR = '''

import os as _os
import time as _time
from pathlib import Path as _Path


@runway.register_executor("gated_classifier")
class GatedClassifier(DigitsClassifier):
    """Pauses after the first training epoch while $RELIABILITY_GATE/go is absent:
    a test acts on the outside world (kills a server) at a known point of training."""

    def on_train_epoch_end(self):
        parent = getattr(super(), "on_train_epoch_end", None)
        if parent is not None:
            parent()
        gate = _os.environ.get("RELIABILITY_GATE")
        if gate and self.current_epoch == 0:
            _Path(gate, "paused").touch()
            while not _Path(gate, "go").exists():
                _time.sleep(0.05)
'''


def add_gated_executor(root: Path) -> None:
    """Register ``gated_classifier`` in the digits project (see :data:`GATED_EXECUTOR`)."""
    with open(root / "executors" / "classifier.py", "a", encoding="utf-8") as handle:
        handle.write(GATED_EXECUTOR)


def assert_clean_failure(result: Result, fragment: str, code: int = 2) -> None:
    """Exit ``code``, ``Error: ...`` naming ``fragment``, and no Python traceback."""
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"unhandled {result.exception!r}:\n{output}"
    )
    assert result.exit_code == code, f"exit {result.exit_code}, expected {code}:\n{output}"
    assert "Traceback (most recent call last)" not in output, output
    assert "Error:" in output, output
    assert fragment in output, f"{fragment!r} not in:\n{output}"
