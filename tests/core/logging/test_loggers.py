"""Core logger routing: names, csv always on, isolation of failing backends, subsets."""

from __future__ import annotations

import warnings

import pytest

import runway
from runway.errors import PluginError
from runway.logging import LoggerSet, LoggerWarning, Run, open_loggers, resolve_logger_names
from runway.logging.csv_logger import read_metrics, read_status
from runway.plugins import make_plugin_manager


class Recorder:
    """An in-memory logger plugin."""

    def __init__(self):
        self.started, self.metrics, self.artifacts, self.finished = [], [], [], []

    @runway.hookimpl
    def logger_start_run(self, run):
        self.started.append(run.name)

    @runway.hookimpl
    def log_metrics(self, run, metrics, step):
        self.metrics.append((step, dict(metrics)))

    @runway.hookimpl
    def log_artifact(self, run, path, name):
        self.artifacts.append(name)

    @runway.hookimpl
    def logger_finish_run(self, run, status):
        self.finished.append(status)


class Exploding:
    def __init__(self, fail_start=False):
        self.fail_start = fail_start
        self.calls = 0

    @runway.hookimpl
    def logger_start_run(self, run):
        if self.fail_start:
            raise ConnectionError("server at 127.0.0.1:9 refused the connection")

    @runway.hookimpl
    def log_metrics(self, run, metrics, step):
        self.calls += 1
        raise RuntimeError("backend exploded")


@pytest.fixture
def run(tmp_path):
    return Run(experiment="exp", version=1, version_dir=tmp_path / "experiments" / "exp_V1")


def manager(**plugins):
    return make_plugin_manager(
        builtins_only=True, allow=None, block=None, trace=False, extra_plugins=list(plugins.items())
    )


def test_resolve_names_csv_first_dedup_and_comma_lists():
    assert resolve_logger_names(["mlflow", "csv,wandb", "mlflow"], {}) == ["csv", "mlflow", "wandb"]
    assert resolve_logger_names([], {"loggers": ["wandb"]}) == ["csv", "wandb"]
    assert resolve_logger_names([], {"loggers": "mlflow, wandb"}) == ["csv", "mlflow", "wandb"]
    assert resolve_logger_names(["mlflow"], {"loggers": ["wandb"]}) == ["csv", "mlflow"]
    assert resolve_logger_names([], {}) == ["csv"]


def test_unknown_logger_lists_available_and_the_package_to_install(run):
    plugins = manager(mine=Recorder())
    with pytest.raises(PluginError, match=r"unknown logger 'mlflow' \('mlflow' is provided by `pip install runway-mlflow`\)") as err:
        LoggerSet(["mlflow"], run, plugins)
    assert "csv [runway-core]" in str(err.value)
    assert "mine" in str(err.value)
    with pytest.raises(PluginError, match="unknown logger 'nope'"):
        LoggerSet(["nope"], run, plugins)


def test_a_plugin_that_is_not_a_logger_is_refused(run):
    plugins = make_plugin_manager(builtins_only=True)
    with pytest.raises(PluginError, match="unknown logger 'core-metrics'"):
        LoggerSet(["core-metrics"], run, plugins)


def test_csv_is_always_on_and_keeps_every_row(run):
    rec = Recorder()
    loggers = open_loggers(["mine"], run, manager(mine=rec))
    assert loggers.names == ["csv", "mine"]
    loggers.log_metrics({"loss": 0.5, "acc": 0.25}, step=1)
    loggers.log_metrics({"loss": 0.25}, step=2)
    loggers.log_metrics({"final": 1.0})
    # flushed on every call: readable before finish
    rows = list(read_metrics(run.log_dir / "metrics.csv"))
    assert [(r.step, r.metric, r.value) for r in rows] == [
        (1, "loss", 0.5), (1, "acc", 0.25), (2, "loss", 0.25), (None, "final", 1.0)
    ]
    loggers.finish("completed")
    assert read_status(run.log_dir) == "completed"
    assert run.log_dir == run.version_dir / "train" / "logs"
    assert rec.metrics == [(1, {"loss": 0.5, "acc": 0.25}), (2, {"loss": 0.25}), (None, {"final": 1.0})]
    assert rec.started == ["exp_V1"] and rec.finished == ["completed"]


def test_test_jobs_write_their_own_copy(run):
    run.job_type = "test-foo"
    with LoggerSet(["csv"], run, manager()) as loggers:
        loggers.log_metrics({"accuracy": 0.75}, None)
    assert run.log_dir == run.version_dir / "test-foo" / "logs"
    assert [r.metric for r in read_metrics(run.log_dir / "metrics.csv")] == ["accuracy"]


def test_a_raising_logger_warns_once_and_the_others_get_everything(run):
    rec, bad = Recorder(), Exploding()
    loggers = open_loggers(["bad", "mine"], run, manager(bad=bad, mine=rec))
    with pytest.warns(LoggerWarning) as caught:
        for step in range(10):
            loggers.log_metrics({"loss": float(step)}, step)
        loggers.finish("completed")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2  # the first failure, then the summary
    assert "logger 'bad' failed in log_metrics (RuntimeError: backend exploded); not sent: loss at step 0" in messages[0]
    assert "did not receive 10 metric values (loss) at steps 0..9" in messages[1]
    assert "runway sync exp --version 1 --logger bad" in messages[1]
    assert bad.calls == 3  # switched off after three failures in a row
    assert [s for s, _ in rec.metrics] == list(range(10))
    assert len(list(read_metrics(run.log_dir / "metrics.csv"))) == 10
    assert rec.finished == ["completed"]


def test_a_logger_that_cannot_start_receives_nothing(run):
    rec, bad = Recorder(), Exploding(fail_start=True)
    with pytest.warns(LoggerWarning, match="logger 'bad' could not start its run \\(ConnectionError"):
        loggers = open_loggers(["bad", "mine"], run, manager(bad=bad, mine=rec))
    with pytest.warns(LoggerWarning, match="did not receive 2 metric values"):
        loggers.log_metrics({"a": 1.0, "b": 2.0}, 0)
        loggers.finish("failed")
    assert bad.calls == 0
    assert rec.metrics == [(0, {"a": 1.0, "b": 2.0})]


def test_a_logger_not_enabled_receives_nothing(run):
    enabled, other = Recorder(), Recorder()
    loggers = open_loggers(["on"], run, manager(on=enabled, off=other))
    loggers.log_metrics({"x": 1.0}, 0)
    loggers.log_artifact(__file__, "config.json")
    loggers.finish("completed")
    assert enabled.metrics and enabled.artifacts == ["config.json"] and enabled.finished
    assert (other.started, other.metrics, other.artifacts, other.finished) == ([], [], [], [])


def test_wrappers_and_tracing_still_route_per_plugin(run, capsys):
    seen = []

    class Timing:
        @runway.hookimpl(wrapper=True)
        def log_metrics(self, run, metrics, step):
            seen.append(step)
            return (yield)

    enabled, other, bad = Recorder(), Recorder(), Exploding()
    plugins = make_plugin_manager(
        builtins_only=True, allow=None, block=None, trace=True,
        extra_plugins=[("on", enabled), ("off", other), ("bad", bad), ("timing", Timing())],
    )
    loggers = open_loggers(["on", "bad"], run, plugins)
    with pytest.warns(LoggerWarning, match="backend exploded"):
        loggers.log_metrics({"x": 1.0}, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LoggerWarning)
        loggers.finish("completed")
    assert enabled.metrics == [(7, {"x": 1.0})] and other.metrics == []
    assert seen == [7, 7, 7]  # the wrapper saw csv, on and bad, one call each
    assert "[runway trace] log_metrics" in capsys.readouterr().err


def test_a_broken_logger_plugin_raises_its_import_error(run, tmp_path):
    plugins = manager()
    from runway.plugins import PluginInfo

    plugins.info["broken"] = PluginInfo(name="broken", module="broken_mod", distribution="runway-broken",
                                        version="1.0", error="Traceback ...\nImportError: no module named x\n")
    with pytest.raises(PluginError, match="plugin 'broken' from runway-broken 1.0 failed to import"):
        LoggerSet(["broken"], run, plugins)
