"""``runway.Executor``: the LightningModule base that experiments train and test.

An executor gets everything from the experiment's config and the run's
:class:`ExecutorContext`:

- its model from ``executor.model`` (``class_path`` ``"pkg.module:Class"``
  plus ``init_args``) unless the subclass overrides :meth:`build_model`;
- its data from the pipeline outputs named by ``executor.data`` (see
  :mod:`runway.experiment.data`), batched by ``train.batch_size`` /
  ``test.batch_size``;
- its optimizer and schedule from ``executor.optimizer`` and
  ``executor.scheduler`` (see :mod:`runway.experiment.optim`).

A subclass implements one method, :meth:`step`, that turns a batch into its
loss, predictions and targets. The base logs ``train/loss`` (at every step
and as the epoch's mean), ``val/loss`` and any ``metrics`` that ``step``
returns (``train/<name>``, ``val/<name>``, as epoch means: see
:class:`EpochMeans`), and turns predictions into the per-sample records that
``runway infer`` writes. A subclass that overrides ``on_train_epoch_end`` (or
the ``*_epoch_start`` hooks) calls ``super()``'s, which logs the means of an
epoch cut short.

.. code-block:: python

    @runway.register_executor("classifier")
    class Classifier(runway.Executor):
        def step(self, batch):
            logits = self.model(batch["x"])
            loss = torch.nn.functional.cross_entropy(logits, batch["y"])
            predictions = logits.argmax(-1)
            accuracy = (predictions == batch["y"]).float().mean()
            return {"loss": loss, "predictions": predictions, "targets": batch["y"], "metrics": {"accuracy": accuracy}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.utilities.data import extract_batch_size
from torch.utils.data import DataLoader

from runway.errors import ConfigError
from runway.experiment.data import as_dataset
from runway.experiment.optim import build_optimizer, build_scheduler
from runway.experiment.settings import Settings, parse_settings

# a tensor row with more values than this is summarised, not copied, in records
INPUT_VALUES_SHOWN = 8


@dataclass
class ExecutorContext:
    """What an executor needs besides the config.

    ``data`` maps a split (``train``, ``validation``, ``test``) to its data;
    ``stage`` is ``fit`` or ``predict``; ``settings`` are the run's parsed
    :class:`~runway.experiment.settings.Settings` (parsed from the config
    when ``None``).
    """

    experiment: str
    version: int
    version_dir: Path
    project: Any = None
    data: dict[str, Any] = field(default_factory=dict)
    plugins: Any = None
    stage: str = "fit"
    settings: Settings | None = None


def _plain(value: Any) -> Any:
    """A JSON-friendly version of a tensor element or row."""
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    return value


def _per_sample(values: Any) -> Any:
    """A tensor as one list, an item a sample, in one call (indexing it per sample is slow):
    numbers for 1-D tensors and for rows of one value, lists for other rows."""
    if isinstance(values, torch.Tensor) and values.dim() >= 1:
        values = values.detach().cpu()
        if values.dim() > 1 and len(values) and values[0].numel() == 1:
            values = values.reshape(len(values))
        return values.tolist()
    return values


def _describe_column(values: Any, size: int) -> list[Any]:
    """:func:`_describe` of each of a batch field's ``size`` samples, in a few calls per batch."""
    if isinstance(values, torch.Tensor) and values.dim() >= 1 and len(values) == size:
        rows = values.detach()
        per_sample = rows[0].numel() if size else 0
        if per_sample <= INPUT_VALUES_SHOWN:
            return _per_sample(rows)
        means = rows.reshape(size, -1).float().mean(dim=1).cpu().tolist()
        shape = list(rows.shape[1:])
        return [{"shape": list(shape), "mean": round(mean, 6)} for mean in means]
    return [_describe(values[i]) for i in range(size)]


def _describe(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        if value.numel() <= INPUT_VALUES_SHOWN:
            return _plain(value)
        as_float = value.detach().float()
        return {"shape": list(value.shape), "mean": round(as_float.mean().item(), 6)}
    if isinstance(value, str) and len(value) > 200:
        return value[:197] + "..."
    return value


class EpochMeans:
    """The values an executor logs as epoch means, gathered batch by batch and
    handed to ``self.log`` once an epoch.

    Lightning's ``self.log`` costs about a millisecond a call on a CPU, whatever
    the value: for a small model, more than the step itself. A value logged
    ``on_step=False, on_epoch=True`` needs only its epoch's batch-size-weighted
    mean, so it is kept here (a detached scalar and its batch size, no
    synchronisation with the device) and logged once, as that mean with the
    summed batch size: Lightning's epoch value, and its weighted mean over DDP
    ranks, are then what logging every batch gives. Only numbers and one-value
    tensors are kept; anything else (a ``torchmetrics.Metric``) is logged as it
    comes.
    """

    def __init__(self) -> None:
        self.pending: dict[str, tuple[list[torch.Tensor], list[int]]] = {}

    @staticmethod
    def scalar(value: Any) -> torch.Tensor | None:
        """``value`` as a detached 0-d tensor, or ``None`` when it is not a scalar."""
        if isinstance(value, torch.Tensor):
            return value.detach().reshape(()) if value.numel() == 1 else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return torch.tensor(float(value))
        return None

    def add(self, name: str, value: torch.Tensor, size: int) -> None:
        """Keep ``value`` (a :meth:`scalar`) of a batch of ``size`` samples."""
        values, sizes = self.pending.setdefault(name, ([], []))
        values.append(value)
        sizes.append(int(size))

    def _names(self, prefix: str) -> list[str]:
        return [name for name in self.pending if name.startswith(f"{prefix}/")]

    def discard(self, prefix: str) -> None:
        """Forget the values under ``prefix`` (left by an epoch that was cut short)."""
        for name in self._names(prefix):
            del self.pending[name]

    def drain(self, prefix: str) -> list[tuple[str, torch.Tensor, int]]:
        """``(name, weighted mean, summed batch size)`` of each value under ``prefix``, forgotten here."""
        out = []
        dtype = torch.get_default_dtype()
        for name in self._names(prefix):
            values, sizes = self.pending.pop(name)
            device = values[0].device
            stacked = torch.stack([v.to(device=device, dtype=dtype) for v in values])
            weights = torch.tensor(sizes, dtype=dtype, device=device)
            total = sum(sizes)
            out.append((name, (stacked * weights).sum() / total, total))
        return out


def model_class(model_config: dict[str, Any]) -> type:
    """The ``torch.nn.Module`` class that ``executor.model.class_path`` names (checked: a class of that kind)."""
    from runway.support.imports import import_class

    return import_class(str(model_config["class_path"]), "executor.model.class_path", torch.nn.Module)


class Executor(pl.LightningModule):
    """Base class of experiment executors (see the module docstring)."""

    def __init__(self, config: dict[str, Any], context: ExecutorContext) -> None:
        super().__init__()
        self.config = config
        self.context = context
        given = getattr(context, "settings", None)
        self.settings: Settings = given if given is not None else parse_settings(config)
        # the sections as written, for subclasses and plugins that read keys of their own
        self.executor_config: dict[str, Any] = dict(config.get("executor") or {})
        self.train_config: dict[str, Any] = dict(config.get("train") or {})
        self.test_config: dict[str, Any] = dict(config.get("test") or {})
        self.model = self.build_model(dict(self.executor_config.get("model") or {}))
        self._epoch_means = EpochMeans()

    # ---- what subclasses provide -------------------------------------------

    def build_model(self, model_config: dict[str, Any]) -> torch.nn.Module:
        """The network, from ``executor.model``: ``class_path`` and ``init_args``."""
        class_path = model_config.get("class_path")
        if not class_path:
            raise ConfigError(
                "executor.model.class_path: not set; name the model class ('modeling.mlp:MLP') "
                "or override build_model() in the executor"
            )
        cls = model_class(model_config)
        init_args = model_config.get("init_args") or {}
        try:
            return cls(**init_args)
        except TypeError as exc:
            raise ConfigError(f"executor.model.init_args: {exc}") from None

    def step(self, batch: Any) -> dict[str, Any]:
        """Loss, ``predictions`` and ``targets`` (and optional ``metrics``) of a batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement step(self, batch)")

    def describe_inputs(self, batch: Any) -> list[Any]:
        """One short, JSON-friendly description of each sample's input, for the records."""
        if isinstance(batch, dict):
            size = len(next(iter(batch.values()))) if batch else 0
            fields = {k: v for k, v in batch.items() if k not in ("y", "label", "labels", "target", "targets")}
            columns = {k: _describe_column(v, size) for k, v in fields.items()}
            return [{k: column[i] for k, column in columns.items()} for i in range(size)]
        if isinstance(batch, (list, tuple)) and batch:
            return _describe_column(batch[0], len(batch[0]))
        return []

    # ---- Lightning -----------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)

    def _batch_size(self, out: dict[str, Any]) -> int | None:
        targets = out.get("targets")
        return len(targets) if targets is not None and hasattr(targets, "__len__") else None

    def _log_step(self, prefix: str, out: dict[str, Any], batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        """Log ``<prefix>/loss`` and ``step``'s metrics: the training loss at every
        step and as the epoch's mean, everything else as the epoch's mean only."""
        size = self._batch_size(out)
        sync = self._sync_dist
        epoch_only = dict(out.get("metrics") or {})
        if prefix == "train":
            self.log(f"{prefix}/loss", out["loss"], on_step=True, on_epoch=True, batch_size=size, prog_bar=True, sync_dist=sync)
        else:
            epoch_only = {"loss": out["loss"], **epoch_only}
        for name, value in epoch_only.items():
            scalar = EpochMeans.scalar(value)
            if scalar is None:
                self.log(f"{prefix}/{name}", value, on_step=False, on_epoch=True, batch_size=size, prog_bar=name == "loss", sync_dist=sync)
                continue
            if size is None:
                size = extract_batch_size(batch)  # as Lightning infers it, once a batch
            self._epoch_means.add(f"{prefix}/{name}", scalar, size)
        if self._ends_epoch(batch_idx, dataloader_idx):
            self._log_epoch_means(prefix)

    @property
    def _sync_dist(self) -> bool:
        """Epoch values are averaged over every rank; a single process skips the collective."""
        return self._trainer is not None and self.trainer.world_size > 1

    def _ends_epoch(self, batch_idx: int, dataloader_idx: int) -> bool:
        """Whether this is the last batch of the epoch (of its dataloader), as far as
        the Trainer knows. A training epoch of unknown length is logged when it ends
        (``on_train_epoch_end``); an evaluation of unknown length at every batch."""
        trainer = self._trainer
        if trainer is None:
            return True
        try:
            if trainer.training:
                return batch_idx + 1 >= trainer.num_training_batches
            if trainer.sanity_checking:
                batches = trainer.num_sanity_val_batches
            elif trainer.testing:
                batches = trainer.num_test_batches
            else:
                batches = trainer.num_val_batches
            total = batches[dataloader_idx]
        except (AttributeError, IndexError, TypeError):
            return True
        return total == float("inf") or batch_idx + 1 >= total

    def _log_epoch_means(self, prefix: str) -> None:
        for name, mean, total in self._epoch_means.drain(prefix):
            self.log(name, mean, on_step=False, on_epoch=True, batch_size=total, prog_bar=name == f"{prefix}/loss", sync_dist=self._sync_dist)

    def on_train_epoch_start(self) -> None:
        self._epoch_means.discard("train")  # nothing carried over from an epoch that was cut short

    def on_train_epoch_end(self) -> None:
        # an epoch that stopped before its last batch (max_steps, a stop request, a
        # loader of unknown length): its means are logged here, before the
        # checkpoint and early-stopping callbacks read them
        self._log_epoch_means("train")

    def on_validation_epoch_start(self) -> None:
        self._epoch_means.discard("val")

    def on_test_epoch_start(self) -> None:
        self._epoch_means.discard("test")

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        out = self.step(batch)
        self._log_step("train", out, batch, batch_idx)
        return out["loss"]

    def validation_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> dict[str, Any]:
        out = self.step(batch)
        self._log_step("val", out, batch, batch_idx, dataloader_idx)
        return out  # the per-epoch validation records are made from it (ValidationRecords)

    def test_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._log_step("test", self.step(batch), batch, batch_idx, dataloader_idx)

    def predict_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> list[dict[str, Any]]:
        return self.step_records(self.step(batch), batch)

    def step_records(self, out: dict[str, Any], batch: Any) -> list[dict[str, Any]]:
        """One record per sample (``prediction``, ``target``, ``input``) from ``step``'s output.

        Predictions and targets may be tensors, lists or PIL images (and lists
        of them); the records writer stores tensors as lists and images as PNG.
        """
        predictions = out.get("predictions")
        targets = out.get("targets")
        if predictions is None:
            raise ValueError(f"{type(self).__name__}.step() returned no 'predictions' to record")
        inputs = self.describe_inputs(batch)
        predictions, targets = _per_sample(predictions), _per_sample(targets)
        records = []
        for i in range(len(predictions)):
            record: dict[str, Any] = {"prediction": _plain(predictions[i])}
            if targets is not None:
                record["target"] = _plain(targets[i])
            if i < len(inputs):
                record["input"] = inputs[i]
            records.append(record)
        return records

    def configure_optimizers(self) -> Any:
        optimizer = build_optimizer(self.parameters(), self.settings.executor.optimizer)
        spec = self.settings.executor.scheduler
        if spec is None:
            return optimizer
        total = int(self.trainer.estimated_stepping_batches) if self._trainer is not None else 1
        scheduler = build_scheduler(optimizer, spec, total)
        if scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": scheduler}

    # ---- data ------------------------------------------------------------------

    def _loader(self, split: str, *, shuffle: bool, batch_size: int) -> DataLoader:
        if split not in self.context.data:
            raise ConfigError(f"executor.data.{split}: not set; the {split} split has no data")
        return DataLoader(
            as_dataset(self.context.data[split]),
            batch_size=batch_size,
            shuffle=shuffle,
            num_workers=self.settings.train.num_workers,
        )

    def has_split(self, split: str) -> bool:
        return split in self.context.data

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True, batch_size=self.settings.train.batch_size)

    def val_dataloader(self) -> Any:
        if not self.has_split("validation"):
            return []
        return self._loader("validation", shuffle=False, batch_size=self.settings.train.batch_size)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False, batch_size=self.settings.test.batch_size)

    def test_dataloader(self) -> DataLoader:
        return self.predict_dataloader()
