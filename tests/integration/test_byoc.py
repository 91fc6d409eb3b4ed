"""Bring your own code: a LightningModule and DataModule that know nothing of
Runway train, infer and evaluate through `runway run` by import path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runway.cli.main import cli
from runway.experiment.store import ExperimentStore

BYOC_ROOT = Path(__file__).resolve().parents[1] / "core" / "compat"  # holds byoc_pkg/

pytestmark = pytest.mark.slow

DATAMODULE_CONFIG = """
{
  executor: {
    class_path: 'byoc_pkg.models.%(model)s',
    init_args: { in_features: 4, hidden: 8, lr: 0.2 },
  },
  datamodule: {
    class_path: 'byoc_pkg.data:BlobsDataModule',
    init_args: { n: 200, batch_size: 20 },
  },
  train: { epochs: 2, log_every_n_steps: 2, monitor: 'val_acc', trainer_paras: { accelerator: 'cpu', devices: 1 } },
  eval: { metrics: ['accuracy'] },
}
"""

# the init template's digits pipeline feeds a plain LightningModule
PIPELINE_CONFIG = """
local meta = import 'meta_config.libsonnet';
local data = import 'data_config.libsonnet';

meta + data + {
  data_pipeline+: { transforms+: { 'input:digits'+: { setup_kwargs+: { limit: 300 } } } },
  executor: {
    class_path: 'byoc_pkg.models.TinyClassifier',
    init_args: { in_features: 64, hidden: 16, num_classes: 10, lr: 0.1 },
    data: {
      train: { node: 'output:tensors', item: 'train' },
      validation: { node: 'output:tensors', item: 'validation' },
      test: { node: 'output:tensors', item: 'test' },
    },
  },
  train: { epochs: 1, batch_size: 32, trainer_paras: { accelerator: 'cpu', devices: 1 } },
  eval: { metrics: ['accuracy', 'f1'] },
}
"""


@pytest.fixture
def make_project(tmp_path, monkeypatch, runway_builtin_plugins, runway_project):
    """make_project(configs, template=False) -> root, the current folder."""
    monkeypatch.syspath_prepend(str(BYOC_ROOT))

    def make(configs: dict[str, str], *, template: bool = False) -> Path:
        if template:
            return runway_project(configs)
        root = tmp_path / "proj"
        (root / "configs" / "experiments").mkdir(parents=True)
        (root / "runway.toml").write_text("", encoding="utf-8")
        for name, text in configs.items():
            (root / "configs" / "experiments" / f"{name}.jsonnet").write_text(text, encoding="utf-8")
        monkeypatch.chdir(root)
        return root

    return make


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _records(test_dir: Path) -> list[dict]:
    from runway.experiment.records import read_records

    return read_records(test_dir)


def test_run_trains_infers_and_evaluates_a_plain_lightning_module(make_project):
    root = make_project({"blobs": DATAMODULE_CONFIG % {"model": "TinyClassifier"}})
    result = invoke("run", "blobs")
    assert result.exit_code == 0, result.output

    version = ExperimentStore(root / "experiments").get("blobs", 1)
    assert version.status["state"] == "completed"
    assert {p.name for p in version.checkpoints()} == {"best.ckpt", "last.ckpt"}
    # what the module logged with self.log reached Runway's csv logger
    logged = (version.train_dir / "logs" / "metrics.csv").read_text()
    assert "train_loss" in logged and "val_acc" in logged

    test_dir = version.test_dir("test")
    records = _records(test_dir)
    assert len(records) == 40  # 20% of 200
    assert {"index", "prediction", "target", "confidence"} <= set(records[0])
    assert all(r["target"] in (0, 1) and r["prediction"] in (0, 1) for r in records)
    metrics = json.loads((test_dir / "metrics.json").read_text())
    hits = sum(r["prediction"] == r["target"] for r in records)
    assert metrics["accuracy"] == pytest.approx(hits / len(records))
    assert metrics["accuracy"] > 0.9  # the blobs are four standard deviations apart
    summary = json.loads((test_dir / "summary.json").read_text())
    assert summary["records_from"] == "predict_step"

    # a later inference restores the checkpoint with TinyClassifier.load_from_checkpoint
    again = invoke("infer", "blobs", "from-last", "--checkpoint", "last")
    assert again.exit_code == 0, again.output
    assert len(_records(version.test_dir("from-last"))) == 40
    evaluated = invoke("eval", "blobs", "from-last")
    assert evaluated.exit_code == 0, evaluated.output
    assert "accuracy=" in evaluated.output


def test_records_come_from_test_step_with_targets_from_the_batch(make_project):
    root = make_project({"tested": DATAMODULE_CONFIG % {"model": "TestedClassifier"}})
    result = invoke("run", "tested")
    assert result.exit_code == 0, result.output
    test_dir = ExperimentStore(root / "experiments").get("tested", 1).test_dir("test")
    summary = json.loads((test_dir / "summary.json").read_text())
    assert summary["records_from"] == "test_step"
    assert 0.0 <= summary["test_metrics"]["test_acc"] <= 1.0
    records = _records(test_dir)
    assert len(records) == 40
    assert {"prediction", "target"} <= set(records[0])  # targets came from the (x, y) batches
    hits = sum(r["prediction"] == r["target"] for r in records)
    assert summary["test_metrics"]["test_acc"] == pytest.approx(hits / len(records), abs=1e-6)


def test_a_plain_module_trains_on_pipeline_data(make_project):
    root = make_project({"digits": PIPELINE_CONFIG}, template=True)
    trained = invoke("train", "digits")
    assert trained.exit_code == 0, trained.output
    version = ExperimentStore(root / "experiments").get("digits", 1)
    assert version.status["state"] == "completed"
    assert "output:tensors" in version.provenance["data"]  # the pipeline's cache keys are recorded

    inferred = invoke("infer", "digits", "test")
    assert inferred.exit_code == 0, inferred.output
    records = _records(version.test_dir("test"))
    assert len(records) == 60  # 20% of 300
    assert all(0 <= r["prediction"] < 10 and 0 <= r["target"] < 10 for r in records)
    metrics = json.loads((version.test_dir("test") / "metrics.json").read_text())
    assert set(metrics) == {"accuracy", "f1"}
