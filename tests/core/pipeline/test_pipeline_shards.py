"""Sharded transforms (``setup_kwargs._shards``) and ``runway prepare --jobs``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from runway.cli.main import cli
from runway.pipeline import plan_pipeline
from runway.pipeline.cache import CacheStore, node_folder_name
from runway.pipeline.formats import format_registry
from runway.pipeline.shards import SHARDS_PREFIX, shard_name

# Shardable and not: each call appends one line "<transform> <first id>-<last id>" to
# the file named by `_log`, so a test sees which rows every process transformed.
SHARDING = '''
import os
import signal
import threading
import time
from pathlib import Path

import runway


def record(log, line):
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(line + "\\n")


def span(rows):
    return f"{rows[0]['id']}-{rows[-1]['id']}" if rows else "empty"


@runway.register_transform
class Rows(runway.Transform):
    def setup(self, n=20, _log=None):
        self.n, self.log = n, _log

    def _call(self, data):
        record(self.log, "Rows")
        return [{"id": i, "text": f"row {i}"} for i in range(self.n)]


@runway.register_transform
class Square(runway.Transform):
    shardable = True

    def setup(self, _log=None, _fail_once=None, _kill_at=None):
        self.log, self.fail_once, self.kill_at = _log, _fail_once, _kill_at

    def _call(self, rows):
        record(self.log, "Square " + span(rows))
        ids = {r["id"] for r in rows}
        if self.fail_once and 7 in ids and not Path(self.fail_once).exists():
            Path(self.fail_once).write_text("failed once")
            raise RuntimeError("this shard fails once")
        if self.kill_at is not None and self.kill_at in ids:
            os.kill(os.getpid(), signal.SIGKILL)
        return [{**r, "square": r["id"] ** 2} for r in rows]


@runway.register_transform(shardable=True)
def upper(rows, *, _log=None):
    record(_log, "upper " + span(rows))
    return [{**r, "text": r["text"].upper()} for r in rows]


@runway.register_transform
class Meet(runway.Transform):
    """Waits until the other branch has started too: only concurrent branches get past it."""

    def setup(self, me, other, _log=None):
        self.me, self.other, self.log = me, other, _log

    def _call(self, data):
        record(self.log, self.node_name)
        Path(self.me).touch()
        deadline = time.monotonic() + 60
        while not Path(self.other).exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.node_name} ran alone: {self.other} never appeared")
            time.sleep(0.02)
        return [{**r, self.node_name: True} for r in data]


@runway.register_transform
def join(parts, *, _log=None):
    record(_log, "join")
    return [dict(a, **b) for a, b in zip(*parts)]
'''


@pytest.fixture
def shard_project(project, monkeypatch):
    (project.root / "data_processing" / "sharding.py").write_text(SHARDING, encoding="utf-8")
    # the shards' processes need only the built-in plugins and the project's code
    monkeypatch.setenv("RUNWAY_PLUGINS_BUILTIN_ONLY", "1")
    return project


def sharded_config(shards: int | None = 4, **square_kwargs: object) -> dict:
    """input:Rows (20 rows) -> output:Square (shardable), each logging to calls.txt."""
    kwargs: dict = {"_log": "calls.txt", **square_kwargs}
    if shards is not None:
        kwargs["_shards"] = shards
    return {
        "transforms": {
            "input:Rows": {"transform_name": "Rows", "setup_kwargs": {"_log": "calls.txt"}},
            "output:Square": {"transform_name": "Square", "input_node": "input:Rows", "setup_kwargs": kwargs},
        }
    }


def prepare(*args: str):
    return CliRunner().invoke(cli, ["prepare", *args])


def calls(project) -> list[str]:
    log = project.root / "calls.txt"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def entry(project, node: str, cache: str = "local_cache") -> tuple[str, object]:
    """(key, data) of the node's latest entry."""
    root = project.root / cache
    latest = json.loads((root / node_folder_name(node) / "latest.json").read_text())
    from runway.plugins import get_plugins

    store = CacheStore(root, format_registry(get_plugins()))
    with store.lock(node, latest["key"]):
        data, _ = store.load(node, latest["key"])
    return latest["key"], data


def staging(project, node: str) -> list[Path]:
    folder = project.cache_dir / node_folder_name(node)
    return sorted(folder.glob(f"{SHARDS_PREFIX}*")) if folder.is_dir() else []


# ---------------------------------------------------------------- checks before anything runs


def test_shards_do_not_change_the_cache_key(shard_project):
    plain = plan_pipeline(sharded_config(shards=None), shard_project.root)
    sharded = plan_pipeline(sharded_config(shards=8), shard_project.root)
    assert plain.keys == sharded.keys
    assert "_shards" not in json.dumps(sharded.nodes["output:Square"].parts)


def test_shards_on_a_transform_that_is_not_shardable_names_it_and_those_that_are(shard_project):
    config = sharded_config()
    config["transforms"]["input:Rows"]["setup_kwargs"]["_shards"] = 2
    shard_project.write_config("p", config)
    result = prepare("p")
    assert result.exit_code == 2, result.output
    message = result.output
    assert "Traceback" not in message
    assert 'data_pipeline.transforms."input:Rows".setup_kwargs._shards' in message
    assert "transform Rows is not shardable" in message
    assert "Shardable transforms: Square, upper" in message
    assert calls(shard_project) == []


@pytest.mark.parametrize(
    "value, expected",
    [(0, "got 0"), ("4", "got '4'"), (True, "got True")],
)
def test_a_bad_shard_count_is_a_clear_error(shard_project, value, expected):
    shard_project.write_config("p", sharded_config(shards=value))
    result = prepare("p")
    assert result.exit_code == 2
    assert "setup_kwargs._shards: expected an integer of at least 1, " + expected in result.output
    assert "Traceback" not in result.output


def test_a_sharded_node_needs_its_input_and_itself_cached(shard_project):
    config = sharded_config()
    config["transforms"]["input:Rows"]["cache"] = False
    shard_project.write_config("p", config)
    result = prepare("p")
    assert result.exit_code == 2
    assert "its input 'input:Rows' has cache: false" in result.output

    config = sharded_config()
    config["transforms"]["output:Square"]["cache"] = False
    shard_project.write_config("p", config)
    result = prepare("p")
    assert result.exit_code == 2
    assert "a sharded node assembles its entry in the cache" in result.output


def test_a_shard_process_given_a_wrong_key_says_so(shard_project):
    shard_project.write_config("p", sharded_config())
    command = [
        sys.executable, "-m", "runway.pipeline.shards", "--project", str(shard_project.root),
        "--cache-dir", str(shard_project.cache_dir), "output:Square", "0" * 64, "0", "4",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=shard_project.root, timeout=300, check=False)
    assert done.returncode == 2, done.stderr
    assert "no usable shard plan" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------- sharded runs (local processes)


@pytest.mark.slow
def test_four_shards_give_the_unsharded_entry_under_the_same_key(shard_project):
    shard_project.write_config("p", sharded_config(shards=None))
    assert prepare("p").exit_code == 0
    plain_key, plain = entry(shard_project, "output:Square")

    (shard_project.root / "runway.toml").write_text('cache_dir = "sharded_cache"\n')
    (shard_project.root / "calls.txt").unlink()
    shard_project.write_config("p", sharded_config(shards=4))
    result = prepare("p")
    assert result.exit_code == 0, result.output
    sharded_key, sharded = entry(shard_project, "output:Square", "sharded_cache")

    assert sharded_key == plain_key
    assert sharded == plain and len(sharded) == 20
    assert sorted(calls(shard_project)) == ["Rows", "Square 0-4", "Square 10-14", "Square 15-19", "Square 5-9"]
    assert "output:Square: 4 shards; running 4 as local processes" in result.output
    assert not list((shard_project.root / "sharded_cache" / node_folder_name("output:Square")).glob(f"{SHARDS_PREFIX}*"))

    again = prepare("p")  # a plain cache hit
    assert again.exit_code == 0 and "LOAD output:Square" in again.output
    assert len(calls(shard_project)) == 5


@pytest.mark.slow
def test_a_shardable_function_splits_its_rows(shard_project):
    config = {
        "transforms": {
            "input:Rows": {"transform_name": "Rows", "setup_kwargs": {"n": 3}},
            "output:Upper": {
                "transform_name": "upper", "input_node": "input:Rows", "setup_kwargs": {"_log": "calls.txt", "_shards": 4},
            },
        }
    }  # fmt: skip
    shard_project.write_config("p", config)
    result = prepare("p")
    assert result.exit_code == 0, result.output
    # 3 rows over 4 shards: one shard is empty
    assert sorted(calls(shard_project)) == ["upper 0-0", "upper 1-1", "upper 2-2", "upper empty"]
    assert [r["text"] for r in entry(shard_project, "output:Upper")[1]] == ["ROW 0", "ROW 1", "ROW 2"]


@pytest.mark.slow
def test_a_shard_that_fails_once_is_retried_alone(shard_project):
    flag = shard_project.root / "failed-once"
    shard_project.write_config("p", sharded_config(shards=4, _fail_once=str(flag)))
    result = prepare("p")
    assert result.exit_code == 0, result.output
    assert flag.exists()
    squares = [c for c in calls(shard_project) if c.startswith("Square")]
    assert sorted(squares) == ["Square 0-4", "Square 10-14", "Square 15-19", "Square 5-9", "Square 5-9"]
    assert [r["square"] for r in entry(shard_project, "output:Square")[1]] == [i * i for i in range(20)]


@pytest.mark.slow
def test_a_killed_shard_is_recomputed_alone_by_the_next_prepare(shard_project):
    shard_project.write_config("p", sharded_config(shards=4, _kill_at=7, _shard_retries=0))
    failed = prepare("p")
    assert failed.exit_code == 1, failed.output
    assert "Traceback" not in failed.output
    assert "'output:Square': 1 of 4 shards failed" in failed.output
    assert "shard 1 of 4: killed by SIGKILL after 1 attempt(s)" in failed.output
    assert "The 3 completed shard(s) are kept" in failed.output

    (area,) = staging(shard_project, "output:Square")
    key = area.name[len(SHARDS_PREFIX):]
    complete = {i: (area / shard_name(i, 4) / key / "COMPLETE").exists() for i in range(4)}
    assert complete == {0: True, 1: False, 2: True, 3: True}  # the killed shard left nothing that looks done
    kept = {i: (area / shard_name(i, 4) / key / "COMPLETE").stat() for i in (0, 2, 3)}
    assert sorted(calls(shard_project)) == ["Rows", "Square 0-4", "Square 10-14", "Square 15-19", "Square 5-9"]

    # the same key (`_kill_at` begins with "_"): only the killed shard runs again
    (shard_project.root / "calls.txt").unlink()
    seen: dict = {}
    from runway.pipeline import shards

    real_merge = shards.merge_shards_into_entry

    def watch_merge(store, node, key, n_shards, **kwargs):  # the kept shards, just before they are merged
        seen.update({i: (area / shard_name(i, 4) / key / "COMPLETE").stat() for i in (0, 2, 3)})
        return real_merge(store, node, key, n_shards, **kwargs)

    shards.merge_shards_into_entry = watch_merge
    try:
        again = prepare("p", "--opts", "data_pipeline.transforms.output:Square.setup_kwargs._kill_at=null")
    finally:
        shards.merge_shards_into_entry = real_merge
    assert again.exit_code == 0, again.output
    assert "LOAD input:Rows" in again.output
    assert "4 shards, 3 reused from an earlier run; running 1 as local processes" in again.output
    assert calls(shard_project) == ["Square 5-9"]
    assert {i: (s.st_ino, s.st_mtime_ns) for i, s in seen.items()} == {i: (s.st_ino, s.st_mtime_ns) for i, s in kept.items()}
    assert entry(shard_project, "output:Square")[0] == key
    assert [r["square"] for r in entry(shard_project, "output:Square")[1]] == [i * i for i in range(20)]
    assert staging(shard_project, "output:Square") == []


@pytest.mark.slow
def test_a_shard_and_the_merge_run_from_processes_of_their_own(shard_project):
    """What a launcher that runs each shard as a job does: the module entry point, then --merge."""
    shard_project.write_config("p", sharded_config(shards=4, _kill_at=12, _shard_retries=0))
    assert prepare("p").exit_code == 1  # shard 2 (rows 10-14) was killed; the plan is staged
    (area,) = staging(shard_project, "output:Square")
    key = area.name[len(SHARDS_PREFIX):]
    (shard_project.root / "calls.txt").unlink()

    def entry_point(*args: str) -> subprocess.CompletedProcess:
        command = [
            sys.executable, "-m", "runway.pipeline.shards", "--cache-dir", str(shard_project.cache_dir),
            "output:Square", key, *args,
        ]  # fmt: skip
        return subprocess.run(command, capture_output=True, text=True, cwd=shard_project.root, timeout=300, check=False)

    early = entry_point("--merge", "0", "4")
    assert early.returncode == 2 and "shard(s) 2 of 4 are not complete" in early.stderr
    done = entry_point("2", "4")  # the staged plan still says _kill_at: 12
    assert done.returncode == -9
    plan_file = area / "plan.json"
    plan = json.loads(plan_file.read_text())
    plan["setup_kwargs"]["_kill_at"] = None  # a "_" kwarg: the plan still matches the key
    plan_file.write_text(json.dumps(plan))
    done = entry_point("2", "4")
    assert (done.returncode, done.stdout.strip()) == (0, "computed"), done.stderr
    assert entry_point("2", "4").stdout.strip() == "reused"
    merged = entry_point("--merge", "0", "4")
    assert (merged.returncode, merged.stdout.strip()) == (0, "merged"), merged.stderr
    assert calls(shard_project) == ["Square 10-14", "Square 10-14"]  # killed, then computed
    assert staging(shard_project, "output:Square") == []

    loaded = prepare("p")
    assert loaded.exit_code == 0 and "LOAD output:Square" in loaded.output
    assert [r["square"] for r in entry(shard_project, "output:Square")[1]] == [i * i for i in range(20)]

    tampered = dict(plan, setup_kwargs={**plan["setup_kwargs"], "x": 1})
    area.mkdir(parents=True)
    plan_file.write_text(json.dumps(tampered))
    refused = entry_point("0", "4")
    assert refused.returncode == 2 and "differ from its key parts" in refused.stderr


@pytest.mark.slow
def test_regenerate_discards_kept_shards_and_gc_deletes_them(shard_project):
    shard_project.write_config("p", sharded_config(shards=4, _kill_at=3, _shard_retries=0))
    assert prepare("p").exit_code == 1  # shard 0 killed, shards 1-3 kept
    (shard_project.root / "calls.txt").unlink()
    no_kill = ("--opts", "data_pipeline.transforms.output:Square.setup_kwargs._kill_at=null")
    again = prepare("p", "--regenerate", "output:Square", *no_kill)
    assert again.exit_code == 0, again.output
    assert sorted(c for c in calls(shard_project) if c.startswith("Square")) == [
        "Square 0-4", "Square 10-14", "Square 15-19", "Square 5-9",
    ]  # fmt: skip
    assert "reused" not in again.output

    shard_project.write_config("p", sharded_config(shards=4, _kill_at=18, _shard_retries=0))
    assert prepare("p", "--regenerate", "output:Square").exit_code == 1
    (area,) = staging(shard_project, "output:Square")
    collected = CliRunner().invoke(cli, ["cache", "gc"])
    assert collected.exit_code == 0, collected.output
    assert "(shards of an unfinished run)" in collected.output
    assert not area.exists()


# ---------------------------------------------------------------- --jobs


def diamond(tmp: Path) -> dict:
    """input:Rows -> (process:Left, process:Right) -> output:Join; Left and Right wait for each other."""
    left, right = str(tmp / "left-started"), str(tmp / "right-started")
    log = {"_log": "calls.txt"}
    return {
        "transforms": {
            "input:Rows": {"transform_name": "Rows", "setup_kwargs": {"n": 3, **log}},
            "process:Left": {"transform_name": "Meet", "input_node": "input:Rows", "setup_kwargs": {"me": left, "other": right, **log}},
            "process:Right": {"transform_name": "Meet", "input_node": "input:Rows", "setup_kwargs": {"me": right, "other": left, **log}},
            "output:Join": {"transform_name": "join", "input_node": ["process:Left", "process:Right"], "setup_kwargs": log},
        }
    }  # fmt: skip


def test_jobs_2_runs_independent_branches_together_and_each_node_once(shard_project, tmp_path):
    shard_project.write_config("p", diamond(tmp_path))
    result = prepare("p", "--jobs", "2")
    assert result.exit_code == 0, result.output
    assert sorted(calls(shard_project)) == ["Rows", "join", "process:Left", "process:Right"]
    _, rows = entry(shard_project, "output:Join")
    assert rows == [{"id": i, "text": f"row {i}", "process:Left": True, "process:Right": True} for i in range(3)]

    again = prepare("p", "--jobs", "2")
    assert again.exit_code == 0 and "LOAD output:Join" in again.output
    assert len(calls(shard_project)) == 4


def test_jobs_stops_at_a_failed_node_and_names_it(shard_project):
    config = {
        "transforms": {
            "input:Rows": {"transform_name": "Rows", "setup_kwargs": {"_log": "calls.txt"}},
            "process:Square": {"transform_name": "Square", "input_node": "input:Rows", "setup_kwargs": {"_log": "calls.txt"}},
            "process:Bad": {"transform_name": "Rows", "setup_kwargs": {"n": "many"}},
            "output:Join": {"transform_name": "join", "input_node": ["process:Square", "process:Bad"], "setup_kwargs": {"_log": "calls.txt"}},
        }
    }  # fmt: skip
    shard_project.write_config("p", config)
    result = prepare("p", "--jobs", "2")
    assert result.exit_code == 1
    assert isinstance(result.exception, TypeError)
    assert any("'process:Bad'" in note for note in result.exception.__notes__)
    assert "join" not in calls(shard_project)


def test_jobs_must_be_positive(shard_project):
    shard_project.write_config("p", sharded_config(shards=None))
    result = prepare("p", "--jobs", "0")
    assert result.exit_code == 2 and "--jobs" in result.output
