"""Lightning's own logging path lands in the enabled loggers."""

from __future__ import annotations

import pytest

import runway
from runway.logging import Run, open_loggers
from runway.logging.csv_logger import read_metrics
from runway.plugins import make_plugin_manager


class Recorder:
    def __init__(self):
        self.metrics = []

    @runway.hookimpl
    def log_metrics(self, run, metrics, step):
        self.metrics.append((step, dict(metrics)))


def test_training_metrics_reach_the_loggers(tmp_path):
    torch = pytest.importorskip("torch")
    import lightning.pytorch as pl

    from runway.logging import RunwayLightningLogger

    class Tiny(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(2, 1)

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.layer(x), y)
            self.log("train/loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    data = torch.utils.data.TensorDataset(torch.randn(8, 2), torch.randn(8, 1))
    rec = Recorder()
    plugins = make_plugin_manager(builtins_only=True, extra_plugins=[("rec", rec)])
    run = Run("exp", 3, tmp_path / "exp_V3")
    loggers = open_loggers(["rec"], run, plugins)
    logger = RunwayLightningLogger(loggers)
    assert (logger.name, logger.version) == ("exp", 3)
    trainer = pl.Trainer(
        max_epochs=2, logger=logger, log_every_n_steps=1, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path,
    )
    trainer.fit(Tiny(), torch.utils.data.DataLoader(data, batch_size=4))
    loggers.finish("completed")

    steps = [step for step, metrics in rec.metrics if "train/loss" in metrics]
    assert steps == [0, 1, 2, 3]
    csv_steps = [row.step for row in read_metrics(run.log_dir / "metrics.csv") if row.metric == "train/loss"]
    assert csv_steps == steps
