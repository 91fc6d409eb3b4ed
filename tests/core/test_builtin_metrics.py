"""Core's built-in metrics and the register_metrics / summarize_data hooks."""

from __future__ import annotations

import pytest

import runway
from runway.builtins import metrics


def test_metrics_on_a_known_confusion():
    preds = [0, 0, 1, 1, 2, 2]
    targets = [0, 1, 1, 1, 2, 0]
    assert metrics.accuracy(preds, targets) == pytest.approx(4 / 6)
    # class 0: tp1 fp1 fn1; class 1: tp2 fp0 fn1; class 2: tp1 fp1 fn0
    assert metrics.precision(preds, targets) == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    assert metrics.recall(preds, targets) == pytest.approx((0.5 + 2 / 3 + 1.0) / 3)
    f1s = [0.5, 2 * 1.0 * (2 / 3) / (1 + 2 / 3), 2 * 0.5 * 1.0 / 1.5]
    assert metrics.f1(preds, targets) == pytest.approx(sum(f1s) / 3)
    assert metrics.mse([1.0, 2.0], [1.0, 4.0]) == pytest.approx(2.0)


def test_metrics_refuse_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="2 predictions for 1 targets"):
        metrics.accuracy([1, 2], [1])
    with pytest.raises(ValueError, match="no samples"):
        metrics.f1([], [])


def test_register_metrics_hook_collects_builtins(runway_builtin_plugins):
    found = {}
    runway_builtin_plugins.hook.register_metrics(register=lambda fn, name=None: found.setdefault(name or fn.__name__, fn))
    assert {"accuracy", "precision", "recall", "f1", "mse"} <= set(found)


def test_summarize_data_generic_summary_and_plugin_override(runway_builtin_plugins, register_plugin):
    summary = runway_builtin_plugins.hook.summarize_data(data=[{"a": 1}, {"a": 2}])
    assert summary["length"] == 2 and summary["fields"] == ["a"]

    class Special:
        @runway.hookimpl
        def summarize_data(self, data):
            return {"type": "special"} if data == "x" else None

    register_plugin(Special(), name="special")
    assert runway_builtin_plugins.hook.summarize_data(data="x") == {"type": "special"}
    assert runway_builtin_plugins.hook.summarize_data(data="y")["value"] == "'y'"
