"""Starting, running, following and resuming sweeps.

A sweep is one experiment run once per point. Each point gets its own
experiment version, allocated by the sweep (so the ledger knows it before
the job starts), with ``config.json`` resolved for the point and
``provenance.json`` recording ``sweep: {id, point, overrides}``. The job is
the ordinary ``runway train|run NAME --opts ... --version N`` command.

With ``--launcher local`` the points run as subprocesses of the sweep, one
after another or ``parallel`` at a time, and the sweep waits for them. With
any other launcher every version is allocated first and all the jobs are
handed over at once through ``launch_array`` (SLURM: one job array), or one
by one through ``launch_job`` where no plugin submits arrays.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.errors import ConfigError, ExperimentError
from runway.sweep.ledger import FINAL_STATES, Ledger, create_ledger, runner_alive
from runway.sweep.space import Axis, Point, expand_grid, parse_axes, sample_random
from runway.sweep.state import observe_point

LOCAL = "local"
COMMANDS = ("train", "run")
POINT_LOG = "sweep.log"
POLL_S = 0.2
FOLLOW_POLL_S = 2.0
# how long stopped points get to record that they were interrupted
STOP_GRACE_S = 30.0

Echo = Callable[[str], None]


@dataclass
class SweepSource:
    """The experiment a sweep runs: its project, name, base config and CLI arguments."""

    project: Any
    name: str
    config: dict[str, Any]
    argv: list[str]
    config_file: str | None = None

    @property
    def experiments_dir(self) -> Path:
        return Path(self.project.experiments_dir)


@dataclass
class Outcome:
    """What a sweep run ended with, for the exit code and the summary line."""

    counts: dict[str, int] = field(default_factory=dict)
    stopped_early: bool = False

    @property
    def failed(self) -> bool:
        return bool(self.counts.get("failed") or self.counts.get("interrupted"))


def resolve_source(name: str, config_file: str | Path | None) -> SweepSource:
    """The experiment NAME (or ``--config FILE``) without overrides."""
    from runway.cli.common import resolve_config
    from runway.experiment.versions import check_name

    check_name(name)
    project, config = resolve_config(name, config_file, ())
    argv = [name]
    if config_file is not None:
        config_file = str(Path(config_file).resolve())
        argv += ["--config", config_file]
    return SweepSource(project, name, config, argv, config_file)


def build_points(axes: Sequence[Axis], random_count: int | None, seed: int | None) -> list[Point]:
    if random_count is None:
        return expand_grid(axes)
    return sample_random(axes, random_count, 0 if seed is None else seed)


def check_points(source: SweepSource, points: Sequence[Point]) -> list[dict[str, Any]]:
    """Every point's resolved config, checked before anything runs (a bad key is found now)."""
    from runway.config import apply_overrides, validate

    configs = []
    for index, point in enumerate(points):
        try:
            config = apply_overrides(source.config, point.tokens())
            validate(config)
        except ConfigError as exc:
            raise ConfigError(f"sweep point {index} ({' '.join(point.tokens())}): {exc}") from None
        configs.append(config)
    return configs


def _distributions() -> tuple[str, ...]:
    from runway.plugins import get_plugins

    info = get_plugins().info.values()
    return tuple(sorted({i.distribution for i in info if i.distribution and not i.builtin}))


def create_sweep(
    source: SweepSource,
    tokens: Sequence[str],
    *,
    command: str,
    launcher: str,
    random_count: int | None = None,
    seed: int | None = None,
    parallel: int = 1,
    fail_fast: bool = False,
) -> Ledger:
    """Expand and check the points and write the sweep's ledger (nothing runs yet)."""
    from runway.config.redact import redact_argv

    if command not in COMMANDS:
        raise ConfigError(f"--command {command!r}: use one of {', '.join(COMMANDS)}")
    if not tokens:
        raise ConfigError("runway sweep needs --opts KEY=V1,V2 ... (the values to sweep)")
    if parallel < 1:
        raise ConfigError(f"--parallel {parallel}: run at least one point at a time")
    if random_count is not None and seed is None:
        import secrets

        seed = secrets.randbelow(2**31)
    axes = parse_axes(tokens)
    points = build_points(axes, random_count, seed)
    check_points(source, points)
    swept = [a.key.lstrip("+") for a in axes if a.swept]
    record = {
        "experiment": source.name,
        "command": command,
        "source_argv": source.argv,
        "launcher": launcher,
        "parallel": parallel,
        "fail_fast": fail_fast,
        "mode": "grid" if random_count is None else "random",
        "seed": seed,
        "axes": [a.describe() for a in axes],
        "swept_keys": swept,
        "argv": redact_argv(sys.argv),
        "points": [
            {"index": i, "overrides": p.overrides, "opts": p.tokens(), "state": "pending", "version": None, "error": None, "attempts": []}
            for i, p in enumerate(points)
        ],
    }
    return create_ledger(source.experiments_dir, source.name, record)


class PointStarter:
    """Allocates a point's version and writes its records; builds its job.

    Provenance (git state, packages) is collected once per sweep run, not
    once per point: it is the same for all of them and asking git costs
    subprocesses.
    """

    def __init__(self, source: SweepSource, ledger: Ledger, data: dict[str, Any], launcher: str) -> None:
        from runway.experiment.jobs import command_line
        from runway.experiment.provenance import collect_provenance
        from runway.experiment.store import ExperimentStore

        self.source = source
        self.ledger = ledger
        self.data = data
        self.launcher = launcher
        self.store = ExperimentStore.for_project(source.project)
        parent = source.config.get("parent") if isinstance(source.config.get("parent"), str) else None
        self.provenance = collect_provenance(
            argv=command_line(),
            project_root=source.project.root,
            experiment=source.name,
            version=0,
            config_fingerprint="",
            parent=parent,
            tag=[self.tag],
            launcher=launcher,
            plugin_distributions=_distributions(),
        )

    @property
    def tag(self) -> str:
        return f"sweep={self.ledger.id}"

    def start(self, index: int, config: dict[str, Any] | None = None) -> tuple[Any, Any]:
        """Allocate point ``index``'s version; returns ``(version, job)``.

        ``config`` is the point's resolved config when the caller has it.
        The records are renamed into place but not flushed to disk one by
        one; call :func:`flush_records` before handing the jobs over.
        """
        from runway.config import apply_overrides, fingerprint, redact
        from runway.experiment.provenance import PROVENANCE_FILE
        from runway.experiment.status import STATUS_FILE, now_iso
        from runway.experiment.store import CONFIG_FILE
        from runway.experiment.versions import VERSION_ENV
        from runway.launch.job import Job

        point = self.data["points"][index]
        if config is None:
            config = apply_overrides(self.source.config, point["opts"])
        version = self.store.allocate(self.source.name)
        now = now_iso()
        _write_json(version.path / CONFIG_FILE, redact(config))
        provenance = {
            **self.provenance,
            "version": version.number,
            "config_fingerprint": fingerprint(config),
            "created": now,
            "sweep": {"id": self.ledger.id, "point": index, "overrides": redact(point["overrides"])},
        }
        _write_json(version.path / PROVENANCE_FILE, provenance)
        # the record that runway.experiment.status.write_status(..., "pending") writes
        _write_json(
            version.path / STATUS_FILE,
            {"state": "pending", "pid": None, "host": None, "updated": now, "started": None, "job_type": None, "launcher": self.launcher},
        )
        opts = ["--opts", *point["opts"]] if point["opts"] else []
        job = Job(
            argv=[self.data["command"], *self.source.argv, *opts, "--version", str(version.number), "--tag", self.tag],
            experiment=self.source.name,
            version=version.number,
            version_dir=version.path,
            project_root=Path(self.source.project.root),
            resources=dict(((config.get("launcher") or {}).get(self.launcher)) or {}),
            env={VERSION_ENV: str(version.number)},
            wait=False,
        )
        return version, job


def _write_json(path: Path, data: Any) -> None:
    """Write through a temporary file and a rename, like every trusted record, without an fsync each.

    Hundreds of per-file fsyncs dominate submitting a large sweep; one
    :func:`flush_records` covers them all before any job can read them.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def flush_records() -> None:
    """Flush the records written by :meth:`PointStarter.start` to disk."""
    os.sync()


def describe_point(data: dict[str, Any], point: dict[str, Any]) -> str:
    """``lr=0.001 batch=32``: the swept keys' values of a point."""
    keys = data.get("swept_keys") or [k.lstrip("+") for k in point["overrides"]]
    shown = {k.lstrip("+"): v for k, v in point["overrides"].items()}
    return " ".join(f"{k}={json.dumps(shown[k])}" for k in keys if k in shown)


# --------------------------------------------------------------------------- local


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM to the sweep stops it like Ctrl-C: the running points are stopped and recorded."""

    def raise_interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, raise_interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class _Running:
    process: subprocess.Popen
    version: Any
    log: Any
    started: float


def _spawn(job: Any) -> tuple[subprocess.Popen, Any]:
    log = open(Path(job.version_dir) / POINT_LOG, "ab")  # noqa: SIM115 (closed when the point ends)
    env = {**os.environ, **job.env}
    process = subprocess.Popen(
        [sys.executable, "-m", "runway", *job.argv],
        cwd=str(job.project_root),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    return process, log


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _stop(running: dict[int, _Running]) -> None:
    """Ask every running point to stop (SIGINT: it records itself interrupted), then make sure."""
    for item in running.values():
        if item.process.poll() is None:
            item.process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_S
    for item in running.values():
        try:
            item.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            item.process.kill()
            item.process.wait()


def run_local(
    source: SweepSource,
    ledger: Ledger,
    indices: Sequence[int],
    *,
    parallel: int,
    fail_fast: bool,
    echo: Echo,
) -> Outcome:
    """Run the points ``indices`` as subprocesses, ``parallel`` at a time, recording each in the ledger."""
    from runway.experiment.status import now_iso, read_status

    ledger.claim_runner()
    data = ledger.read()
    starter = PointStarter(source, ledger, data, LOCAL)
    total = len(data["points"])
    queue = deque(indices)
    running: dict[int, _Running] = {}
    outcome = Outcome()

    def finish(index: int, item: _Running) -> None:
        item.log.close()
        code = item.process.returncode
        status = read_status(item.version.path)
        state = status.get("state")
        if code == 0 and state == "completed":
            fields = {"state": "completed", "error": None}
        elif state == "interrupted" or code in (-signal.SIGINT, 130) and state != "failed":
            fields = {"state": "interrupted", "error": status.get("reason") or "interrupted"}
        else:
            error = status.get("error") or f"exit code {code}: {_tail(item.version.path / POINT_LOG, 1)}"
            fields = {"state": "failed", "error": error}
        ledger.update_point(index, finished=now_iso(), **fields)
        outcome.counts[fields["state"]] = outcome.counts.get(fields["state"], 0) + 1
        took = time.monotonic() - item.started
        suffix = f": {fields['error']}" if fields["error"] else ""
        echo(f"[{index + 1}/{total}] {item.version.label}: {fields['state']} in {took:.1f} s{suffix}")
        if fields["state"] == "failed":
            echo(f"    log: {item.version.path / POINT_LOG}")

    with _terminate_as_interrupt():
        try:
            while queue or running:
                while queue and len(running) < parallel and not outcome.stopped_early:
                    index = queue.popleft()
                    version, job = starter.start(index)
                    flush_records()
                    process, log = _spawn(job)
                    running[index] = _Running(process, version, log, time.monotonic())
                    ledger.update_point(
                        index, state="running", version=version.number, label=version.label, error=None,
                        started=now_iso(), finished=None, job={"launcher": LOCAL, "pid": process.pid},
                    )
                    echo(f"[{index + 1}/{total}] {version.label}: running  {describe_point(data, data['points'][index])}")
                done = [i for i, item in running.items() if item.process.poll() is not None]
                for index in done:
                    finish(index, running.pop(index))
                    if fail_fast and outcome.counts.get("failed") and not outcome.stopped_early:
                        outcome.stopped_early = True
                        echo(f"--fail-fast: stopping after the first failure; {len(queue)} point(s) not started")
                        queue.clear()
                        _stop(running)
                if not done:
                    time.sleep(POLL_S)
        except KeyboardInterrupt:
            echo(f"sweep {ledger.id} interrupted; stopping {len(running)} running point(s)")
            _stop(running)
            for index, item in running.items():
                item.log.close()
                ledger.update_point(index, state="interrupted", error="the sweep was interrupted", finished=now_iso())
            raise
    return outcome


# --------------------------------------------------------------------------- other launchers


def submit_points(source: SweepSource, ledger: Ledger, indices: Sequence[int], *, launcher: str, echo: Echo) -> None:
    """Allocate every point's version, then hand all the jobs to ``launcher`` at once."""
    from runway.errors import RunwayError
    from runway.experiment.status import now_iso, write_failure
    from runway.plugins import get_plugins

    plugins = get_plugins()
    available = plugins.implementers("launch_job")
    if launcher not in available:
        raise plugins.unknown("launcher", launcher, available)
    data = ledger.read()
    starter = PointStarter(source, ledger, data, launcher)
    started = [starter.start(index) for index in indices]
    flush_records()
    ledger.update_points(
        {i: {"state": "pending", "version": v.number, "label": v.label, "error": None, "started": None, "finished": None, "job": None}
         for i, (v, _) in zip(indices, started)}
    )
    jobs = [job for _, job in started]
    folder = ledger.folder
    folder.mkdir(parents=True, exist_ok=True)
    try:
        handles = plugins.hook.launch_array(jobs=jobs, launcher=launcher, folder=str(folder))
        as_array = handles is not None
        if handles is None:
            echo(f"launcher {launcher!r} submits no job arrays; submitting {len(jobs)} jobs one by one")
            handles = [plugins.hook.launch_job(job=job, launcher=launcher) for job in jobs]
    except (RunwayError, Exception) as exc:
        for index, (version, _) in zip(indices, started):
            write_failure(version.path, exc, job_type=data["command"])
        ledger.update_points({i: {"state": "failed", "error": f"submission failed: {exc}"} for i in indices})
        raise
    fields: dict[int, dict[str, Any]] = {}
    for index, (version, _), handle in zip(indices, started, handles):
        record = dict((handle.info or {}).get("record") or {"launcher": launcher, "job_id": handle.job_id})
        state = {"completed": "completed", "failed": "failed"}.get(handle.state, "pending")
        fields[index] = {"state": state, "job": record, "submitted": now_iso()}
    ledger.update_points(fields)
    first = handles[0].job_id if handles else None
    how = f"as one job array ({str(first).split('_')[0]})" if as_array and first else "as separate jobs"
    echo(f"sweep {ledger.id}: submitted {len(jobs)} point(s) to {launcher} {how}")


# --------------------------------------------------------------------------- state


def observe(ledger: Ledger, *, persist: bool = True) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ledger and each point's observed state now; final states found are written back."""
    from runway.plugins import get_plugins

    data = ledger.read()
    experiments_dir = ledger.path.parent.parent
    plugins = get_plugins()
    alive = runner_alive(data.get("runner"))

    def job_status(record: dict[str, Any]) -> dict[str, Any] | None:
        return plugins.hook.job_status(record=record)

    observed = [
        observe_point(p, experiments_dir, data["experiment"], runner_alive=alive, job_status=job_status)
        for p in data["points"]
    ]
    changes = {
        p["index"]: {"state": seen["state"], "error": seen.get("error")}
        for p, seen in zip(data["points"], observed)
        if seen["state"] != p.get("state") and (seen["state"] in FINAL_STATES or seen["state"] == "running")
    }
    if persist and changes:
        data = ledger.update_points(changes)
    return data, observed


def follow(ledger: Ledger, *, echo: Echo, poll_s: float = FOLLOW_POLL_S) -> list[dict[str, Any]]:
    """Print each point's state changes until every point is final; returns the last observation."""
    shown: dict[int, str] = {}
    while True:
        data, observed = observe(ledger)
        for point, seen in zip(data["points"], observed):
            state = seen["state"]
            if shown.get(point["index"]) != state:
                label = point.get("label") or "-"
                detail = f": {seen['error']}" if seen.get("error") and state != "completed" else ""
                echo(f"[{point['index'] + 1}/{len(observed)}] {label}: {state}{detail}")
                shown[point["index"]] = state
        if all(seen["state"] in FINAL_STATES or seen["state"] == "missing" for seen in observed):
            return observed
        time.sleep(poll_s)


def counts(observed: Sequence[dict[str, Any]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for seen in observed:
        found[seen["state"]] = found.get(seen["state"], 0) + 1
    return found


# --------------------------------------------------------------------------- start / resume


def run_points(
    source: SweepSource,
    ledger: Ledger,
    indices: Sequence[int],
    *,
    launcher: str,
    parallel: int,
    fail_fast: bool,
    wait: bool,
    echo: Echo,
) -> Outcome:
    """Run (local) or submit (other launchers) the points ``indices`` of a sweep."""
    if launcher == LOCAL:
        return run_local(source, ledger, indices, parallel=parallel, fail_fast=fail_fast, echo=echo)
    submit_points(source, ledger, indices, launcher=launcher, echo=echo)
    if not wait:
        return Outcome(counts={"pending": len(indices)})
    return Outcome(counts=counts(follow(ledger, echo=echo)))


def points_to_resume(data: dict[str, Any], observed: Sequence[dict[str, Any]]) -> list[int]:
    """The points that ``resume`` runs again: failed, interrupted, missing, or never started.

    A point still running, or waiting in a launcher's queue, is an error:
    resuming it would run it twice.
    """
    busy = [
        f"{p.get('label') or p['index']} ({seen['state']})"
        for p, seen in zip(data["points"], observed)
        if seen["state"] == "running" or seen.get("queued")
    ]
    if busy:
        raise ExperimentError(
            f"sweep {data['id']} still has {len(busy)} point(s) running or queued: {', '.join(busy[:5])}; "
            f"wait for them (`runway sweep status {data['id']} --watch`) or cancel them first"
        )
    return [
        p["index"]
        for p, seen in zip(data["points"], observed)
        if seen["state"] in ("failed", "interrupted", "missing") or (seen["state"] == "pending" and p.get("version") is None)
    ]


def reset_points(ledger: Ledger, indices: Sequence[int], observed: Sequence[dict[str, Any]]) -> None:
    """Move the points' last version into ``attempts`` and mark them pending again.

    A left-behind version whose own status never got past ``pending`` or
    ``running`` (its job was killed before it could say so) is marked
    ``interrupted``, so that ``runway list`` tells the truth about it too.
    """
    from runway.experiment.status import read_status, write_status
    from runway.sweep.state import version_path

    data = ledger.read()
    for index in indices:
        path = version_path(ledger.path.parent.parent, data["experiment"], data["points"][index])
        if path is not None and path.is_dir() and read_status(path).get("state") in ("pending", "running", "unknown"):
            write_status(path, "interrupted", reason=observed[index].get("error") or "rerun by `runway sweep resume`")

    def change(data: dict[str, Any]) -> None:
        for index in indices:
            point = data["points"][index]
            if point.get("version") is not None:
                point.setdefault("attempts", []).append(
                    {"version": point["version"], "state": observed[index]["state"], "error": observed[index].get("error")}
                )
            point.update(state="pending", version=None, label=None, error=None, job=None, started=None, finished=None)

    ledger.update(change)

