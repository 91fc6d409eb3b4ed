"""Per-sample records of every validation epoch: ``train/validation/epoch-<n>.parquet``.

While a ``runway.Executor`` trains, each validation epoch's predictions,
targets and input summaries (the same records ``runway infer`` writes for a
test run) are written atomically to ``train/validation/epoch-<n>.parquet``
(``n`` from 0, Lightning's epoch; read them with
:func:`runway.experiment.records.read_records`), with images under
``train/validation/images/epoch-<n>/``. Lightning's sanity check before
training is not recorded. Under DDP each rank writes the samples it saw to
``epoch-<n>-rank<r>.parquet``, indexed as Lightning's ``DistributedSampler``
deals them (sample ``i`` to rank ``i % world_size``; it repeats a few
samples to even out the ranks); :func:`runway.experiment.records.merge_records`
joins them.

The step outputs are kept as they come (detached) and turned into records
a few dozen batches at a time and when the epoch ends, so that a training
run's validation loop does no per-sample Python work between its batches.

``train.validation_records: false`` turns it off. An executor whose ``step``
returns no ``predictions`` during validation (``HFSeq2Seq`` generates only at
inference) writes no validation records.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runway.experiment.records import IMAGES_FOLDER, write_records

if TYPE_CHECKING:
    from runway.experiment.settings import Settings

VALIDATION_FOLDER = "validation"
#: batches of step outputs held before they are turned into records (bounds the memory held)
PENDING_BATCHES = 64


def _detached(value: Any) -> Any:
    """``value`` with its tensors detached, so that holding it keeps no autograd graph alive."""
    if hasattr(value, "detach") and hasattr(value, "requires_grad"):
        return value.detach() if value.requires_grad else value
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not isinstance(value, str):
        items = [_detached(v) for v in value]
        return type(value)(items) if type(value) in (list, tuple) else value
    return value


def epoch_file(folder: Path, epoch: int, rank: int | None = None) -> Path:
    """The records file of validation epoch ``epoch`` (of ``rank`` under DDP)."""
    shard = "" if rank is None else f"-rank{rank}"
    return folder / f"epoch-{epoch}{shard}.parquet"


@functools.cache
def validation_records_class() -> type:
    """The Lightning callback class (built on first use: it imports Lightning)."""
    from lightning.pytorch.callbacks import Callback

    class ValidationRecords(Callback):
        """Collects each validation batch's records and writes them when the epoch ends."""

        def __init__(self, folder: Path | str) -> None:
            self.folder = Path(folder)
            self.records: list[dict[str, Any]] = []
            self.pending: list[tuple[Any, Any]] = []

        def on_validation_epoch_start(self, trainer: Any, pl_module: Any) -> None:
            self.records = []
            self.pending = []

        def on_validation_batch_end(
            self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0
        ) -> None:
            if trainer.sanity_checking or not hasattr(pl_module, "step_records"):
                return
            if not isinstance(outputs, dict) or outputs.get("predictions") is None:
                return
            self.pending.append((_detached(outputs), _detached(batch)))
            if len(self.pending) >= PENDING_BATCHES:
                self._convert(trainer, pl_module)

        def _convert(self, trainer: Any, pl_module: Any) -> None:
            # Under DDP, Lightning's DistributedSampler (no shuffling for validation)
            # deals sample i to rank i % world_size: count indices the same way
            world, rank = int(trainer.world_size), int(trainer.global_rank)
            for outputs, batch in self.pending:
                start = len(self.records)
                for offset, record in enumerate(pl_module.step_records(outputs, batch)):
                    self.records.append({"index": (start + offset) * world + rank, **record})
            self.pending = []

        def on_validation_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            if trainer.sanity_checking:
                return
            self._convert(trainer, pl_module)
            if not self.records:
                return
            epoch = int(trainer.current_epoch)
            rank = int(trainer.global_rank) if trainer.world_size > 1 else None
            images = f"{IMAGES_FOLDER}/epoch-{epoch}" + ("" if rank is None else f"-rank{rank}")
            write_records(epoch_file(self.folder, epoch, rank), self.records, images_subdir=images)
            self.records = []

    return ValidationRecords


def validation_callbacks(settings: Settings, train_dir: Path) -> list[Any]:
    """The callbacks that record validation epochs under ``train_dir`` (none when
    ``train.validation_records`` is off)."""
    if not settings.train.validation_records:
        return []
    return [validation_records_class()(Path(train_dir) / VALIDATION_FOLDER)]
