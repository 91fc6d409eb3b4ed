"""Versions, status, provenance and atomic records (no training)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from runway.errors import ExperimentError
from runway.experiment.provenance import MAX_PATCH_BYTES, collect_provenance, git_state
from runway.support.files import read_json, write_json
from runway.experiment.status import read_status, write_failure, write_status
from runway.experiment.store import ExperimentStore
from runway.experiment.versions import allocate_version, check_name, parse_folder_name

ALLOCATE = """
import sys
from runway.experiment.versions import allocate_version
sys.stdin.readline()  # wait for the go, so the starts overlap
number, _ = allocate_version(sys.argv[1], "race")
print(number)
"""


def test_eight_concurrent_starts_get_eight_versions(tmp_path):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ALLOCATE, str(tmp_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = [p.communicate("go\n", timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    numbers = sorted(int(out.strip()) for out, _ in outputs)
    assert numbers == list(range(1, 9))
    assert ExperimentStore(tmp_path).versions("race") == list(range(1, 9))


def test_allocation_skips_a_folder_that_appeared(tmp_path):
    (tmp_path / "exp_V1").mkdir()
    (tmp_path / "exp_V3").mkdir()
    assert allocate_version(tmp_path, "exp")[0] == 4
    assert allocate_version(tmp_path, "other")[0] == 1


def test_store_lookup_and_errors(tmp_path):
    store = ExperimentStore(tmp_path)
    with pytest.raises(ExperimentError, match="has no versions"):
        store.get("exp")
    store.allocate("exp")
    store.allocate("exp")
    assert store.get("exp").number == 2
    assert store.get("exp", 1).label == "exp_V1"
    with pytest.raises(ExperimentError, match="no version 7; it has 1, 2"):
        store.get("exp", 7)
    assert [v.label for v in store.all()] == ["exp_V1", "exp_V2"]


def test_names_and_folders():
    assert parse_folder_name("my_exp_V12") == ("my_exp", 12)
    assert parse_folder_name("my_exp") is None
    with pytest.raises(ExperimentError, match="invalid experiment name"):
        check_name("../up")


def test_status_of_a_dead_owner_reads_interrupted(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    write_status(tmp_path, "running", job_type="train")
    assert read_status(tmp_path)["state"] == "running"  # this process owns it
    record = read_json(tmp_path / "status.json")
    write_json(tmp_path / "status.json", {**record, "pid": pid})
    status = read_status(tmp_path)
    assert status["state"] == "interrupted" and str(pid) in status["reason"]
    # another host's process cannot be checked from here
    write_json(tmp_path / "status.json", {**record, "pid": pid, "host": socket.gethostname() + "-other"})
    assert read_status(tmp_path)["state"] == "running"


def test_failure_records_the_error(tmp_path):
    try:
        raise ValueError("bad thing")
    except ValueError as exc:
        write_failure(tmp_path, exc, job_type="train")
    status = read_status(tmp_path)
    assert status["state"] == "failed" and status["error"] == "ValueError: bad thing"
    assert "Traceback" in status["traceback"]


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    write_json(tmp_path / "a.json", {"b": 1})
    assert json.loads((tmp_path / "a.json").read_text()) == {"b": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_provenance_records_git_commit_and_patch(tmp_path):
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "start")
    (tmp_path / "tracked.txt").write_text("one\n")
    _git(tmp_path, "add", "tracked.txt")
    _git(tmp_path, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "-m", "add")
    (tmp_path / "tracked.txt").write_text("two\n")
    (tmp_path / "new.txt").write_text("x")
    record = collect_provenance(
        argv=["runway", "train", "x"], project_root=tmp_path, experiment="x", version=1,
        config_fingerprint="f" * 64, parent="base",
    )
    git = record["git"]
    assert len(git["commit"]) == 40 and git["dirty"]
    assert "+two" in git["patch"] and git["untracked"] == ["new.txt"]
    assert record["parent"] == "base" and record["data"] == {}
    assert record["python"] == sys.version.split()[0] and record["host"] == socket.gethostname()
    (tmp_path / "tracked.txt").write_text("z" * (MAX_PATCH_BYTES + 10))
    big = git_state(tmp_path)
    assert big["patch_truncated"] and len(big["patch"]) <= MAX_PATCH_BYTES


def test_provenance_outside_git(tmp_path):
    assert git_state(tmp_path) is None


def test_tracked_job_records_each_ending(tmp_path):
    from runway.errors import ConfigError, RunFailed
    from runway.job.execute import tracked

    version = ExperimentStore(tmp_path).allocate("exp")
    with tracked(version, "train"):
        assert version.status["state"] == "running"
    assert version.status["state"] == "completed"
    with pytest.raises(RunFailed, match="train of exp_V1 failed: ZeroDivisionError"):
        with tracked(version, "train"):
            1 / 0
    assert version.status["state"] == "failed" and "ZeroDivisionError" in version.status["error"]
    with pytest.raises(ConfigError):
        with tracked(version, "train"):
            raise ConfigError("bad key")
    assert version.status["error"] == "ConfigError: bad key"
    for interruption in (KeyboardInterrupt(), SystemExit(1)):
        with pytest.raises(type(interruption)):
            with tracked(version, "train"):
                raise interruption
        assert version.status["state"] == "interrupted"
