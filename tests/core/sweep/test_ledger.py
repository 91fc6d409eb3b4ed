"""The sweep ledger: locked atomic updates, finding sweeps, and what resume picks."""

from __future__ import annotations

import threading

import pytest

from runway.errors import ExperimentError
from runway.experiment.status import write_status
from runway.sweep.ledger import create_ledger, find_ledger
from runway.sweep.runner import points_to_resume
from runway.sweep.state import observe_point


def _points(n: int) -> list[dict]:
    return [{"index": i, "overrides": {"k": i}, "opts": [f"k={i}"], "state": "pending", "version": None, "error": None, "attempts": []} for i in range(n)]


def _ledger(tmp_path, n=4, experiment="exp"):
    return create_ledger(tmp_path, experiment, {"experiment": experiment, "launcher": "local", "points": _points(n)})


def test_concurrent_updates_are_never_lost(tmp_path):
    ledger = _ledger(tmp_path, n=8)

    def work(index: int) -> None:
        for round_ in range(5):
            ledger.update_point(index, state="running", round=round_)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [p["round"] for p in ledger.read()["points"]] == [4] * 8
    assert not list(ledger.path.parent.glob("*.tmp"))


def test_ids_count_up_per_experiment_and_are_found_by_id_or_experiment(tmp_path):
    first, second, other = _ledger(tmp_path), _ledger(tmp_path), _ledger(tmp_path, experiment="group/b")
    assert (first.id, second.id, other.id) == ("exp-1", "exp-2", "group__b-1")
    assert find_ledger(tmp_path, None).id == "group__b-1"
    assert find_ledger(tmp_path, "exp").id == "exp-2"
    assert find_ledger(tmp_path, "exp-1").id == "exp-1"
    assert find_ledger(tmp_path, "group/b").id == "group__b-1"
    with pytest.raises(ExperimentError, match="no sweep 'exp-9'.*Sweeps: exp-1, exp-2, group__b-1"):
        find_ledger(tmp_path, "exp-9")


def _observe(point, tmp_path, alive):
    return observe_point(point, tmp_path, "exp", runner_alive=alive, job_status=lambda record: None)


def test_a_local_point_left_running_by_a_dead_sweep_is_interrupted(tmp_path):
    folder = tmp_path / "exp_V1"
    folder.mkdir()
    write_status(folder, "pending")
    point = {**_points(1)[0], "state": "running", "version": 1, "job": {"launcher": "local", "pid": 1}}
    assert _observe(point, tmp_path, alive=True)["state"] == "running"
    assert _observe(point, tmp_path, alive=False)["state"] == "interrupted"
    write_status(folder, "completed")
    assert _observe(point, tmp_path, alive=False)["state"] == "completed"
    write_status(folder, "failed", error="ValueError: boom")
    assert _observe(point, tmp_path, alive=True) == {"state": "failed", "error": "ValueError: boom"}
    # a running status whose process is gone (same host) reads as interrupted
    write_status(folder, "running", pid=2**22 + 12345)
    assert _observe(point, tmp_path, alive=True)["state"] == "interrupted"


def test_resume_picks_failed_interrupted_missing_and_never_started_points(tmp_path):
    data = {"id": "exp-1", "launcher": "local", "points": [
        {**p, "version": p["index"] + 1, "label": f"exp_V{p['index'] + 1}"} for p in _points(5)
    ]}
    data["points"][4]["version"] = None
    observed = [{"state": "completed"}, {"state": "failed"}, {"state": "interrupted"}, {"state": "missing"}, {"state": "pending"}]
    assert points_to_resume(data, observed) == [1, 2, 3, 4]

    observed[0] = {"state": "running"}
    with pytest.raises(ExperimentError, match="still has 1 point.*exp_V1 \\(running\\)"):
        points_to_resume(data, observed)
    observed[0] = {"state": "pending", "queued": True}
    with pytest.raises(ExperimentError, match="running or queued"):
        points_to_resume(data, observed)
    assert points_to_resume(data, [{"state": "completed"}] * 5) == []
