"""Local sweeps end to end: real training in subprocesses, compare, kill and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from runway.experiment.store import ExperimentStore
from runway.sweep.ledger import find_ledger
from runway.sweep.runner import observe

WAIT_LIMIT_S = 400


def _points(project):
    return find_ledger(project / "experiments", None).read()["points"]


@pytest.mark.slow
@pytest.mark.timeout(WAIT_LIMIT_S)
def test_a_four_point_sweep_runs_locally_and_compares_side_by_side(project, invoke, runway_builtin_plugins, tmp_path):
    result = invoke(
        "sweep", "tiny", "--opts", "executor.optimizer.lr=0.01,0.001", "train.batch_size=16,32", "train.epochs=2",
        "--command", "run", "--parallel", "2",
    )

    assert result.exit_code == 0, result.output
    assert "sweep tiny-1: 4 completed" in result.output
    points = _points(project)
    assert [p["state"] for p in points] == ["completed"] * 4
    store = ExperimentStore(project / "experiments")
    assert store.versions("tiny") == [1, 2, 3, 4]
    for point in points:
        version = store.get("tiny", point["version"])
        assert version.status["state"] == "completed"
        assert version.provenance["sweep"]["overrides"] == point["overrides"]
        assert version.config["executor"]["optimizer"]["lr"] == point["overrides"]["executor.optimizer.lr"]
        assert version.config["train"]["batch_size"] == point["overrides"]["train.batch_size"]
        assert version.metrics("test")["accuracy"] >= 0

    compared = invoke("compare", "tiny")
    assert compared.exit_code == 0, compared.output
    header, *rows = compared.output.splitlines()[:5]
    assert header.split()[:4] == ["VERSION", "STATE", "executor.optimizer.lr", "train.batch_size"]
    assert "test:accuracy" in header and "last:val/loss" in header
    assert [row.split()[0] for row in rows] == ["tiny_V1", "tiny_V2", "tiny_V3", "tiny_V4"]
    assert [row.split()[2:4] for row in rows] == [["0.01", "16"], ["0.01", "32"], ["0.001", "16"], ["0.001", "32"]]

    as_json = json.loads(invoke("compare", "--sweep", "tiny-1", "--json").output)
    assert as_json["versions"] == ["tiny_V1", "tiny_V2", "tiny_V3", "tiny_V4"]
    assert as_json["config"]["train.batch_size"] == [16, 32, 16, 32]
    assert as_json["predictions"] is None  # four versions: no pairwise prediction diff

    pair = json.loads(invoke("compare", "tiny:1:test", "tiny:V4", "--json").output)
    diff = pair["predictions"]
    from runway.experiment.records import read_records

    left, right = (read_records(store.get("tiny", n).test_dir("test")) for n in (1, 4))
    expected = [r["index"] for r, o in zip(left, right) if r["prediction"] != o["prediction"]]
    assert diff["matched"] == len(left) and [row["id"] for row in diff["differing"]] == expected

    image = tmp_path / "curves.png"
    plotted = invoke("plot", "tiny", "--metric", "val_loss", "-o", str(image))
    assert plotted.exit_code == 0, plotted.output
    import matplotlib.image

    assert matplotlib.image.imread(str(image)).shape[0] > 100


def _wait_for(predicate, what: str, limit_s: float = WAIT_LIMIT_S):
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.3)


# a callback that keeps the third point to start training waiting while the gate file exists,
# so that the test kills the sweep at a known point instead of racing it
HOLD_THIRD = """
import time
from pathlib import Path

from lightning.pytorch.callbacks import Callback


class HoldThird(Callback):
    def __init__(self, gate: str):
        self.gate = Path(gate)

    def on_train_start(self, trainer, pl_module):
        if not self.gate.exists():
            return
        started = self.gate.with_name("started")
        started.mkdir(exist_ok=True)
        (started / str(len(list(started.iterdir())) + 1)).touch()
        if len(list(started.iterdir())) == 3:
            (self.gate.with_name("holding")).touch()
            while self.gate.exists():
                time.sleep(0.2)
"""


@pytest.mark.slow
@pytest.mark.timeout(2 * WAIT_LIMIT_S)
def test_killing_a_sweep_and_resuming_runs_only_the_unfinished_points(project, invoke, runway_builtin_plugins, tmp_path):
    (project / "modeling" / "hold.py").write_text(HOLD_THIRD, encoding="utf-8")
    gate = tmp_path / "gates" / "gate"
    gate.parent.mkdir()
    gate.touch()
    held = "local tiny = import 'tiny.jsonnet';\ntiny + { train+: { trainer_paras+: { callbacks: [\n"
    held += f"  {{ class_path: 'modeling.hold:HoldThird', init_args: {{ gate: '{gate}' }} }},\n] }} }} }}\n"
    (project / "configs" / "experiments" / "held.jsonnet").write_text(held, encoding="utf-8")
    sweep = subprocess.Popen(
        [sys.executable, "-m", "runway", "sweep", "held", "--opts", "train.batch_size=16,32,48,64"],
        cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        def third_held() -> bool:
            if sweep.poll() is not None:
                pytest.fail(f"the sweep ended early with {sweep.returncode}")
            if not gate.with_name("holding").exists():
                return False
            _, observed = observe(find_ledger(project / "experiments", None), persist=False)
            return [seen["state"] for seen in observed][:3] == ["completed", "completed", "running"]

        _wait_for(third_held, "two completed points and a third running")
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)  # the sweep and the point it runs, like a lost machine
        sweep.wait()
    gate.unlink()  # the resumed points train without waiting

    def third_gone() -> bool:
        # SIGKILL is delivered at once, but the point's process may take a moment to die
        _, observed = observe(find_ledger(project / "experiments", None), persist=False)
        return observed[2]["state"] != "running"

    _wait_for(third_gone, "the killed point to be gone", limit_s=30)
    store = ExperimentStore(project / "experiments")
    assert store.versions("held") == [1, 2, 3, 4]  # every point was submitted; the fourth never started
    finished = {n: store.get("held", n).status["updated"] for n in (1, 2)}
    status = invoke("sweep", "status")
    # the third was killed mid-run; the fourth was submitted, and its runner died before starting it
    assert [line.split()[1] for line in status.output.splitlines()[2:]] == ["completed", "completed", "interrupted", "interrupted"]

    resumed = invoke("sweep", "resume")

    assert resumed.exit_code == 0, resumed.output
    assert "resuming 2 of 4 point(s)" in resumed.output
    points = _points(project)
    assert [p["state"] for p in points] == ["completed"] * 4
    # the interrupted point gets a new version; the one that never started runs in its own folder
    assert [p["version"] for p in points] == [1, 2, 5, 4]
    assert points[2]["attempts"] == [{"version": 3, "state": "interrupted", "error": points[2]["attempts"][0]["error"]}]
    assert points[3]["attempts"] == []
    assert store.versions("held") == [1, 2, 3, 4, 5]
    assert {n: store.get("held", n).status["updated"] for n in (1, 2)} == finished  # not run again
    assert store.get("held", 3).status["state"] == "interrupted"
    assert [store.get("held", n).config["train"]["batch_size"] for n in (5, 4)] == [48, 64]
    assert invoke("sweep", "resume").output.startswith("sweep held-1: nothing to resume")


@pytest.mark.slow
@pytest.mark.timeout(WAIT_LIMIT_S)
def test_fail_fast_stops_at_the_first_failed_point(project, invoke, runway_builtin_plugins):
    # a layer of -1 units passes config validation and fails when the model is built
    result = invoke("sweep", "tiny", "--opts", "executor.model.init_args.hidden=[-1],[16],[32]", "--fail-fast")

    assert result.exit_code == 1
    assert "--fail-fast: stopping after the first failure; 2 job(s) not started" in result.output
    points = _points(project)
    assert [p["state"] for p in points] == ["failed", "pending", "pending"]
    assert points[0]["error"] == ExperimentStore(project / "experiments").get("tiny", 1).status["error"]
    assert ExperimentStore(project / "experiments").versions("tiny") == [1]
    assert "tiny_V1/logs/output.log" in result.output
