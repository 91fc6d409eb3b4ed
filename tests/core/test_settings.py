"""Typed settings: the defaults in one place, and every mistake named by its key."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from runway.config import apply_overrides, parse_overrides
from runway.errors import ConfigError
from runway.experiment.settings import (
    EvalSettings,
    LauncherSettings,
    MetaSettings,
    OptimizerSettings,
    SchedulerSettings,
    Settings,
    TestSettings,
    TrainSettings,
    parse_section,
    parse_settings,
    settings_problems,
)

# the sections of the `runway init` template's example experiment
TEMPLATE = {
    "meta": {"seed": 42, "use_dummy_data": False},
    "launcher": {"slurm": {"time": "01:00:00"}},
    "executor": {
        "name": "digits_classifier",
        "data": {
            "train": {"node": "output:tensors", "item": "train"},
            "validation": {"node": "output:tensors", "item": "validation"},
            "test": {"node": "output:tensors", "item": "test"},
        },
        "model": {"class_path": "modeling.mlp:MLP", "init_args": {"in_features": 64, "hidden": [128]}},
        "optimizer": {"name": "AdamW", "lr": 0.003, "weight_decay": 0.0001},
        "scheduler": {"name": "cosine", "warmup_steps": 10},
    },
    "train": {"epochs": 12, "batch_size": 64, "monitor": "val/accuracy", "trainer_paras": {"accelerator": "cpu", "devices": 1}},
    "test": {"suffix": "test", "split": "test", "batch_size": 256},
    "eval": {"metrics": ["accuracy", "f1", "worst_class_accuracy"]},
}


def problem(config: dict) -> str:
    with pytest.raises(ConfigError) as info:
        parse_settings(config)
    assert info.value.exit_code == 2
    return str(info.value)


# ------------------------------------------------------------------ defaults


def test_an_empty_config_gets_every_default() -> None:
    settings = parse_settings({})
    assert settings == Settings()
    assert settings.train == TrainSettings(
        epochs=1, batch_size=32, num_workers=0, monitor=None, monitor_mode=None,
        log_every_n_steps=10, validation_records=True, trainer_paras={}, lora=None,
    )
    assert settings.test == TestSettings(suffix="test", split="test", batch_size=32)
    assert settings.eval == EvalSettings(metrics=("accuracy",))
    assert settings.meta == MetaSettings(seed=0, use_dummy_data=False)
    assert settings.executor.optimizer == OptimizerSettings(name="AdamW", lr=1e-3, options={})
    assert settings.executor.scheduler is None
    assert settings.executor.name is None and settings.executor.class_path is None
    assert settings.launcher == LauncherSettings(sections={})


def test_the_template_parses_with_its_values() -> None:
    settings = parse_settings(TEMPLATE)
    assert settings.train.epochs == 12 and settings.train.monitor == "val/accuracy"
    assert settings.train.mode_for("val/accuracy") == "max" and settings.train.mode_for("val/loss") == "min"
    assert settings.test.batch_size == 256
    assert settings.eval.metrics == ("accuracy", "f1", "worst_class_accuracy")
    assert settings.executor.optimizer.kwargs() == {"lr": 0.003, "weight_decay": 0.0001}
    assert settings.executor.scheduler == SchedulerSettings(name="cosine", warmup_steps=10)
    assert settings.launcher.resources("slurm") == {"time": "01:00:00"} and settings.launcher.resources("local") == {}
    assert settings.meta.seed == 42


def test_the_test_batch_size_follows_the_train_one() -> None:
    assert parse_settings({"train": {"batch_size": 8}}).test.batch_size == 8
    assert parse_settings({"train": {"batch_size": 8}, "test": {"batch_size": 2}}).test.batch_size == 2


def test_settings_are_frozen() -> None:
    settings = parse_settings({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.train.epochs = 3  # type: ignore[misc]


def test_free_form_parts_stay_dicts() -> None:
    config = {
        "executor": {"class_path": "pkg.Model", "init_args": {"anything": [1]}, "data": {"train": "output:train"}},
        "train": {"lora": {"r": 4}},
        "launcher": {"slurm": {"partiton": "gpu"}, "fake": {"cpus": 3}},
    }
    settings = parse_settings(config)
    assert settings.executor.by_class_path and settings.executor.init_args == {"anything": [1]}
    assert settings.executor.data == {"train": "output:train"}
    assert settings.train.lora == {"r": 4}  # runway-hf checks it
    assert settings.launcher.resources("slurm") == {"partiton": "gpu"}  # runway-slurm checks it


def test_keys_starting_with_an_underscore_are_the_users_own() -> None:
    assert parse_settings({"train": {"_note": "try"}, "meta": {"_by": "me"}}).train.epochs == 1


def test_eval_metrics_may_be_one_name() -> None:
    assert parse_settings({"eval": {"metrics": "f1"}}).eval.metrics == ("f1",)


# ------------------------------------------------------------------ unknown keys


def test_an_unknown_key_suggests_the_close_one() -> None:
    assert problem({"train": {"epohcs": 3}}) == "train.epohcs: unknown key. Did you mean 'epochs'?"


def test_an_unknown_key_without_a_close_one_lists_the_known_keys() -> None:
    message = problem({"test": {"zzz": 1}})
    assert message.startswith("test.zzz: unknown key. Known keys: suffix, split, batch_size")


@pytest.mark.parametrize("section", ["train", "test", "eval", "executor", "meta"])
def test_every_section_runway_owns_refuses_unknown_keys(section: str) -> None:
    assert problem({section: {"nope_key": 1}}).startswith(f"{section}.nope_key: unknown key.")


def test_an_unknown_key_added_with_plus_in_opts_is_refused() -> None:
    config = apply_overrides({"train": {"epochs": 1}}, parse_overrides(["+train.epohcs=3"]))
    assert problem(config) == "train.epohcs: unknown key. Did you mean 'epochs'?"


def test_a_runway_for_ml_key_names_its_replacement() -> None:
    message = problem({"train": {"model_checkpoint_callback_paras": {"monitor": "val"}}})
    assert "train.model_checkpoint_callback_paras: a runway_for_ml key; in Runway: train.monitor" in message


def test_the_scheduler_refuses_unknown_keys() -> None:
    assert problem({"executor": {"scheduler": {"name": "cosine", "warmup": 3}}}) == (
        "executor.scheduler.warmup: unknown key. Did you mean 'warmup_steps' or 'warmup_ratio'?"
    )


# ------------------------------------------------------------------ values


def test_a_number_that_is_a_string_is_refused() -> None:
    config = apply_overrides({"executor": {"optimizer": {"lr": 0.1}}}, parse_overrides(["executor.optimizer.lr=abc"]))
    assert problem(config) == "executor.optimizer.lr: expected a number, got 'abc'"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"train": {"epochs": 0}}, "train.epochs: expected a positive integer, got 0"),
        ({"train": {"batch_size": 2.5}}, "train.batch_size: expected a positive integer, got 2.5"),
        ({"train": {"num_workers": -1}}, "train.num_workers: expected an integer >= 0, got -1"),
        ({"train": {"epochs": True}}, "train.epochs: expected a positive integer, got True"),
        ({"train": {"validation_records": "no"}}, "train.validation_records: expected true or false, got 'no'"),
        ({"train": {"monitor_mode": "up"}}, "train.monitor_mode: 'up' is not one of min, max"),
        ({"train": {"trainer_paras": [1]}}, "train.trainer_paras: expected an object of lightning.Trainer arguments, got [1]"),
        ({"test": {"split": ""}}, "test.split: expected a non-empty string, got ''"),
        ({"eval": {"metrics": [1]}}, "eval.metrics: expected a list of names, got [1]"),
        ({"meta": {"seed": "x"}}, "meta.seed: expected an integer, got 'x'"),
        ({"meta": {"use_dummy_data": "true"}}, "meta.use_dummy_data: expected true or false, got 'true'"),
        ({"executor": {"optimizer": {"name": "Lion"}}}, "executor.optimizer.name: unknown optimizer 'Lion'; choose one of AdamW, Adam, SGD"),
        ({"executor": {"optimizer": {"betas": [0.9]}}}, "executor.optimizer.betas: expected two numbers, got [0.9]"),
        ({"executor": {"optimizer": {"weight_decay": "lots"}}}, "executor.optimizer.weight_decay: expected a number, got 'lots'"),
        ({"executor": {"scheduler": {"name": "exp"}}}, "executor.scheduler.name: unknown schedule 'exp'; choose one of constant, linear, cosine, none"),
        ({"executor": {"class_path": ""}}, "executor.class_path: expected 'package.module.Class', got ''"),
        ({"executor": {"init_args": [1]}}, "executor.init_args: expected an object of keyword arguments, got [1]"),
        ({"executor": {"data": {"train": 3}}}, "executor.data.train: expected a node name or {node: NAME, item: ITEM}, got 3"),
        ({"launcher": {"slurm": "big"}}, "launcher.slurm: expected an object (the slurm launcher's settings), got 'big'"),
        ({"train": [1]}, "train: expected an object, got [1]"),
    ],
)
def test_a_wrong_value_names_its_key(config: dict, message: str) -> None:
    assert problem(config) == message


def test_every_problem_is_listed_at_once() -> None:
    message = problem({"train": {"epochs": 0, "epohcs": 1}, "meta": {"seed": "x"}})
    assert message.startswith("the config has 3 problem(s):")
    assert "  - train.epochs: expected a positive integer, got 0" in message
    assert "  - train.epohcs: unknown key" in message and "  - meta.seed: expected an integer" in message


# ------------------------------------------------------------------ trainer_paras


def test_a_trainer_para_that_lightning_does_not_take_is_refused() -> None:
    assert problem({"train": {"trainer_paras": {"acelerator": "cpu"}}}) == (
        "train.trainer_paras.acelerator: not an argument of lightning.Trainer. Did you mean 'accelerator'?"
    )


def test_an_unknown_accelerator_lists_lightnings() -> None:
    message = problem({"train": {"trainer_paras": {"accelerator": "gpux"}}})
    assert message.startswith("train.trainer_paras.accelerator: 'gpux' is not one of cpu, gpu, cuda, mps, tpu")
    assert message.endswith("auto")


def test_lightnings_own_trainer_paras_pass() -> None:
    paras = {"accelerator": "cpu", "devices": 2, "strategy": "ddp", "num_nodes": 1, "limit_train_batches": 3}
    assert parse_settings({"train": {"trainer_paras": paras}}).train.trainer_paras == paras


def test_lightning_is_imported_only_for_trainer_paras() -> None:
    code = (
        "import sys\n"
        "from runway.experiment.settings import parse_settings\n"
        "parse_settings({'train': {'epochs': 2}, 'executor': {'name': 'x', 'scheduler': {'name': 'cosine'}}})\n"
        "assert 'lightning' not in sys.modules and 'torch' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------ the lenient check and single sections


def test_the_lenient_check_reports_values_but_not_unknown_keys() -> None:
    config = {"train": {"lr": 0.1, "epochs": 0, "trainer_paras": {"acelerator": "cpu"}}}
    assert settings_problems(config, strict=False) == ["train.epochs: expected a positive integer, got 0"]
    assert len(settings_problems(config)) == 3


def test_one_section_alone() -> None:
    assert parse_section({"eval": {"metrics": ["f1"]}, "train": {"epohcs": 1}}, "eval").metrics == ("f1",)
    assert parse_section({}, "meta").seed == 0
    with pytest.raises(ConfigError, match="meta.seed: expected an integer"):
        parse_section({"meta": {"seed": 1.5}}, "meta")
