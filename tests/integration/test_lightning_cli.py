"""A LightningCLI project moved to Runway unchanged: the YAML that LightningCLI writes for it
trains through ``runway train --config`` as a plain ``LightningCLI`` run of the same YAML does."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from unittest import mock

import pytest

pytestmark = pytest.mark.slow

MODELS = '''
import lightning.pytorch as pl
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset


class Classifier(pl.LightningModule):
    """No configure_optimizers: LightningCLI's optimizer gives it one."""

    def __init__(self, in_features: int = 4, hidden: int = 16):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(in_features, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2))

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.cross_entropy(self(x), y))

    def predict_step(self, batch, batch_idx):
        x, y = batch
        return {"preds": self(x).argmax(-1), "targets": y}


class Blobs(pl.LightningDataModule):
    def __init__(self, n: int = 120, batch_size: int = 20):
        super().__init__()
        self.n, self.batch_size = n, batch_size

    def setup(self, stage=None):
        g = torch.Generator().manual_seed(0)
        y = torch.arange(self.n) % 2
        x = torch.randn(self.n, 4, generator=g) + (y.float() * 2 - 1).unsqueeze(1)
        a, b = int(self.n * 0.6), int(self.n * 0.8)
        self.parts = {"train": (x[:a], y[:a]), "val": (x[a:b], y[a:b]), "test": (x[b:], y[b:])}

    def train_dataloader(self):
        return DataLoader(TensorDataset(*self.parts["train"]), batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(TensorDataset(*self.parts["val"]), batch_size=self.batch_size)

    def predict_dataloader(self):
        return DataLoader(TensorDataset(*self.parts["test"]), batch_size=self.batch_size)
'''

#: LightningCLI's own command line for the project; EarlyStopping with a min_delta no epoch can
#: beat stops the fit after its patience, long before max_epochs
CLI_ARGS = [
    "--model=cli_project.models.Classifier",
    "--model.hidden=8",
    "--data=cli_project.models.Blobs",
    "--data.batch_size=10",
    "--optimizer=SGD",
    "--optimizer.lr=0.05",
    "--optimizer.momentum=0.5",
    "--trainer.callbacks+=EarlyStopping",
    "--trainer.callbacks.monitor=val_loss",
    "--trainer.callbacks.patience=1",
    "--trainer.callbacks.min_delta=10",
    "--trainer.max_epochs=8",
    "--trainer.accelerator=cpu",
    "--trainer.devices=1",
    "--trainer.enable_progress_bar=false",
    "--seed_everything=11",
]


def lightning_cli(*args: str) -> str:
    """Run ``LightningCLI`` in this process, as ``python main.py ARGS`` would; its stdout."""
    from lightning.pytorch.cli import LightningCLI

    out = io.StringIO()
    with mock.patch.object(sys, "argv", ["main.py"]), contextlib.redirect_stdout(out):
        try:
            LightningCLI(args=list(args), save_config_kwargs={"overwrite": True})
        except SystemExit as exc:  # --print_config exits
            assert not exc.code, out.getvalue()
    return out.getvalue()


@pytest.fixture
def cli_project(runway_project, runway_project_packages, monkeypatch) -> Path:
    root = runway_project(files={"cli_project/__init__.py": "", "cli_project/models.py": MODELS})
    monkeypatch.syspath_prepend(str(root))
    return root


@pytest.fixture
def runway_project_packages():
    from runway.testing import TEMPLATE_PACKAGES

    return (*TEMPLATE_PACKAGES, "cli_project")


def _checkpoint(path: Path) -> dict:
    import torch

    return torch.load(path, map_location="cpu", weights_only=False)


def _early_stopping(checkpoint: dict) -> dict:
    (state,) = [v for k, v in checkpoint["callbacks"].items() if k.startswith("EarlyStopping")]
    return state


def test_the_yaml_lightning_cli_writes_trains_the_same_through_runway(cli_project: Path, runway_cli):
    import torch

    (cli_project / "fit.yaml").write_text(lightning_cli("fit", *CLI_ARGS, "--print_config"), encoding="utf-8")

    # the plain LightningCLI run of the same YAML
    lightning_cli("fit", "--config", "fit.yaml", "--trainer.default_root_dir=plain")
    (plain_path,) = (cli_project / "plain").rglob("*.ckpt")
    plain = _checkpoint(plain_path)

    shown = runway_cli("config", "show", "--config", "fit.yaml")
    assert shown.exit_code == 0, shown.output
    trained = runway_cli("train", "moved", "--config", "fit.yaml")
    assert trained.exit_code == 0, trained.output

    from runway.experiment.store import ExperimentStore

    version = ExperimentStore(cli_project / "experiments").get("moved", 1)
    assert version.status["state"] == "completed"
    moved = _checkpoint(version.checkpoints_dir / "last.ckpt")

    # the same hyperparameters (LightningCLI adds its own _class_path/_instantiator keys)
    def own(hparams: dict) -> dict:
        return {k: v for k, v in hparams.items() if not k.startswith("_")}

    assert own(moved["hyper_parameters"]) == own(plain["hyper_parameters"]) == {"in_features": 4, "hidden": 8}
    # the same callback, with the same effect: early stopping after patience, long before max_epochs (8)
    stopped = _early_stopping(plain)["stopped_epoch"]
    assert 0 < stopped < 7
    assert _early_stopping(moved)["stopped_epoch"] == stopped
    assert moved["epoch"] == plain["epoch"] == stopped
    # the same optimizer and the same training: equal weights
    for ckpt in (moved, plain):
        group = ckpt["optimizer_states"][0]["param_groups"][0]
        assert group["lr"] == 0.05 and group["momentum"] == 0.5
    assert moved["state_dict"].keys() == plain["state_dict"].keys()
    for key, value in plain["state_dict"].items():
        assert torch.allclose(moved["state_dict"][key], value), key

    # --opts by LightningCLI's keys, then infer and eval on the moved version
    again = runway_cli(
        "run", "moved", "--config", "fit.yaml", "--opts", "trainer.max_epochs=1", "model.init_args.hidden=4", '+eval.metrics=["accuracy"]'
    )
    assert again.exit_code == 0, again.output
    second = ExperimentStore(cli_project / "experiments").get("moved", 2)
    assert _checkpoint(second.checkpoints_dir / "last.ckpt")["hyper_parameters"]["hidden"] == 4
    assert 0.0 <= second.metrics("test")["accuracy"] <= 1.0


def test_a_callback_its_constructor_refuses_stops_before_a_version_exists(cli_project: Path, runway_cli):
    (cli_project / "fit.yaml").write_text(lightning_cli("fit", *CLI_ARGS, "--print_config"), encoding="utf-8")
    result = runway_cli("train", "moved", "--config", "fit.yaml", "--opts", "trainer.callbacks.0.init_args.mode=sideways")
    assert result.exit_code == 2
    assert "train.trainer_paras.callbacks.0: EarlyStopping(**init_args) failed" in result.output
    assert not (cli_project / "experiments").exists() or not any((cli_project / "experiments").iterdir())
