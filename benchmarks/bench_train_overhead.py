"""``runway train`` per training step against a plain LightningModule, timed inside each process.

The ``runway init`` template at its real size (the digits MLP, 64-128-10,
batch 64, a validation pass every epoch) trained by ``runway train`` with
everything on that a user gets by default: validation records, the csv
logger, ``best``/``last`` checkpoints, the cosine schedule. The baseline is
a script that trains the same network on the same splits as a plain
``LightningModule`` (AdamW, cross entropy, validation loss and accuracy
logged) under a ``lightning.Trainer`` with Lightning's defaults (its
logger, checkpoint, progress bar and model summary).

Both sides get one extra callback, ``EpochClock`` (a file in the project,
named in ``train.trainer_paras.callbacks`` as a user adds one), that notes
when each training epoch starts. The time per step is the mean time between
two epoch starts after the first ``SKIP`` epochs (the slowest and fastest
tenth left out), over the steps of an epoch: every epoch's training,
validation, records and checkpoints, and none of the process's start-up,
which made the earlier whole-process difference (62 against 2 epochs)
swing by a third between runs on a shared machine. Limit 1.05x. Needs the ``bench`` extra (scikit-learn for the data).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run directly or by run.py
from _processes import RUNWAY, summary, timed  # noqa: E402

EPOCHS = int(os.environ.get("RUNWAY_BENCH_TRAIN_EPOCHS", "40"))
SKIP = 2  # the first epochs import what the later ones reuse (pyarrow for the records, ...)
# a burst of another process on a shared machine lands in a few epochs of one side: the
# slowest (and fastest) tenth of the epochs are left out; a cost that comes in more
# epochs than that (a logger's write every few epochs) stays in
TRIM = 0.1
ROUNDS = int(os.environ.get("RUNWAY_BENCH_TRAIN_ROUNDS", "3"))
LIMIT = 1.05

CLOCK = """
import json, os, time
import lightning.pytorch as pl

class EpochClock(pl.Callback):
    def __init__(self):
        self.starts = []
    def on_train_epoch_start(self, trainer, pl_module):
        self.starts.append(time.perf_counter())
    def on_fit_end(self, trainer, pl_module):
        with open(os.environ["BENCH_EPOCH_STARTS"], "w") as handle:
            json.dump(self.starts, handle)
"""

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
from bench_clock import EpochClock
trainer = pl.Trainer(max_epochs=epochs, default_root_dir=root, accelerator="cpu", devices=1, callbacks=[EpochClock()])
trainer.fit(Plain(), loader("train", True), loader("validation", False))
'''


def _steps_per_epoch() -> int:
    samples = 1797  # scikit-learn's digits
    train = samples - int(samples * 0.2) - int(samples * 0.15)
    return -(-train // 64)


def trimmed_mean(values: list[float], cut: float = TRIM) -> float:
    """The mean of ``values`` without the lowest and highest ``cut`` of them."""
    ordered = sorted(values)
    drop = int(len(ordered) * cut)
    kept = ordered[drop : len(ordered) - drop] or ordered
    return sum(kept) / len(kept)


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="runway-bench-train-") as tmp:
        root = Path(tmp) / "project"
        timed([*RUNWAY, "init", str(root)])
        timed([*RUNWAY, "prepare", "example"], cwd=root)
        (root / "bench_clock.py").write_text(CLOCK, encoding="utf-8")
        script = Path(tmp) / "plain.py"
        script.write_text(PLAIN, encoding="utf-8")
        starts = Path(tmp) / "starts.json"
        env = {"PYTHONWARNINGS": "ignore", "BENCH_EPOCH_STARTS": str(starts)}
        clock = '+train.trainer_paras.callbacks=[{"class_path": "bench_clock.EpochClock"}]'

        def per_step(command: list[str], **where) -> float:
            starts.unlink(missing_ok=True)
            timed(command, env=env, **where)
            times = json.loads(starts.read_text())
            if len(times) != EPOCHS:
                raise RuntimeError(f"{command[:3]}: {len(times)} epochs started, expected {EPOCHS}")
            return trimmed_mean([b - a for a, b in zip(times[SKIP:], times[SKIP + 1 :])]) / _steps_per_epoch()

        def runway(epochs: int) -> float:
            return per_step([*RUNWAY, "train", "example", "--opts", f"train.epochs={epochs}", clock], cwd=root)

        def plain(epochs: int) -> float:
            return per_step([sys.executable, str(script), str(epochs), str(Path(tmp) / "plain"), str(root)])

        ours, theirs = [], []
        for index in range(ROUNDS):
            sides = [("runway", runway, ours), ("plain", plain, theirs)]
            for _, side, values in sides if index % 2 == 0 else reversed(sides):
                values.append(side(EPOCHS))
    row = summary(ours, theirs)
    return [{"name": "runway train per step (template, records on) vs plain Lightning", **row, "limit": LIMIT}]


if __name__ == "__main__":
    for row in run():
        print(row)
