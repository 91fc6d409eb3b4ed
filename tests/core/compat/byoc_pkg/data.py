"""Plain Lightning: two Gaussian blobs, split 60/20/20, as (x, y) batches."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


class BlobsDataModule(pl.LightningDataModule):
    def __init__(self, n: int = 200, features: int = 4, batch_size: int = 32, seed: int = 0) -> None:
        super().__init__()
        self.n = n
        self.features = features
        self.batch_size = batch_size
        self.seed = seed

    def setup(self, stage: str | None = None) -> None:
        generator = torch.Generator().manual_seed(self.seed)
        y = torch.arange(self.n) % 2
        x = torch.randn(self.n, self.features, generator=generator) + (y.float() * 4 - 2).unsqueeze(1)
        cut1, cut2 = int(self.n * 0.6), int(self.n * 0.8)
        self.train_set = TensorDataset(x[:cut1], y[:cut1])
        self.val_set = TensorDataset(x[cut1:cut2], y[cut1:cut2])
        self.test_set = TensorDataset(x[cut2:], y[cut2:])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.batch_size)

    def test_dataloader(self):
        return DataLoader(self.test_set, batch_size=self.batch_size)
