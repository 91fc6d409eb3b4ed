"""The wandb logger, offline, read back from the runs' transaction logs."""

from __future__ import annotations

import json

import pytest
from run_file import history, offline_runs, run_record, summary

import runway_wandb.plugin as wandb_plugin
from runway.logging import LoggerSet, LoggerWarning, Run, open_loggers
from runway.logging.csv_logger import read_metrics
from runway.plugins import make_plugin_manager

CONFIG = {"model": {"lr": 0.1}, "wandb_token": "secret-value", "plugins": {"wandb": {"project": "proj"}}}


@pytest.fixture
def plugins():
    return make_plugin_manager(builtins_only=False, allow=["wandb"], block=None, trace=False)


@pytest.fixture
def no_api_key(tmp_path, monkeypatch):
    """No key anywhere and no WANDB_MODE: the plugin must choose offline itself."""
    empty_netrc = tmp_path / "netrc"
    empty_netrc.write_text("")
    monkeypatch.setenv("NETRC", str(empty_netrc))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setattr(wandb_plugin, "_offline_announced", False)


def make_run(tmp_path, job_type="train", config=CONFIG):
    (tmp_path / "proj-root").mkdir(exist_ok=True)
    (tmp_path / "proj-root" / "runway.toml").write_text("")
    version_dir = tmp_path / "proj-root" / "experiments" / "exp_V2"
    return Run("exp", 2, version_dir, config=json.loads(json.dumps(config)), job_type=job_type)


def config_of(record) -> dict:
    return {item.key: json.loads(item.value_json) for item in record.config.update}


def test_offline_run_holds_metrics_config_and_ids(tmp_path, plugins, no_api_key, capsys):
    run = make_run(tmp_path)
    loggers = open_loggers(["wandb"], run, plugins)
    for step in range(4):
        loggers.log_metrics({"loss": 1.0 / (step + 1)}, step)
    (run.version_dir / "config.json").write_text("{}")
    loggers.log_artifact(run.version_dir / "config.json", "config.json")
    loggers.finish("completed")

    err = capsys.readouterr().err
    offline_lines = [line for line in err.splitlines() if line.startswith("wandb: logging offline")]
    assert len(offline_lines) == 1
    assert "no API key" in offline_lines[0] and f"wandb sync {run.version_dir / 'wandb'}" in offline_lines[0]

    [log_file] = offline_runs(run.version_dir / "wandb")
    record = run_record(log_file)
    run_id = run.state("wandb")["run_id"]
    assert (record.run_id, record.project, record.run_group, record.job_type) == (run_id, "proj", "exp", "train")
    assert record.display_name == "exp_V2"
    config = config_of(record)
    assert config["model"] == {"lr": 0.1}
    assert config["wandb_token"] == "***"
    rows = history(log_file)
    assert [(r["_step"], r["loss"]) for r in rows] == [(s, 1.0 / (s + 1)) for s in range(4)]
    assert (log_file.parent / "files" / "config.json").is_file()


def test_tests_and_evals_log_into_the_same_run(tmp_path, plugins, no_api_key, capsys):
    with LoggerSet(["wandb"], make_run(tmp_path), plugins) as loggers:
        loggers.log_metrics({"loss": 0.5}, 3)
    test = make_run(tmp_path, job_type="test-x")
    with LoggerSet(["wandb"], test, plugins) as loggers:
        loggers.log_metrics({"x/accuracy": 0.75}, None)
    assert capsys.readouterr().err.count("wandb: logging offline") == 1  # once per process

    first, second = offline_runs(test.version_dir / "wandb")
    run_id = test.state("wandb")["run_id"]
    assert run_record(first).run_id == run_record(second).run_id == run_id
    assert run_record(second).job_type == "test-x"
    assert [row["x/accuracy"] for row in history(second)] == [0.75]
    assert [row["loss"] for row in history(first)] == [0.5]
    assert summary(first)["runway/train/status"] == "completed"
    assert summary(second)["runway/test-x/status"] == "completed"


def test_default_project_is_the_project_folder(tmp_path):
    run = make_run(tmp_path, config={})
    assert wandb_plugin.project_name(run) == "proj-root"


def test_mode_follows_the_api_key(tmp_path, monkeypatch, no_api_key):
    assert wandb_plugin.choose_mode({})[0] == "offline"
    netrc_file = tmp_path / "netrc"
    netrc_file.write_text("machine api.wandb.ai\n  login user\n  password abc\n")
    netrc_file.chmod(0o600)
    assert wandb_plugin.choose_mode({}) == ("online", "API key found")
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert wandb_plugin.choose_mode({})[0] == "offline"
    assert wandb_plugin.choose_mode({"plugins": {"wandb": {"mode": "disabled"}}})[0] == "disabled"


def test_a_wandb_failure_does_not_stop_the_run(tmp_path, plugins):
    run = make_run(tmp_path, config={"plugins": {"wandb": {"mode": "bogus"}}})
    with pytest.warns(LoggerWarning, match="logger 'wandb' could not start its run"):
        loggers = open_loggers(["wandb"], run, plugins)
    with pytest.warns(LoggerWarning, match="did not receive 1 metric values"):
        loggers.log_metrics({"loss": 1.0}, 0)
        loggers.finish("completed")
    assert [r.metric for r in read_metrics(run.log_dir / "metrics.csv")] == ["loss"]


def test_validate_config():
    assert wandb_plugin.validate_config({}) is None
    assert wandb_plugin.validate_config({"plugins": {"wandb": {"project": "p", "entity": "e", "tags": ["a"]}}}) == []
    problems = wandb_plugin.validate_config({"plugins": {"wandb": {"projct": "p", "mode": "cloud"}}})
    assert problems[0].startswith("plugins.wandb.projct: unknown setting. Did you mean 'project'")
    assert problems[1] == "plugins.wandb.mode: expected one of online, offline, disabled, got 'cloud'"


@pytest.mark.parametrize("level", ["normal", "verbose"])
def test_the_note_that_records_were_linked_into_the_run_shows_only_when_verbose(tmp_path, plugins, no_api_key, capfd, monkeypatch, level):
    monkeypatch.delenv("WANDB_SILENT", raising=False)  # as a user's shell has it
    from wandb.errors import term

    # W&B's terminal state is process-wide; an earlier run in this process may have set it
    monkeypatch.setattr(term, "_silent", False)
    monkeypatch.setattr(term, "_show_warnings", True)
    monkeypatch.setenv("RUNWAY_VERBOSITY", level)
    run = make_run(tmp_path)
    loggers = open_loggers(["wandb"], run, plugins)
    (run.version_dir / "config.json").write_text("{}")
    loggers.log_artifact(run.version_dir / "config.json", "config.json")
    loggers.finish("completed")
    noted = "into the W&B run directory" in capfd.readouterr().err  # wandb writes to the stream it first saw
    assert noted == (level == "verbose")
