"""The mlflow logger against a real tracking server, read back with MlflowClient."""

from __future__ import annotations

import json
import warnings

import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient
from server import closed_port_uri

from runway.cli.main import cli
from runway.logging import LoggerSet, LoggerWarning, Run, open_loggers
from runway.logging.csv_logger import read_metrics
from runway.plugins import make_plugin_manager
from runway_mlflow.plugin import config_params, tracking_uri, validate_config

CONFIG = {
    "model": {"lr": 0.1, "layers": [3, 4], "name": "mlp"},
    "hf_token": "hf_abcdef",
    "data": {"api_key": "sk-123", "max_tokens": 7},
}


@pytest.fixture
def plugins():
    return make_plugin_manager(builtins_only=False, allow=["mlflow"], block=None, trace=False)


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "runway.toml").write_text("")
    version_dir = tmp_path / "experiments" / "exp_V1"
    version_dir.mkdir(parents=True)
    (version_dir / "config.json").write_text(json.dumps(CONFIG))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def make_run(project, job_type="train", uri=None):
    config = json.loads(json.dumps(CONFIG))
    if uri:
        config["plugins"] = {"mlflow": {"tracking_uri": uri}}
    return Run("exp", 1, project / "experiments" / "exp_V1", config=config, job_type=job_type)


def test_run_params_metrics_artifacts_and_status(project, plugins, mlflow_server):
    run = make_run(project, uri=mlflow_server.uri)
    loggers = open_loggers(["mlflow"], run, plugins)
    for step in range(5):
        loggers.log_metrics({"loss": 1.0 / (step + 1), "val/acc": step / 10}, step)
    loggers.log_artifact(run.version_dir / "config.json", "config.json")
    loggers.finish("completed")

    client = MlflowClient(mlflow_server.uri)
    run_id = run.state("mlflow")["run_id"]
    got = client.get_run(run_id)
    assert got.info.status == "FINISHED"
    assert got.info.run_name == "exp_V1"
    assert client.get_experiment(got.info.experiment_id).name == "exp"
    params = got.data.params
    assert params["model.lr"] == "0.1" and params["model.name"] == "mlp"
    assert params["model.layers.0"] == "3" and params["data.max_tokens"] == "7"
    assert params["hf_token"] == "***" and params["data.api_key"] == "***"
    assert params["plugins.mlflow.tracking_uri"] == mlflow_server.uri
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [
        (s, 1.0 / (s + 1)) for s in range(5)
    ]
    assert [m.step for m in client.get_metric_history(run_id, "val/acc")] == sorted(range(5))
    assert [a.path for a in client.list_artifacts(run_id)] == ["config.json"]


def test_tests_and_resumes_log_into_the_same_run(project, plugins, mlflow_server):
    train = make_run(project, uri=mlflow_server.uri)
    with LoggerSet(["mlflow"], train, plugins) as loggers:
        loggers.log_metrics({"loss": 0.5}, 10)
    run_id = train.state("mlflow")["run_id"]

    test = make_run(project, job_type="test-x", uri=mlflow_server.uri)
    with LoggerSet(["mlflow"], test, plugins) as loggers:
        loggers.log_metrics({"x/accuracy": 0.75}, None)

    resumed = make_run(project, uri=mlflow_server.uri)  # a requeued training
    with pytest.raises(KeyboardInterrupt), LoggerSet(["mlflow"], resumed, plugins) as loggers:
        loggers.log_metrics({"loss": 0.25}, 11)
        raise KeyboardInterrupt

    client = MlflowClient(mlflow_server.uri)
    assert resumed.state("mlflow")["run_id"] == run_id
    got = client.get_run(run_id)
    assert got.info.status == "KILLED"
    assert got.data.metrics["x/accuracy"] == 0.75
    assert got.data.tags["runway.test-x.status"] == "completed"
    assert sorted(m.step for m in client.get_metric_history(run_id, "loss")) == [10, 11]
    this_version = f"tags.`runway.version_dir` = '{train.version_dir}'"
    runs = client.search_runs([got.info.experiment_id], filter_string=this_version)
    assert [r.info.run_id for r in runs] == [run_id]


def test_a_failed_run_is_marked_failed(project, plugins, mlflow_server):
    run = make_run(project, uri=mlflow_server.uri)
    with pytest.raises(ValueError), LoggerSet(["mlflow"], run, plugins):
        raise ValueError("training diverged")
    assert MlflowClient(mlflow_server.uri).get_run(run.state("mlflow")["run_id"]).info.status == "FAILED"


def test_server_down_keeps_csv_and_sync_sends_it_later(project, plugins, mlflow_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", closed_port_uri())
    train = make_run(project)
    with pytest.warns(LoggerWarning) as caught:
        with LoggerSet(["mlflow"], train, plugins) as loggers:
            for step in range(6):
                loggers.log_metrics({"loss": float(6 - step)}, step)
        test = make_run(project, job_type="test-x")
        with LoggerSet(["mlflow"], test, plugins) as loggers:
            loggers.log_metrics({"x/accuracy": 0.5}, None)
    messages = [str(w.message) for w in caught]
    assert any("logger 'mlflow' could not start its run" in m for m in messages)
    assert any("did not receive 6 metric values (loss) at steps 0..5" in m for m in messages)
    assert any("runway sync exp --version 1 --logger mlflow" in m for m in messages)
    assert [r.step for r in read_metrics(train.log_dir / "metrics.csv")] == list(range(6))
    assert train.state("mlflow") == {}

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    result = CliRunner().invoke(cli, ["sync", "exp", "--version", "1", "--logger", "mlflow"])
    assert result.exit_code == 0, result.output
    assert "exp_V1/train: 6 metric values in 6 calls" in result.output
    assert "exp_V1/test-x: 1 metric values in 1 calls" in result.output

    client = MlflowClient(mlflow_server.uri)
    run_id = train.state("mlflow")["run_id"]
    got = client.get_run(run_id)
    assert got.info.status == "FINISHED"
    assert got.data.params["hf_token"] == "***"
    history = sorted(client.get_metric_history(run_id, "loss"), key=lambda m: m.step)
    assert [(m.step, m.value) for m in history] == [(s, float(6 - s)) for s in range(6)]
    assert got.data.metrics["x/accuracy"] == 0.5
    assert [a.path for a in client.list_artifacts(run_id)] == ["config.json"]


def test_sync_to_a_dead_server_exits_1(project, monkeypatch):
    run = make_run(project)
    with LoggerSet(["csv"], run, make_plugin_manager(builtins_only=True)) as loggers:
        loggers.log_metrics({"loss": 1.0}, 0)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", closed_port_uri())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = CliRunner().invoke(cli, ["sync", "exp", "--logger", "mlflow"])
    assert result.exit_code == 1
    assert "could not start its run" in result.output


def test_sync_names_the_missing_experiment(project):
    result = CliRunner().invoke(cli, ["sync", "exq", "--logger", "mlflow"])
    assert result.exit_code == 2
    assert "no experiment 'exq'" in result.output and "Did you mean 'exp'" in result.output


def test_local_store_under_the_project_by_default(project, plugins, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run = make_run(project)
    assert tracking_uri(run) == (project / "mlruns").as_uri()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # mlflow's note about file stores
        with LoggerSet(["mlflow"], run, plugins) as loggers:
            loggers.log_metrics({"loss": 2.0}, 1)
        got = MlflowClient(tracking_uri(run)).get_run(run.state("mlflow")["run_id"])
    assert got.data.metrics == {"loss": 2.0} and got.info.status == "FINISHED"


def test_config_params_and_validation():
    assert config_params({"a": {"b": None, "password": "x"}, "s": "text"}) == {
        "a.b": "null", "a.password": "***", "s": "text"
    }
    assert validate_config({}) is None
    assert validate_config({"plugins": {"mlflow": {"tracking_uri": "http://x", "timeout": 5}}}) == []
    problems = validate_config({"plugins": {"mlflow": {"tracking_url": "x", "retries": -1}}})
    assert problems[0].startswith("plugins.mlflow.tracking_url: unknown setting. Did you mean 'tracking_uri'")
    assert problems[1] == "plugins.mlflow.retries: must not be negative, got -1"
