"""The experiment commands end to end, in-process, on the tiny digits project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runway.experiment.records import read_records
from runway.experiment.store import ExperimentStore


def _version(root: Path, name: str, number: int):
    return ExperimentStore(root / "experiments").get(name, number)


def test_init_writes_the_layout(tmp_path, invoke):
    target = tmp_path / "fresh"
    result = invoke("init", str(target))
    assert result.exit_code == 0, result.output
    for folder in ("data", "local_cache", "third_party", "experiments", "data_processing", "executors", "modeling", "metrics"):
        assert (target / folder).is_dir(), folder
    for file in (
        "runway.toml",
        "main.py",
        "configs/meta_config.libsonnet",
        "configs/data_config.libsonnet",
        "configs/model_config.libsonnet",
        "configs/experiments/example.jsonnet",
    ):
        assert (target / file).is_file(), file


def test_init_refuses_a_non_empty_folder_unless_forced(tmp_path, invoke):
    target = tmp_path / "fresh"
    assert invoke("init", str(target)).exit_code == 0
    (target / "configs" / "meta_config.libsonnet").write_text("{}", encoding="utf-8")
    refused = invoke("init", str(target))
    assert refused.exit_code == 2
    assert "Runway project" in refused.output and "--force" in refused.output
    assert (target / "configs" / "meta_config.libsonnet").read_text(encoding="utf-8") == "{}"
    forced = invoke("init", str(target), "--force")
    assert forced.exit_code == 0, forced.output
    assert "seed" in (target / "configs" / "meta_config.libsonnet").read_text(encoding="utf-8")


def test_run_trains_tests_and_evaluates_into_a_version(project, invoke):
    result = invoke("run", "tiny")
    assert result.exit_code == 0, result.output
    version = _version(project, "tiny", 1)
    assert version.status["state"] == "completed"
    config = json.loads((version.path / "config.json").read_text())
    assert config["train"]["epochs"] == 2
    provenance = version.provenance
    assert provenance["config_fingerprint"] and provenance["command"]
    assert set(provenance["data"]) >= {"output:tensors", "input:digits"}
    assert {"torch", "lightning", "runway-core"} <= set(provenance["packages"])
    assert {p.name for p in version.checkpoints()} == {"best.ckpt", "last.ckpt"}
    assert (version.train_dir / "logs" / "metrics.csv").is_file()

    test_dir = version.test_dir("test")
    records = read_records(test_dir)
    summary = json.loads((test_dir / "summary.json").read_text())
    assert summary["count"] == len(records) == 60  # 20% of 300
    assert {"index", "input", "prediction", "target"} <= set(records[0])
    assert len(summary["checkpoint"]["sha256"]) == 64
    assert (test_dir / "config.json").is_file()
    metrics = json.loads((test_dir / "metrics.json").read_text())
    assert set(metrics) == {"accuracy", "f1", "worst_class_accuracy"}
    hits = sum(r["prediction"] == r["target"] for r in records)
    assert metrics["accuracy"] == pytest.approx(hits / len(records))

    listed = invoke("list")
    assert listed.exit_code == 0
    row = [line for line in listed.output.splitlines() if line.startswith("tiny")][0]
    assert "completed" in row and "accuracy=" in row
    shown = invoke("show", "tiny")
    assert shown.exit_code == 0
    assert "best.ckpt" in shown.output and "accuracy" in shown.output and "parent: none" in shown.output


def test_rerun_on_cpu_gives_identical_metrics(project, invoke):
    assert invoke("run", "tiny").exit_code == 0
    assert invoke("run", "tiny").exit_code == 0
    first, second = _version(project, "tiny", 1), _version(project, "tiny", 2)
    assert first.metrics("test") == second.metrics("test")
    assert read_records(first.test_dir("test")) == read_records(second.test_dir("test"))


def test_train_then_infer_and_eval_separately(project, invoke):
    trained = invoke("train", "tiny", "--tag", "baseline")
    assert trained.exit_code == 0, trained.output
    version = _version(project, "tiny", 1)
    assert version.status["state"] == "completed"
    assert version.provenance["tag"] == ["baseline"]
    assert version.tests() == []

    inferred = invoke("infer", "tiny", "last-ckpt", "--checkpoint", "last", "--no-eval")
    assert inferred.exit_code == 0, inferred.output
    test_dir = version.test_dir("last-ckpt")
    assert (test_dir / "records.parquet").is_file()
    assert not (test_dir / "metrics.json").exists()
    assert json.loads((test_dir / "summary.json").read_text())["checkpoint"]["which"] == "last"

    evaluated = invoke("eval", "tiny", "last-ckpt", "--opts", 'eval.metrics=["accuracy","mse"]')
    assert evaluated.exit_code == 0, evaluated.output
    assert set(json.loads((test_dir / "metrics.json").read_text())) == {"accuracy", "mse"}


def test_infer_without_the_checkpoint_is_an_error(trained, invoke):
    version = _version(trained, "tiny", 1)
    (version.checkpoints_dir / "best.ckpt").unlink()
    result = invoke("infer", "tiny", "test")
    assert result.exit_code == 2
    assert "no checkpoint 'best'" in result.output and "last.ckpt" in result.output
    assert not version.test_dir("test").exists()


def test_infer_on_an_experiment_without_versions_is_an_error(project, invoke):
    result = invoke("infer", "tiny", "test")
    assert result.exit_code == 2
    assert "has no versions" in result.output


def test_eval_before_infer_is_an_error(trained, invoke):
    result = invoke("eval", "tiny", "nothing")
    assert result.exit_code == 2
    assert "runway infer tiny nothing" in result.output


def test_from_with_opts_records_the_parent_and_show_diffs_against_it(trained, invoke):
    project = trained
    result = invoke("run", "child", "--from", "tiny", "--opts", "executor.optimizer.lr=0.02", "train.epochs=1")
    assert result.exit_code == 0, result.output
    written = json.loads((project / "configs" / "experiments" / "child.jsonnet").read_text())
    assert written["parent"] == "tiny"
    assert written["executor"]["optimizer"]["lr"] == 0.02
    child = _version(project, "child", 1)
    assert child.provenance["parent"] == "tiny"
    assert child.config["train"]["epochs"] == 1
    shown = invoke("show", "child")
    assert "parent: tiny" in shown.output
    assert "executor.optimizer.lr: 0.01 -> 0.02" in shown.output
    assert "train.epochs: 2 -> 1" in shown.output
    # the same --from again is fine; a different one would silently change the config
    assert invoke("train", "child", "--from", "tiny", "--opts", "executor.optimizer.lr=0.02", "train.epochs=1").exit_code == 0
    clash = invoke("train", "child", "--from", "tiny", "--opts", "train.epochs=5")
    assert clash.exit_code == 2 and "already exists" in clash.output


def test_experiment_command_writes_configs_and_refuses_to_overwrite(project, invoke):
    made = invoke("experiment", "fresh")
    assert made.exit_code == 0, made.output
    text = (project / "configs" / "experiments" / "fresh.jsonnet").read_text()
    assert "import 'model_config.libsonnet'" in text
    shown = invoke("config", "show", "fresh")
    assert shown.exit_code == 0, shown.output

    again = invoke("experiment", "fresh")
    assert again.exit_code == 2 and "--force" in again.output
    derived = invoke("experiment", "fresh", "--from", "tiny", "--opts", "train.batch_size=8", "--force")
    assert derived.exit_code == 0, derived.output
    written = json.loads((project / "configs" / "experiments" / "fresh.jsonnet").read_text())
    assert written["parent"] == "tiny" and written["train"]["batch_size"] == 8

    with_opts = invoke("experiment", "other", "--opts", "meta.seed=7")
    assert with_opts.exit_code == 0, with_opts.output
    assert json.loads((project / "configs" / "experiments" / "other.jsonnet").read_text())["meta"]["seed"] == 7
    bad = invoke("experiment", "third", "--opts", "meta.sed=7")
    assert bad.exit_code == 2
    assert not (project / "configs" / "experiments" / "third.jsonnet").exists()


def test_unknown_launcher_lists_the_available_ones(project, invoke):
    result = invoke("train", "tiny", "--launcher", "nowhere")
    assert result.exit_code == 2
    assert "unknown launcher 'nowhere'" in result.output and "local [runway-core]" in result.output
    assert not (project / "experiments").joinpath("tiny_V1").exists()


def test_unknown_executor_lists_the_registered_ones(project, invoke):
    result = invoke("train", "tiny", "--opts", "executor.name=nope")
    assert result.exit_code == 2
    assert "no plugin builds executor 'nope'" in result.output and "digits_classifier" in result.output
    assert _version(project, "tiny", 1).status["state"] == "failed"


def test_an_error_in_the_project_code_shows_its_traceback(project, invoke):
    (project / "executors" / "broken.py").write_text("import runway\n\nraise RuntimeError('broken on import')\n")
    result = invoke("train", "tiny")
    assert result.exit_code == 1
    assert "Traceback" in result.output and "broken on import" in result.output
    assert "executors/broken.py" in result.output


def test_a_failing_run_exits_1_and_records_the_error(project, invoke):
    (project / "executors" / "failing.py").write_text(
        "import runway\n\n"
        "@runway.register_executor('failing')\n"
        "class Failing(runway.Executor):\n"
        "    def step(self, batch):\n"
        "        raise RuntimeError('boom in step')\n"
    )
    result = invoke("run", "tiny", "--opts", "executor.name=failing")
    assert result.exit_code == 1
    assert "boom in step" in result.output
    status = _version(project, "tiny", 1).status
    assert status["state"] == "failed"
    assert "RuntimeError: boom in step" in status["error"]
    assert "failed" in invoke("list").output


def test_executor_by_class_path_and_resume_reuses_the_version(project, invoke):
    result = invoke("train", "tiny", "--opts", "executor.name=executors.classifier:DigitsClassifier", "train.epochs=1")
    assert result.exit_code == 0, result.output
    resumed = invoke(
        "train", "tiny", "--resume", "--opts", "executor.name=executors.classifier:DigitsClassifier", "train.epochs=2"
    )
    assert resumed.exit_code == 0, resumed.output
    store = ExperimentStore(project / "experiments")
    assert store.versions("tiny") == [1]
    import torch

    last = torch.load(store.get("tiny").checkpoints_dir / "last.ckpt", weights_only=True)
    assert last["epoch"] == 1  # the second epoch ran after resuming


def test_seed_alias_entry_points_exist():
    from runway.cli import main

    for name in ("experiment", "train", "infer", "eval", "run"):
        assert callable(getattr(main, f"{name}_alias"))


def test_config_file_without_a_prior_experiment(project, invoke, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    config_file = outside / "adhoc.jsonnet"
    config_file.write_text((project / "configs" / "experiments" / "tiny.jsonnet").read_text(), encoding="utf-8")
    result = invoke("train", "--config", str(config_file), "--opts", "train.epochs=1")
    assert result.exit_code == 0, result.output
    version = _version(project, "adhoc", 1)
    assert version.config["train"]["epochs"] == 1
    assert version.status["state"] == "completed"
    assert not (project / "configs" / "experiments" / "adhoc.jsonnet").exists()
