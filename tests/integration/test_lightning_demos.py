"""Lightning's own demo classes run as Runway experiments, by class path alone.

``BoringModel`` brings its own data loaders (no datamodule, no
``executor.data``) and a ``test_step`` that returns ``{"y": loss}``, one
value per batch; a subclass whose ``test_step`` only logs leaves nothing to
record but its metrics, which become the test run's metrics.
``LightningTransformer`` reads ``data/wikitext-2.txt`` (a small local file
here) through its own ``train_dataloader`` and has no step to predict with.
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
from lightning.pytorch import LightningModule
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.demos.transformer import LightningTransformer, WikiText2
from torch.utils.data import DataLoader


class LoggingOnly(BoringModel):
    def test_step(self, batch, batch_idx):
        self.log("test_loss", self.step(batch))


class NextWord(LightningTransformer):
    """The demo transformer with a step to predict the next words with."""

    def predict_step(self, batch, batch_idx):
        inputs, target = batch
        return {"preds": self(inputs, target).argmax(-1), "targets": target.view(-1)}

    def predict_dataloader(self):
        return DataLoader(WikiText2(download=False), batch_size=2)


class NoOptimizer(LightningModule):
    def training_step(self, batch, batch_idx):
        return None

    def train_dataloader(self):
        return []
'''

#: a text small enough for a vocabulary of under 64 words
TEXT = "\n".join(" ".join(f"w{(i * 7 + j) % 40}" for j in range(12)) for i in range(30))
TRANSFORMER_TRAIN = (
    "train: { epochs: 1, trainer_paras: { accelerator: 'cpu', devices: 1, limit_train_batches: 2, "
    "limit_predict_batches: 2, log_every_n_steps: 1 } }"
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runway_builtin_plugins) -> Path:
    root = tmp_path / "demos"
    configs = {
        "own_loaders": "{ executor: { class_path: '%s' }, %s }" % (BORING, TRAIN),
        "with_datamodule": "{ executor: { class_path: '%s' }, datamodule: { class_path: "
        "'lightning.pytorch.demos.boring_classes.BoringDataModule' }, %s }" % (BORING, TRAIN),
        "logging_only": "{ executor: { class_path: 'demo_modules.LoggingOnly' }, %s }" % TRAIN,
        "transformer": "{ executor: { class_path: 'lightning.pytorch.demos.transformer.LightningTransformer', "
        "init_args: { vocab_size: 64 } }, %s }" % TRANSFORMER_TRAIN,
        "next_word": "{ executor: { class_path: 'demo_modules.NextWord', init_args: { vocab_size: 64 } }, %s }"
        % TRANSFORMER_TRAIN,
        "no_optimizer": "{ executor: { class_path: 'demo_modules.NoOptimizer' }, %s }" % TRAIN,
    }
    (root / "configs" / "experiments").mkdir(parents=True)
    (root / "runway.toml").write_text("", encoding="utf-8")
    (root / "demo_modules.py").write_text(LOGGING_ONLY, encoding="utf-8")
    (root / "data").mkdir()
    (root / "data" / "wikitext-2.txt").write_text(TEXT, encoding="utf-8")
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


def _run(root: Path, name: str):
    from runway.experiment.records import read_records

    result = CliRunner().invoke(cli, ["run", name], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    listed = CliRunner().invoke(cli, ["list"], catch_exceptions=False)
    assert listed.exit_code == 0 and name in listed.output, listed.output
    version = ExperimentStore(root / "experiments").get(name, 1)
    assert version.status["state"] == "completed"
    return version, read_records(version.test_dir("test"))


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


def test_run_trains_infers_evaluates_and_lists_the_boring_model(project: Path) -> None:
    version, records = _run(project, "own_loaders")
    assert len(records) == 64 and records[0].keys() >= {"batch", "y"}
    # its records hold no predictions, so the default metrics are left out rather than failing
    assert version.metrics("test") == {}


def test_run_with_the_boring_datamodule(project: Path) -> None:
    _, records = _run(project, "with_datamodule")
    assert len(records) == 64


def test_what_a_test_step_logs_becomes_the_test_metrics(project: Path) -> None:
    version, _ = _run(project, "logging_only")
    metrics = version.metrics("test")
    assert metrics["test_loss"] > 0 and set(metrics) == {"test_loss"}


def test_the_transformer_demo_trains_on_its_own_loader_and_a_local_text(project: Path) -> None:
    trained = CliRunner().invoke(cli, ["train", "transformer"], catch_exceptions=False)
    assert trained.exit_code == 0, trained.output
    version = ExperimentStore(project / "experiments").get("transformer", 1)
    assert {p.name for p in version.checkpoints()} == {"best.ckpt", "last.ckpt"}


def test_run_needs_a_step_to_predict_with_and_says_so_before_a_version(project: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "transformer"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "LightningTransformer defines neither predict_step nor test_step" in result.output
    assert not (project / "experiments").exists() or not list((project / "experiments").iterdir())


def test_the_transformer_with_a_predict_step_runs_end_to_end(project: Path) -> None:
    version, records = _run(project, "next_word")
    assert len(records) == 2 * 2 * 35  # two batches of two blocks of 35 tokens, a record per token
    assert 0.0 <= version.metrics("test")["accuracy"] <= 1.0


def test_a_module_without_an_optimizer_is_refused_before_a_version(project: Path) -> None:
    result = CliRunner().invoke(cli, ["train", "no_optimizer"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "NoOptimizer defines no configure_optimizers" in result.output
    assert "executor.optimizer: {class_path: 'torch.optim.Adam'" in result.output
