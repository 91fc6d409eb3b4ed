"""`runway run NAME --logger mlflow,wandb`: training, test and evaluation reach the backends."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent.parent / "wandb"))

from run_file import history, offline_runs, run_record  # noqa: E402

from runway.cli.main import cli  # noqa: E402

TINY_CONFIG = """
local example = import 'experiments/example.jsonnet';

example + {
  data_pipeline+: { transforms+: { 'input:digits'+: { setup_kwargs+: { limit: 200 } } } },
  executor+: { model+: { init_args+: { hidden: [8] } } },
  train+: { epochs: 2, batch_size: 32 },
}
"""


@pytest.fixture
def project(runway_project, monkeypatch, runway_plugins):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")
    return runway_project({"tiny": TINY_CONFIG})


def test_run_logs_training_and_evaluation_into_one_run_per_backend(project):
    from mlflow.tracking import MlflowClient

    result = CliRunner().invoke(cli, ["run", "tiny", "--logger", "mlflow,wandb"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    version_dir = project / "experiments" / "tiny_V1"

    # the local copy, always
    rows = (version_dir / "train" / "logs" / "metrics.csv").read_text().splitlines()
    assert rows[0] == "step,metric,value,time" and len(rows) > 1

    # mlflow: the default local store under the project, one run for the version
    client = MlflowClient((project / "mlruns").as_uri())
    state = json.loads((version_dir / "loggers" / "mlflow.json").read_text())
    got = client.get_run(state["run_id"])
    assert got.info.status == "FINISHED" and got.info.run_name == "tiny_V1"
    assert got.data.params["train.epochs"] == "2"
    trained = set(got.data.metrics)
    assert any(key.startswith("test/") for key in trained), trained
    assert got.data.tags["runway.test-test.status"] == "completed"
    assert [a.path for a in client.list_artifacts(state["run_id"], "test-test")] == ["test-test/metrics.json"]
    train_keys = sorted(k for k in trained if not k.startswith("test/"))
    assert train_keys, trained
    assert len(client.get_metric_history(state["run_id"], train_keys[0])) >= 1

    # wandb: offline, training and the test job under the same run id
    wandb_id = json.loads((version_dir / "loggers" / "wandb.json").read_text())["run_id"]
    logs = offline_runs(version_dir / "wandb")
    assert [run_record(p).run_id for p in logs] == [wandb_id, wandb_id]
    assert [run_record(p).job_type for p in logs] == ["train", "test-test"]
    assert history(logs[0]) and any(k.startswith("test/") for row in history(logs[1]) for k in row)


def test_train_with_mlflow_against_the_tracking_server(project, mlflow_server, monkeypatch):
    """`runway train NAME --logger mlflow` with MLFLOW_TRACKING_URI pointing at a real server."""
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    result = CliRunner().invoke(cli, ["train", "tiny", "--logger", "mlflow"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    version_dir = project / "experiments" / "tiny_V1"
    run_id = json.loads((version_dir / "loggers" / "mlflow.json").read_text())["run_id"]

    client = MlflowClient(mlflow_server.uri)
    got = client.get_run(run_id)
    assert got.info.status == "FINISHED" and got.info.run_name == "tiny_V1"
    assert client.get_experiment(got.info.experiment_id).name == "tiny"
    assert got.data.params["train.epochs"] == "2" and got.data.params["train.batch_size"] == "32"
    artifacts = {a.path for a in client.list_artifacts(run_id)}
    assert {"config.json", "provenance.json"} <= artifacts

    # every per-step row of the local csv copy reached the server with its step
    csv_rows = (version_dir / "train" / "logs" / "metrics.csv").read_text().splitlines()[1:]
    local = {}
    for row in csv_rows:
        step, metric, value, _ = row.split(",")
        local.setdefault(metric, []).append((int(step) if step else 0, float(value)))
    assert local
    for metric, points in local.items():
        history = client.get_metric_history(run_id, metric)
        assert sorted((m.step, m.value) for m in history) == sorted(points), metric
