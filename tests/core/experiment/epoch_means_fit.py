"""Two executors that differ only in how they log: ``Gathered`` is ``runway.Executor``
as it is (epoch means gathered and logged once an epoch), ``PerBatch`` calls
``self.log`` at every batch, as a Lightning user would. Fitting both on the same
data must log the same metrics, at the same steps, with the same values.

Run as ``python epoch_means_fit.py RANK WORLD PORT OUT``: one rank of a gloo DDP
fit of both executors, whose results rank zero writes to ``OUT`` as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.loggers import Logger
from torch.utils.data import DataLoader, IterableDataset, TensorDataset

from runway.experiment.executor import Executor, ExecutorContext

SAMPLES = 53


def dataset() -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(SAMPLES, 4, generator=generator), torch.randint(0, 3, (SAMPLES,), generator=generator))


class Unsized(IterableDataset):
    """The same samples with no ``len``: the Trainer does not know where an epoch ends."""

    def __iter__(self):
        yield from dataset()


class Recorder(Logger):
    """Every ``log_metrics`` call, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, dict[str, float]]] = []

    @property
    def name(self) -> str:
        return "recorder"

    @property
    def version(self) -> int:
        return 0

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.calls.append((int(step or 0), {k: round(float(v), 5) for k, v in sorted(metrics.items())}))

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        pass


class Gathered(Executor):
    loader = "sized"
    validation_loaders = 1

    def build_model(self, model_config: dict[str, Any]) -> torch.nn.Module:
        return torch.nn.Linear(4, 3)

    def step(self, batch: Any) -> dict[str, Any]:
        x, y = batch
        logits = self.model(x)
        predictions = logits.argmax(-1)
        metrics = {"accuracy": (predictions == y).float().mean(), "two": 2.0, "rank": float(self.global_rank)}
        return {"loss": torch.nn.functional.cross_entropy(logits, y), "predictions": predictions, "targets": y, "metrics": metrics}

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def _data(self) -> Any:
        return Unsized() if self.loader == "unsized" else dataset()

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self._data(), batch_size=7)

    def val_dataloader(self) -> Any:
        loaders = [DataLoader(self._data(), batch_size=size) for size in (5, 11)]
        return loaders[: self.validation_loaders] if self.validation_loaders > 1 else loaders[0]

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self._data(), batch_size=9)


class PerBatch(Gathered):
    """``self.log`` at every batch: what the gathered means must equal."""

    def _log_step(self, prefix: str, out: dict[str, Any], batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        size = len(out["targets"])
        sync = self.trainer.world_size > 1
        self.log(f"{prefix}/loss", out["loss"], on_step=prefix == "train", on_epoch=True, batch_size=size, prog_bar=True, sync_dist=sync)
        for name, value in out["metrics"].items():
            self.log(f"{prefix}/{name}", value, on_step=False, on_epoch=True, batch_size=size, sync_dist=sync)


def fit(cls: type, *, loader: str = "sized", validation_loaders: int = 1, test: bool = False, **trainer_kwargs: Any) -> dict[str, Any]:
    """Fit (and test) ``cls``; its callback metrics, its logger's calls and how often it called ``self.log``."""
    warnings.filterwarnings("ignore")
    pl.seed_everything(0, verbose=False)
    module = cls({"executor": {}, "train": {}}, ExecutorContext("epoch-means", 1, "/nonexistent"))
    module.loader, module.validation_loaders = loader, validation_loaders
    calls = {"log": 0}
    original = module.log

    def counted(*args: Any, **kwargs: Any) -> None:
        calls["log"] += 1
        original(*args, **kwargs)

    module.log = counted  # type: ignore[method-assign]
    recorder = Recorder()
    options = {"max_epochs": 2, "log_every_n_steps": 1, "enable_checkpointing": False, "enable_progress_bar": False, "enable_model_summary": False}
    trainer = pl.Trainer(logger=recorder, **{**options, **trainer_kwargs})
    trainer.fit(module)
    metrics = {k: round(float(v), 5) for k, v in trainer.callback_metrics.items()}
    if test:
        trainer.test(module, verbose=False)
        metrics.update({f"after-test:{k}": round(float(v), 5) for k, v in trainer.callback_metrics.items()})
    return {"metrics": metrics, "logged": recorder.calls, "log_calls": calls["log"]}


if __name__ == "__main__":
    rank, world, port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=port, WORLD_SIZE=str(world), NODE_RANK="0", RANK=str(rank), LOCAL_RANK=str(rank))
    distributed = {"accelerator": "cpu", "devices": world, "strategy": "ddp"}
    results = {cls.__name__: fit(cls, **distributed) for cls in (Gathered, PerBatch)}
    if rank == 0:
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(results, handle)
