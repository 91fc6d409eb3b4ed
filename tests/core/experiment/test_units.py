"""Small pieces: data references, schedules, optimizers, registries, metrics."""

from __future__ import annotations

import pytest

from runway.errors import ConfigError, PluginError
from runway.experiment.data import ColumnDataset, DataRef, data_refs, resolve_data
from runway.experiment.optim import build_optimizer, build_scheduler, schedule_factor
from runway.experiment.registry import forget_project_code, project_executors, register_executor


def test_data_references_pick_items_and_explain_misses():
    outputs = {"output:tensors": {"train": [1, 2], "test": {"a": [3]}}, "output:whole": [9]}
    refs = data_refs(
        {"executor": {"data": {"train": {"node": "output:tensors", "item": "train"}, "test": {"node": "output:tensors", "item": "test.a"}, "validation": "output:whole"}}},
        ["train", "validation", "test"],
    )
    assert resolve_data(refs, outputs) == {"train": [1, 2], "validation": [9], "test": [3]}
    with pytest.raises(ConfigError, match="has no 'nope'; it has \\['test', 'train'\\]"):
        DataRef.parse("train", {"node": "output:tensors", "item": "nope"}).pick(outputs["output:tensors"])
    with pytest.raises(ConfigError, match="not in the pipeline"):
        resolve_data({"train": DataRef.parse("train", "missing")}, outputs)
    with pytest.raises(ConfigError, match="executor.data.train"):
        DataRef.parse("train", 3)


def test_column_dataset_rows_and_length_check():
    rows = ColumnDataset({"x": [1, 2], "y": [3, 4]})
    assert len(rows) == 2 and rows[1] == {"x": 2, "y": 4}
    with pytest.raises(ConfigError, match="unequal length"):
        ColumnDataset({"x": [1], "y": [1, 2]})


def test_schedules_warm_up_then_decay():
    linear = schedule_factor("linear", total_steps=10, warmup_steps=2)
    assert [round(linear(s), 3) for s in (0, 1, 2, 6, 10)] == [0.5, 1.0, 1.0, 0.5, 0.0]
    cosine = schedule_factor("cosine", total_steps=10, warmup_steps=0, min_lr_ratio=0.1)
    assert cosine(0) == pytest.approx(1.0) and cosine(10) == pytest.approx(0.1)
    constant = schedule_factor("constant", total_steps=10, warmup_steps=4)
    assert [constant(s) for s in (0, 3, 9)] == [0.25, 1.0, 1.0]


def test_optimizers_and_schedulers_from_config():
    import torch

    params = [torch.nn.Parameter(torch.zeros(2))]
    assert type(build_optimizer(params, {"name": "sgd", "lr": 0.1, "momentum": 0.9})).__name__ == "SGD"
    adam = build_optimizer(params, {"name": "Adam", "betas": [0.8, 0.9]})
    assert adam.defaults["betas"] == (0.8, 0.9)
    with pytest.raises(ConfigError, match="unknown optimizer 'Lion'"):
        build_optimizer(params, {"name": "Lion"})
    with pytest.raises(ConfigError, match="executor.optimizer"):
        build_optimizer(params, {"name": "AdamW", "momentum": 1})
    scheduled = build_scheduler(adam, {"name": "linear_warmup", "warmup_ratio": 0.5}, total_steps=4)
    assert scheduled["interval"] == "step"
    assert build_scheduler(adam, {"name": "none"}, 4) is None
    with pytest.raises(ConfigError, match="unknown key"):
        build_scheduler(adam, {"name": "cosine", "warmup": 3}, 4)


def test_register_executor_refuses_a_name_from_another_module():
    class First:
        __module__ = "pkg_a.mod"

    class Second:
        __module__ = "pkg_b.mod"

    try:
        register_executor("dup")(First)
        register_executor("dup")(First)  # a re-import of the same module replaces it
        with pytest.raises(ConfigError, match="registered twice: by module 'pkg_a.mod' and by module 'pkg_b.mod'"):
            register_executor(name="dup")(Second)
        assert project_executors()["dup"] is First
    finally:
        forget_project_code("pkg_a")


def test_metric_registry_collects_core_and_project_metrics(runway_builtin_plugins, register_plugin):
    import runway
    from runway.experiment.evaluation import compute_metrics, metric_registry
    from runway.hookspecs import hookimpl

    @runway.register_metric(name="always_one")
    def one(predictions, targets):
        return 1.0

    try:
        registry = metric_registry(runway_builtin_plugins)
        assert {"accuracy", "f1", "mse", "always_one"} <= set(registry)
        records = [{"prediction": 1, "target": 1}, {"prediction": 0, "target": 1}]
        assert compute_metrics(records, ["accuracy", "always_one"], registry) == {"accuracy": 0.5, "always_one": 1.0}
        with pytest.raises(ConfigError, match="unknown metric\\(s\\) 'nope'"):
            compute_metrics(records, ["nope"], registry)

        class Clash:
            @hookimpl
            def register_metrics(self, register):
                register(lambda p, t: 0.0, name="accuracy")

        register_plugin(Clash(), name="clash")
        with pytest.raises(PluginError, match="metric 'accuracy' is registered twice"):
            metric_registry(runway_builtin_plugins)
    finally:
        forget_project_code(__name__)
