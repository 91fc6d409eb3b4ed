"""Backends that go away mid-run: an MLflow server killed during training, a
SLURM controller restarted during a job. The run finishes with every result,
and what a backend missed is said and can be completed afterwards.

Training pauses after its first epoch (``gated_classifier``, see
reliability_helpers) until the test has broken the backend, so the failure
lands mid-run without any timing guess.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_helpers import add_gated_executor, make_digits_project, start_runway, subprocess_env, wait_for

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "mlflow"))
sys.path.insert(0, str(TESTS / "slurm"))

from cluster import START_SCRIPT, cluster_ready, slurm_cluster, state_dir  # noqa: E402,F401  (the session fixture)

pytestmark = pytest.mark.slow

GATED = ("--opts", "executor.name=gated_classifier", "train.epochs=3")


def _csv_points(version: Path) -> set[tuple[str, int, float]]:
    with open(version / "train" / "logs" / "metrics.csv", newline="", encoding="utf-8") as handle:
        return {(row["metric"], int(row["step"]), float(row["value"])) for row in csv.DictReader(handle) if row["step"]}


@pytest.fixture
def gated_project(tmp_path: Path) -> tuple[Path, Path]:
    root = make_digits_project(tmp_path / "proj", epochs=3)
    add_gated_executor(root)
    gate = tmp_path / "gate"
    gate.mkdir()
    return root, gate


@pytest.mark.mlflow_server
def test_mlflow_server_killed_mid_run_then_sync_completes_it(gated_project, tmp_path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient
    from server import MlflowServer

    root, gate = gated_project
    server = MlflowServer(tmp_path / "mlflow").start()
    try:
        env = subprocess_env(RELIABILITY_GATE=str(gate), RUNWAY_PLUGINS_ALLOW="mlflow")
        env.pop("RUNWAY_PLUGINS_BUILTIN_ONLY")
        opts = [*GATED, f"+plugins.mlflow.tracking_uri={server.uri}", "+plugins.mlflow.timeout=3", "+plugins.mlflow.retries=0"]
        training = start_runway(root, "train", "tiny", "--logger", "mlflow", *opts, env=env)
        wait_for((gate / "paused").exists, "the first epoch to end", limit_s=300)
        os.killpg(server.process.pid, signal.SIGKILL)  # the server dies, no goodbye
        server.process.wait(timeout=30)
        (gate / "go").touch()
        out, err = training.communicate(timeout=300)

        assert training.returncode == 0, err
        version = root / "experiments" / "tiny_V1"
        assert json.loads((version / "status.json").read_text())["state"] == "completed"
        points = _csv_points(version)
        epochs = {step for metric, step, _ in points if metric == "val/accuracy"}
        assert len(epochs) == 3, points  # the csv copy has every epoch, before and after the kill
        assert "logger 'mlflow'" in err and "did not receive" in err and "val/accuracy" in err, err
        assert "runway sync tiny --version 1 --logger mlflow" in err

        server.start()  # the same store and port
        synced = subprocess.run(
            [sys.executable, "-m", "runway", "sync", "tiny", "--logger", "mlflow"],
            cwd=root, env=env, capture_output=True, text=True, timeout=300,
        )
        assert synced.returncode == 0, synced.stderr
        client = MlflowClient(server.uri)
        run_id = _mlflow_run_id(client)
        on_server = {
            (metric, m.step, m.value)
            for metric in {p[0] for p in points}
            for m in client.get_metric_history(run_id, metric)
        }
        assert points <= on_server, sorted(points - on_server)[:5]
    finally:
        server.stop()


def _mlflow_run_id(client) -> str:
    experiment = client.get_experiment_by_name("tiny")
    (run,) = client.search_runs([experiment.experiment_id])
    return run.info.run_id


@pytest.mark.slurm
@pytest.mark.slurm_exclusive
def test_slurm_controller_restart_mid_job_loses_no_result(slurm_cluster, gated_project):  # noqa: F811
    root, gate = gated_project
    env = subprocess_env(RELIABILITY_GATE=str(gate), RUNWAY_PLUGINS_ALLOW="slurm")
    env.pop("RUNWAY_PLUGINS_BUILTIN_ONLY")
    opts = [*GATED, f"+launcher.slurm.partition={slurm_cluster.partition}", "+launcher.slurm.time=10"]
    training = start_runway(root, "train", "tiny", "--launcher", "slurm", *opts, env=env)
    try:
        wait_for((gate / "paused").exists, "the job's first epoch to end", limit_s=300)
        pid = int((state_dir() / "slurmctld.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        restarted = subprocess.run(["bash", str(START_SCRIPT)], capture_output=True, text=True, timeout=300)
        assert restarted.returncode == 0, restarted.stdout[-3000:]
        (gate / "go").touch()
        out, err = training.communicate(timeout=300)  # returns once submitted (or once followed to the end)
        status_file = root / "experiments" / "tiny_V1" / "status.json"
        wait_for(
            lambda: json.loads(status_file.read_text())["state"] not in ("pending", "running"),
            "the job to end after the controller restart",
            limit_s=300,
        )
    finally:
        (gate / "go").touch()
        if training.poll() is None:
            training.kill()
        if not cluster_ready():  # leave the cluster as the other tests expect it
            subprocess.run(["bash", str(START_SCRIPT)], capture_output=True, timeout=300)
    assert training.returncode == 0, err
    version = root / "experiments" / "tiny_V1"
    status = json.loads((version / "status.json").read_text())
    assert status["state"] == "completed", f"{status}\n--- client stderr:\n{err[-3000:]}"
    assert len({step for metric, step, _ in _csv_points(version) if metric == "val/accuracy"}) == 3
    assert (version / "train" / "checkpoints" / "last.ckpt").is_file()
    assert cluster_ready()
