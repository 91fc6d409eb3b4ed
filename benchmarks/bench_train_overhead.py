"""``runway train`` per training step against a plain LightningModule, as processes.

The ``runway init`` template at its real size (the digits MLP, 64-128-10,
batch 64, a validation pass every epoch) trained by ``runway train`` with
everything on that a user gets by default: validation records, the csv
logger, ``best``/``last`` checkpoints, the cosine schedule. The baseline is
a script that trains the same network on the same splits as a plain
``LightningModule`` (AdamW, cross entropy, validation loss and accuracy
logged) under a ``lightning.Trainer`` with Lightning's defaults (its
logger, checkpoint, progress bar and model summary).

Each side runs as a fresh process for ``SHORT`` and for ``LONG`` epochs; the
time per step is the difference over the difference in steps, so start-up
(imports, the data cache load) cancels out and what is left is the training
loop with validation, amortised per step. The difference is 60 epochs
(about 1,000 steps, several seconds): over 10 epochs it was a fraction of a
second, within the noise of a process's start-up, and the per-step values
(and their spread) meant nothing. Limit 1.05x. Needs the ``bench``
extra (scikit-learn for the data).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run directly or by run.py
from _processes import RUNWAY, summary, timed  # noqa: E402

SHORT = int(os.environ.get("RUNWAY_BENCH_SHORT_EPOCHS", "2"))
LONG = int(os.environ.get("RUNWAY_BENCH_LONG_EPOCHS", "62"))
ROUNDS = int(os.environ.get("RUNWAY_BENCH_TRAIN_ROUNDS", "3"))
LIMIT = 1.05

PLAIN = r'''
import sys, random, time
import numpy as np
import torch
import lightning.pytorch as pl
from sklearn.datasets import load_digits
sys.path.insert(0, sys.argv[3])
from modeling.mlp import MLP

epochs, root = int(sys.argv[1]), sys.argv[2]
digits = load_digits()
order = list(range(len(digits.target)))
random.Random(0).shuffle(order)
n_test, n_val = int(len(order) * 0.2), int(len(order) * 0.15)
parts = {"validation": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
x = digits.data.astype(np.float32)
train = x[parts["train"]]
mean, std = train.mean(0), train.std(0)
std[std <= 1e-3] = 1.0
def split(name):
    rows = parts[name]
    return torch.utils.data.TensorDataset(torch.tensor((x[rows] - mean) / std), torch.tensor(digits.target[rows]))

class Plain(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.model = MLP(64, [128], 10, 0.1)
    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.model(x), y)
        self.log("train/loss", loss)
        return loss
    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self.model(x)
        self.log("val/loss", torch.nn.functional.cross_entropy(logits, y))
        self.log("val/accuracy", (logits.argmax(-1) == y).float().mean())
    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=0.003, weight_decay=0.0001)

pl.seed_everything(42)
loader = lambda name, shuffle: torch.utils.data.DataLoader(split(name), batch_size=64, shuffle=shuffle)
trainer = pl.Trainer(max_epochs=epochs, default_root_dir=root, accelerator="cpu", devices=1)
trainer.fit(Plain(), loader("train", True), loader("validation", False))
'''


def _steps_per_epoch() -> int:
    samples = 1797  # scikit-learn's digits
    train = samples - int(samples * 0.2) - int(samples * 0.15)
    return -(-train // 64)


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="runway-bench-train-") as tmp:
        root = Path(tmp) / "project"
        timed([*RUNWAY, "init", str(root)])
        timed([*RUNWAY, "prepare", "example"], cwd=root)
        script = Path(tmp) / "plain.py"
        script.write_text(PLAIN, encoding="utf-8")
        env = {"PYTHONWARNINGS": "ignore"}

        def runway(epochs: int) -> float:
            return timed([*RUNWAY, "train", "example", "--opts", f"train.epochs={epochs}"], cwd=root, env=env)

        def plain(epochs: int) -> float:
            return timed([sys.executable, str(script), str(epochs), str(Path(tmp) / "plain"), str(root)], env=env)

        runway(SHORT), plain(SHORT)  # warm the file cache
        steps = (LONG - SHORT) * _steps_per_epoch()
        ours, theirs = [], []
        for index in range(ROUNDS):
            sides = [("runway", runway), ("plain", plain)]
            if index % 2:
                sides.reverse()
            times = {name: (side(LONG), side(SHORT)) for name, side in sides}
            ours.append((times["runway"][0] - times["runway"][1]) / steps)
            theirs.append((times["plain"][0] - times["plain"][1]) / steps)
    row = summary(ours, theirs)
    return [{"name": "runway train per step (template, records on) vs plain Lightning", **row, "limit": LIMIT}]


if __name__ == "__main__":
    for row in run():
        print(row)
