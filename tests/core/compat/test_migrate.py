"""A runway_for_ml config: refused key by key as it is, then migrated, shown,
its pipeline drawn and run with transforms written with the seed's decorator."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from runway.cli.main import cli
from runway.compat import SEED_KEYS, migrate_config
from runway.compat.keys import seed_keys_in


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_the_seed_config_as_it_is_names_the_new_keys(seed_project):
    result = invoke("config", "show", "--config", "configs/exp_config.jsonnet")
    assert result.exit_code == 2
    assert "experiment_name: a runway_for_ml key; in Runway: the experiment's name is NAME" in result.output
    assert "test_suffix: a runway_for_ml key; in Runway: test.suffix" in result.output
    assert "`runway migrate FILE` rewrites it" in result.output
    assert "Traceback" not in result.output

    # with the top level fixed, the keys inside sections are refused the same way
    fixed = invoke("config", "show", "--config", "configs/exp_config.jsonnet", "--opts", "~experiment_name", "~test_suffix")
    assert fixed.exit_code == 2
    for old, new in (
        ("executor.ExecutorClass", "executor.class_path"),
        ("executor.init_kwargs", "executor.init_args"),
        ("train.optimizer_config", "executor.optimizer"),
        ("train.model_checkpoint_callback_paras", "train.monitor"),
        ("test.checkpoint_name", "--checkpoint"),
        ("meta.logger_enable", "loggers"),
        ("meta.default_cache_dir", "cache_dir in the project's runway.toml"),
        ("data_pipeline.do_inspect", "inspect: true on each node"),
        ("eval.eval_op_name", "eval.metrics"),
    ):
        assert f"{old}: a runway_for_ml key; in Runway: " in fixed.output, old
        line = next(line for line in fixed.output.splitlines() if f"{old}: a runway_for_ml key" in line)
        assert new in line, line


def test_migrate_writes_a_config_that_shows_draws_and_runs(seed_project):
    migrated = invoke("migrate", "configs/exp_config.jsonnet", "-o", "configs/experiments/numbers.jsonnet")
    assert migrated.exit_code == 0, migrated.output
    lines = migrated.output.splitlines()
    for expected in (
        "executor.ExecutorClass -> executor.class_path (found in executors/seed_executor.py)",
        "executor.init_kwargs -> executor.init_args (the constructor's keyword arguments)",
        "executor.model_config -> executor.init_args.model_config",
        "test_suffix -> test.suffix",
        "train.model_checkpoint_callback_paras.monitor -> train.monitor",
        "train.model_checkpoint_callback_paras.mode -> train.monitor_mode",
        "meta.WANDB -> plugins.wandb (entity, project, tags)",
    ):
        assert any(line.startswith(expected) for line in lines), expected
    assert any(line.startswith("meta.logger_enable -> loggers") and "tensorboard needs" in line for line in lines)
    assert any(line.startswith("executor.init_kwargs.use_data_node -> executor.data") for line in lines)
    assert any(line.startswith("- experiment_name: no Runway equivalent, kept under _seed.experiment_name") for line in lines)
    assert any(line.startswith("- data_pipeline.do_inspect") and "input:LoadNumbers" in line for line in lines)
    assert any(line.startswith("! eval.metrics:") for line in lines)
    assert "need your attention" in lines[-1]

    shown = invoke("config", "show", "numbers")
    assert shown.exit_code == 0, shown.output
    config = json.loads(shown.output[: shown.output.rindex("}") + 1])
    assert config["executor"] == {
        "class_path": "executors.seed_executor.NumberClassifier",
        "init_args": {"use_data_node": "output:Parity", "hidden": 8, "model_config": {"width": 4}},
        "data": {"train": "output:Parity", "test": "output:Parity"},
    }
    assert config["loggers"] == ["tensorboard", "wandb"]  # Runway has a tensorboard logger too
    assert config["plugins"]["wandb"] == {"entity": "someone", "project": "seed_demo", "tags": ["demo"]}
    assert config["test"] == {"batch_size": 32, "suffix": "seedtest"}
    assert config["train"]["trainer_paras"] == {"max_epochs": 2, "log_every_n_steps": 5}
    assert config["train"]["monitor"] == "val_loss" and config["train"]["monitor_mode"] == "min"
    assert set(config["data_pipeline"]) == {"name", "regenerate", "transforms"}
    assert config["data_pipeline"]["transforms"]["input:LoadNumbers"]["inspect"] is False  # do_inspect was false
    assert config["_seed"]["experiment_name"] == "numbers"
    assert config["_seed"]["test"]["checkpoint_name"] == "last.ckpt"
    assert "meta" in config and config["meta"] == {"seed": 2022}
    assert seed_keys_in({k: v for k, v in config.items() if k != "_seed"}) == []

    drawn = invoke("pipeline", "show", "numbers")
    assert drawn.exit_code == 0, drawn.output
    assert "input:LoadNumbers  [LoadNumbers]" in drawn.output
    assert "process:Square  [SquareNumbers]" in drawn.output
    assert "output:Parity  [LabelParity]" in drawn.output

    # the transforms written with @register_transform_functor run in Runway's pipeline
    prepared = invoke("prepare", "numbers")
    assert prepared.exit_code == 0, prepared.output
    assert "output:Parity" in prepared.output and "RUN" in prepared.output
    from runway.pipeline import run_pipeline

    outputs = run_pipeline(config, seed_project).outputs["output:Parity"]
    assert [row["label"] for row in outputs] == [n * n % 2 for n in range(12)]
    assert outputs[0]["by"] == "LabelParity"  # the seed's self.name


def test_migrate_to_stdout_and_in_place(seed_project):
    printed = invoke("migrate", "configs/exp_config.jsonnet")
    assert printed.exit_code == 0
    body = printed.stdout
    assert body.startswith("// Migrated from the runway_for_ml config exp_config.jsonnet")
    config = json.loads(body.split("\n", 1)[1])
    assert config["executor"]["class_path"] == "executors.seed_executor.NumberClassifier"
    assert "executor.init_kwargs -> executor.init_args" in printed.stderr
    assert "executor.init_kwargs" not in printed.stdout.split("\n", 1)[1]

    target = seed_project / "configs" / "exp_config.jsonnet"
    written = invoke("migrate", str(target), "--write")
    assert written.exit_code == 0
    assert json.loads(target.read_text().split("\n", 1)[1]) == config
    again = invoke("migrate", str(target))
    assert "(nothing to change: no runway_for_ml keys found)" in again.stderr
    both = invoke("migrate", str(target), "--write", "-o", "x.json")
    assert both.exit_code == 2 and "not both" in both.output


def test_an_executor_class_not_in_the_project_becomes_executor_name():
    migration = migrate_config(
        {
            "executor": {"ExecutorClass": "Elsewhere"},
            "train": {"optimizer_config": {"optimizer_name": "SGD", "optimizer_params": {"lr": 0.1, "momentum": 0.9}, "scheduler": "linear"}},
        }
    )
    assert migration.config["executor"] == {
        "name": "Elsewhere",
        "optimizer": {"name": "SGD", "lr": 0.1, "momentum": 0.9},
        "scheduler": {"name": "linear"},
    }
    assert "train" not in migration.config
    assert migration.lines()[0].startswith("executor.ExecutorClass -> executor.name (register the class")


def test_the_early_feature_loader_pipeline_is_kept_aside_with_a_todo():
    migration = migrate_config(
        {"data_pipeline": {"name": "x", "in_features": [], "transforms": {"train": [{"name": "CopyFields"}]}}, "meta_config": {"seed": 1}}
    )
    assert "data_pipeline" not in migration.config
    assert migration.config["_seed"]["data_pipeline"]["in_features"] == []
    assert migration.config["meta"] == {"seed": 1}
    assert [c.old for c in migration.todos] == ["data_pipeline"]


def test_every_seed_key_names_a_replacement():
    assert all(isinstance(v, str) and v for v in SEED_KEYS.values())
    assert seed_keys_in({"executor": {"ExecutorClass": "X"}, "meta": {"seed": 1}}) == ["executor.ExecutorClass"]


@pytest.mark.parametrize("key", ["train.batch_size", "train.trainer_paras", "test.batch_size", "meta.seed"])
def test_keys_that_mean_the_same_are_supported_as_they_are(key):
    assert key not in SEED_KEYS
