"""executor.class_path / datamodule.class_path: checked before anything runs,
errors that name the class and the config key; the records contract."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from runway.cli.main import cli
from runway.errors import ConfigError, ExperimentError
from runway.experiment import class_path
from runway.experiment.class_path import ClassSpec
from runway.experiment.step_records import records_from_batch
from runway.support.imports import import_object

BYOC_ROOT = Path(__file__).resolve().parent


@pytest.fixture
def project(tmp_path, monkeypatch, runway_builtin_plugins):
    monkeypatch.syspath_prepend(str(BYOC_ROOT))
    saved = list(sys.path)
    root = tmp_path / "proj"
    (root / "configs" / "experiments").mkdir(parents=True)
    (root / "runway.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(root)
    yield root
    sys.path[:] = saved


def _write(root: Path, name: str, executor: str, extra: str = "") -> None:
    text = "{ executor: %s, train: { epochs: 1 }%s }" % (executor, extra)
    (root / "configs" / "experiments" / f"{name}.jsonnet").write_text(text, encoding="utf-8")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_a_missing_module_names_the_key_and_the_path(project):
    _write(project, "bad", "{ class_path: 'nopkg.mod.Missing' }")
    for command in (["config", "show", "bad"], ["train", "bad"]):
        result = invoke(*command)
        assert result.exit_code == 2, result.output
        assert "executor.class_path: cannot import 'nopkg.mod.Missing': No module named 'nopkg'" in result.output
        assert "Traceback" not in result.output
    assert not (project / "experiments").exists() or not any((project / "experiments").iterdir())


def test_a_missing_class_suggests_the_close_names(project):
    _write(project, "bad", "{ class_path: 'byoc_pkg.models.TinyClasifier' }")
    result = invoke("train", "bad")
    assert result.exit_code == 2
    assert "module 'byoc_pkg.models' has no attribute 'TinyClasifier'" in result.output
    assert "'TinyClassifier'" in result.output


def test_a_wrong_argument_names_the_class_and_init_args(project):
    _write(project, "bad", "{ class_path: 'byoc_pkg.models.TinyClassifier', init_args: { hiden: 3 } }")
    result = invoke("train", "bad")
    assert result.exit_code == 2
    assert "executor.init_args: TinyClassifier() got an unexpected keyword argument 'hiden'" in result.output
    assert "hidden" in result.output  # what it accepts


def test_the_datamodule_is_checked_the_same_way(project):
    _write(
        project,
        "bad",
        "{ class_path: 'byoc_pkg.models.TinyClassifier' }",
        ", datamodule: { class_path: 'byoc_pkg.data.BlobsDataModule', init_args: { size: 3 } }",
    )
    result = invoke("config", "show", "bad")
    assert result.exit_code == 2
    assert "datamodule.init_args: BlobsDataModule() got an unexpected keyword argument 'size'" in result.output


def test_a_class_of_the_wrong_kind_is_refused(project):
    _write(project, "bad", "{ class_path: 'byoc_pkg.data.BlobsDataModule' }")
    result = invoke("config", "show", "bad")
    assert result.exit_code == 2
    assert "executor.class_path: 'byoc_pkg.data.BlobsDataModule' is not a lightning LightningModule subclass" in result.output


def test_keys_a_class_path_module_does_not_read_are_reported(project):
    _write(project, "bad", "{ class_path: 'byoc_pkg.models.TinyClassifier', name: 'x', optimizer: { lr: 1 } }")
    result = invoke("config", "show", "bad")
    assert result.exit_code == 2
    assert "give executor.name" in result.output and "not both" in result.output
    assert "executor.optimizer: a class_path module takes LightningCLI's form" in result.output


def test_a_good_config_shows_and_builds(project):
    _write(project, "good", "{ class_path: 'byoc_pkg.models:TinyClassifier', init_args: { hidden: 3 } }")
    assert invoke("config", "show", "good").exit_code == 0
    module = class_path.instantiate(ClassSpec("executor", "byoc_pkg.models:TinyClassifier", {"hidden": 3}))
    assert module.hparams.hidden == 3


def test_instantiate_keeps_an_error_raised_inside_the_constructor(project):
    spec = ClassSpec("datamodule", "byoc_pkg.data.BlobsDataModule", {"n": "many"})
    module = class_path.instantiate(spec)  # binds; the constructor stores it
    assert module.n == "many"
    with pytest.raises(ConfigError, match=r"executor.class_path: cannot import 'x': expected"):
        import_object("x", "executor.class_path")


# ------------------------------------------------------------------ records


def test_records_from_a_dict_with_preds_targets_and_extras():
    out = {"preds": torch.tensor([1, 0]), "targets": torch.tensor([1, 1]), "score": torch.tensor([0.9, 0.6]), "loss": torch.tensor(0.3)}
    records = records_from_batch(out, batch=None)
    # every field is kept: per-sample values split, the batch's scalars beside them
    assert records == [
        {"prediction": 1, "target": 1, "score": pytest.approx(0.9), "loss": pytest.approx(0.3)},
        {"prediction": 0, "target": 1, "score": pytest.approx(0.6), "loss": pytest.approx(0.3)},
    ]


def test_records_from_a_dict_of_any_keys_keep_every_field():
    from runway.experiment.step_records import records_from_predict_step, records_from_test_step

    batch = (torch.zeros(2, 3), torch.tensor([0, 1]))
    out = {"logits": torch.tensor([[0.1, 0.9], [0.8, 0.2]]), "label_guess": torch.tensor([1, 0]), "loss": torch.tensor(0.5)}
    assert records_from_predict_step(out, batch, 0) == [
        {"logits": [pytest.approx(0.1), pytest.approx(0.9)], "label_guess": 1, "loss": 0.5},
        {"logits": [pytest.approx(0.8), pytest.approx(0.2)], "label_guess": 0, "loss": 0.5},
    ]
    # nothing per sample (BoringModel's {"y": loss}): one record for the batch
    assert records_from_test_step({"y": torch.tensor(2.0)}, torch.zeros(1, 32), 4) == [{"batch": 4, "y": 2.0}]
    assert records_from_test_step(None, batch, 0) == []


def test_records_from_a_pair_and_from_bare_predictions_with_batch_targets():
    assert records_from_batch((torch.tensor([2]), torch.tensor([3])), None) == [{"prediction": 2, "target": 3}]
    batch = {"x": torch.zeros(2, 3), "labels": torch.tensor([4, 5])}
    assert records_from_batch(torch.tensor([4, 1]), batch) == [
        {"prediction": 4, "target": 4},
        {"prediction": 1, "target": 5},
    ]
    pair_batch = (torch.zeros(2, 3), torch.tensor([0, 1]))
    assert records_from_batch([7, 8], pair_batch) == [{"prediction": 7, "target": 0}, {"prediction": 8, "target": 1}]
    # no targets anywhere: prediction only
    assert records_from_batch(torch.tensor([[0.1, 0.9]]), torch.zeros(1, 2)) == [{"prediction": [pytest.approx(0.1), pytest.approx(0.9)]}]


def test_records_refuse_outputs_they_cannot_read():
    with pytest.raises(ExperimentError, match="returned nothing to record"):
        records_from_batch(None, None)
    with pytest.raises(ExperimentError, match="records need one of preds"):
        records_from_batch({"logits": torch.zeros(2)}, None)
