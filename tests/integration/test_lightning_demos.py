"""Lightning's own demo classes run as Runway experiments, by class path alone.

``BoringModel`` brings its own data loaders (no datamodule, no
``executor.data``) and a ``test_step`` that returns ``{"y": loss}``, one
value per batch; a subclass whose ``test_step`` only logs leaves nothing to
record but its metrics.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runway.cli.main import cli
from runway.experiment.store import ExperimentStore

pytestmark = pytest.mark.slow

BORING = "lightning.pytorch.demos.boring_classes.BoringModel"
TRAIN = "train: { epochs: 1, trainer_paras: { accelerator: 'cpu', devices: 1, limit_train_batches: 4, limit_val_batches: 2, log_every_n_steps: 2 } }"

LOGGING_ONLY = '''
from lightning.pytorch.demos.boring_classes import BoringModel


class LoggingOnly(BoringModel):
    def test_step(self, batch, batch_idx):
        self.log("test_loss", self.step(batch))
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runway_builtin_plugins) -> Path:
    root = tmp_path / "demos"
    configs = {
        "own_loaders": "{ executor: { class_path: '%s' }, %s }" % (BORING, TRAIN),
        "with_datamodule": "{ executor: { class_path: '%s' }, datamodule: { class_path: "
        "'lightning.pytorch.demos.boring_classes.BoringDataModule' }, %s }" % (BORING, TRAIN),
        "logging_only": "{ executor: { class_path: 'demo_modules.LoggingOnly' }, %s }" % TRAIN,
    }
    (root / "configs" / "experiments").mkdir(parents=True)
    (root / "runway.toml").write_text("", encoding="utf-8")
    (root / "demo_modules.py").write_text(LOGGING_ONLY, encoding="utf-8")
    for name, text in configs.items():
        (root / "configs" / "experiments" / f"{name}.jsonnet").write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.chdir(root)
    return root


def _train_and_infer(root: Path, name: str) -> tuple[dict, list[dict]]:
    runner = CliRunner()
    trained = runner.invoke(cli, ["train", name], catch_exceptions=False)
    assert trained.exit_code == 0, trained.output
    version = ExperimentStore(root / "experiments").get(name, 1)
    assert {p.name for p in version.checkpoints()} == {"best.ckpt", "last.ckpt"}
    inferred = runner.invoke(cli, ["infer", name, "t", "--no-eval"], catch_exceptions=False)
    assert inferred.exit_code == 0, inferred.output
    test_dir = version.test_dir("t")
    summary = json.loads((test_dir / "summary.json").read_text())
    from runway.experiment.records import read_records

    records = read_records(test_dir)
    return summary, records


def test_a_module_with_its_own_loaders_and_a_per_batch_test_step(project: Path) -> None:
    summary, records = _train_and_infer(project, "own_loaders")
    assert summary["records_from"] == "test_step"
    assert summary["count"] == len(records) == 64  # BoringModel's test loader: 64 batches of one sample
    assert records[0].keys() == {"index", "batch", "y"}
    assert [r["batch"] for r in records] == list(range(64))
    assert all(isinstance(r["y"], float) for r in records)


def test_the_boring_model_with_its_datamodule(project: Path) -> None:
    summary, records = _train_and_infer(project, "with_datamodule")
    assert summary["records_from"] == "test_step" and summary["count"] == 64
    assert records[0].keys() == {"index", "batch", "y"}


def test_a_test_step_that_only_logs_records_its_metrics(project: Path) -> None:
    summary, records = _train_and_infer(project, "logging_only")
    assert records == [] and summary["count"] == 0
    assert summary["records_from"] == "test_step"
    assert summary["test_metrics"]["test_loss"] > 0
