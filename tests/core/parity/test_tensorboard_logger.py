"""The built-in `tensorboard` logger: event files TensorBoard's own reader reads back."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from runway.errors import PluginError
from runway.logging import LoggerSet, Run
from runway.logging.csv_logger import read_metrics
from runway.plugins.manager import make_plugin_manager


def _scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def test_metrics_reach_event_files(tmp_path: Path, runway_builtin_plugins) -> None:
    pytest.importorskip("tensorboard", reason="the tensorboard logger needs runway-core[tensorboard] (tox env `all`)")
    run = Run(experiment="exp", version=3, version_dir=tmp_path / "exp_V3", config={"train": {"lr": 0.1}})
    with LoggerSet(["tensorboard"], run, runway_builtin_plugins) as loggers:
        assert loggers.names == ["csv", "tensorboard"]
        loggers.log_metrics({"train/loss": 0.5, "val/accuracy": 0.25}, step=10)
        loggers.log_metrics({"train/loss": 0.375}, step=20)
        loggers.log_metrics({"test/accuracy": 0.75}, None)
    folder = tmp_path / "exp_V3" / "train" / "logs" / "tensorboard"
    assert _scalars(folder) == {
        "train/loss": [(10, 0.5), (20, 0.375)],
        "val/accuracy": [(10, 0.25)],
        "test/accuracy": [(0, 0.75)],
    }


def test_runway_train_with_logger_tensorboard(project: Path, invoke) -> None:
    pytest.importorskip("tensorboard", reason="the tensorboard logger needs runway-core[tensorboard] (tox env `all`)")
    result = invoke("train", "tiny", "--logger", "tensorboard")
    assert result.exit_code == 0, result.output
    logs = project / "experiments" / "tiny_V1" / "train" / "logs"
    events = _scalars(logs / "tensorboard")
    csv_rows: dict[str, list[tuple[int, float]]] = {}
    for row in read_metrics(logs / "metrics.csv"):
        csv_rows.setdefault(row.metric, []).append((row.step, row.value))
    assert {"train/loss_step", "val/loss", "val/accuracy", "epoch"} <= set(events)
    assert set(events) == set(csv_rows)
    for tag, points in csv_rows.items():
        # the same points as the csv copy; TensorBoard stores float32
        assert [s for s, _ in events[tag]] == [s for s, _ in points], tag
        assert [v for _, v in events[tag]] == pytest.approx([v for _, v in points], rel=1e-6), tag


def test_without_tensorboard_the_logger_is_refused_naming_the_extra(
    project: Path, invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runway.plugins.manager import set_plugins

    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    # uninstalling changes the installed distributions, which the plugins' hook record
    # watches (runway.plugins.lazy); this in-process stand-in for it, the record cannot see
    monkeypatch.setenv("RUNWAY_PLUGIN_CACHE", "0")
    monkeypatch.delitem(sys.modules, "runway.logging.tensorboard_logger", raising=False)
    plugin = importlib.import_module("runway.logging.tensorboard_logger")
    assert plugin.AVAILABLE is False
    plugins = make_plugin_manager(builtins_only=True)
    old = set_plugins(plugins)
    try:
        assert "tensorboard" in plugins.info and plugins.hooks_of("tensorboard") == []
        run = Run(experiment="tiny", version=1, version_dir=project / "experiments" / "tiny_V1")
        with pytest.raises(PluginError, match=r"unknown logger 'tensorboard'.*pip install runway-core\[tensorboard\]"):
            LoggerSet(["tensorboard"], run, plugins)
        LoggerSet(["csv"], run, plugins)  # the other loggers are untouched
        result = invoke("train", "tiny", "--logger", "tensorboard")
    finally:
        set_plugins(old)
    assert result.exit_code == 2
    assert "runway-core[tensorboard]" in result.output and "Traceback" not in result.output
