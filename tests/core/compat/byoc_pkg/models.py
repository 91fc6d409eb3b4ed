"""Plain Lightning: a small classifier over 2-D blobs or any feature vectors."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from torch.nn import functional as F


class _Classifier(pl.LightningModule):
    def __init__(self, in_features: int = 4, hidden: int = 8, num_classes: int = 2, lr: float = 0.1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(in_features, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.float())

    @staticmethod
    def unpack(batch):
        """(x, y) from a tuple batch or a {"x", "y"} dict batch."""
        if isinstance(batch, dict):
            return batch["x"], batch["y"]
        return batch

    def training_step(self, batch, batch_idx):
        x, y = self.unpack(batch)
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = self.unpack(batch)
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(-1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


class TinyClassifier(_Classifier):
    """Records come from predict_step: a dict with preds and targets."""

    def predict_step(self, batch, batch_idx):
        x, y = self.unpack(batch)
        probs = self(x).softmax(-1)
        return {"preds": probs.argmax(-1), "targets": y, "confidence": probs.max(-1).values}


class TestedClassifier(_Classifier):
    """No predict_step: records come from test_step, which returns the predictions only."""

    def test_step(self, batch, batch_idx):
        x, y = self.unpack(batch)
        logits = self(x)
        self.log("test_acc", (logits.argmax(-1) == y).float().mean())
        return logits.argmax(-1)
