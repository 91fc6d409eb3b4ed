"""Per-sample records from what a module's ``predict_step`` or ``test_step`` returns.

Both executor forms go through :func:`records_from_batch`: a
``runway.Executor``'s ``predict_step`` already returns one dict per sample;
any other ``LightningModule`` may return

- a dict with ``preds`` (or ``predictions``/``prediction``) and optionally
  ``targets`` (or ``target``/``labels``/``label``); other values with one
  item per sample, and scalars, are kept in the record under their own names;
- a pair ``(preds, targets)``;
- a list of dicts, already one per sample (each with ``prediction``);
- the predictions alone (a tensor or a list).

Targets missing from the output are taken from the batch
(:func:`targets_from_batch`). A ``test_step`` may also return nothing (it
only logs: its metrics are the result).

A dict with none of those keys is kept as it is, field by field
(:func:`records_from_fields`): values with one item per sample of the batch
give one record per sample, with the batch's scalars beside them;
otherwise the batch is one record, numbered by ``batch`` (``BoringModel``'s
``{"y": loss}``). ``runway eval`` reads the fields that
``eval.prediction_field`` and ``eval.target_field`` name.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runway.errors import ExperimentError

#: where a prediction and its target are found in a dict that a step returns
PREDICTION_KEYS = ("preds", "predictions", "prediction")
TARGET_KEYS = ("targets", "target", "labels", "label")
#: where the target is found in a dict batch, when the output has none
BATCH_TARGET_KEYS = ("labels", "label", "targets", "target", "y")
#: the field that numbers a test_step's per-batch records
BATCH_FIELD = "batch"

RecordMaker = Callable[[Any, Any], list[dict[str, Any]]]


def _plain(value: Any) -> Any:
    """A JSON-friendly value from a tensor, an array or a scalar."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        return value.item() if value.numel() == 1 else value.tolist()
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    return value


def _sized(value: Any) -> bool:
    if hasattr(value, "shape"):
        return len(getattr(value, "shape")) > 0
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _first(mapping: Mapping[str, Any], keys: Sequence[str]) -> tuple[str | None, Any]:
    for key in keys:
        if key in mapping and mapping[key] is not None:
            return key, mapping[key]
    return None, None


def targets_from_batch(batch: Any) -> Any:
    """The targets in a batch: a dict's ``labels``/``label``/``targets``/``target``/``y``,
    or the second item of an ``(inputs, targets)`` pair; ``None`` when there are none."""
    if isinstance(batch, Mapping):
        return _first(batch, BATCH_TARGET_KEYS)[1]
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[1]
    return None


def records_from_batch(outputs: Any, batch: Any) -> list[dict[str, Any]]:
    """One record per sample from a step's output and its batch (see the module docstring).

    Each record has ``prediction`` and, where known, ``target``.
    """
    if outputs is None:
        raise ExperimentError(
            "predict_step/test_step returned nothing to record; return the predictions, "
            "(preds, targets) or {'preds': ..., 'targets': ...}"
        )
    extras: dict[str, Any] = {}
    shared: dict[str, Any] = {}
    if isinstance(outputs, Mapping):
        pred_key, predictions = _first(outputs, PREDICTION_KEYS)
        if pred_key is None:
            raise ExperimentError(
                f"predict_step/test_step returned a dict with keys {sorted(map(str, outputs))}; "
                f"records need one of {', '.join(PREDICTION_KEYS)}"
            )
        target_key, targets = _first(outputs, TARGET_KEYS)
        size = len(predictions)
        extras = {
            str(k): v
            for k, v in outputs.items()
            if k not in (pred_key, target_key) and _sized(v) and len(v) == size
        }
        shared = {
            str(k): _plain(v) for k, v in outputs.items() if k not in (pred_key, target_key) and str(k) not in extras and _scalar(v)
        }
    elif isinstance(outputs, list) and outputs and all(isinstance(o, Mapping) for o in outputs):
        return [dict(o) if "prediction" in o else {"prediction": o} for o in outputs]
    elif isinstance(outputs, tuple) and len(outputs) == 2 and all(_sized(o) for o in outputs):
        predictions, targets = outputs
    else:
        predictions, targets = outputs, None
    if targets is None:
        targets = targets_from_batch(batch)
    if targets is not None and len(targets) != len(predictions):
        targets = None  # not one per sample: do not guess
    records = []
    for i in range(len(predictions)):
        record: dict[str, Any] = {"prediction": _plain(predictions[i])}
        if targets is not None:
            record["target"] = _plain(targets[i])
        for name, values in extras.items():
            record[name] = _plain(values[i])
        record.update(shared)
        records.append(record)
    return records


def batch_size_of(batch: Any) -> int | None:
    """The number of samples in ``batch`` (a tensor, a sequence of them, a dict of them), if it says."""
    if hasattr(batch, "shape"):
        shape = getattr(batch, "shape")
        return int(shape[0]) if len(shape) else None
    if isinstance(batch, Mapping):
        values = list(batch.values())
    elif isinstance(batch, (list, tuple)):
        values = list(batch)
    else:
        return None
    for value in values:
        if hasattr(value, "shape") and len(getattr(value, "shape")):
            return int(value.shape[0])
    for value in values:
        if isinstance(value, (list, tuple)):
            return len(value)
    return None


def _scalar(value: Any) -> bool:
    if hasattr(value, "numel"):
        return value.numel() == 1
    return isinstance(value, (int, float, str, bool)) or value is None


def records_from_fields(outputs: Mapping[str, Any], batch: Any, batch_idx: int) -> list[dict[str, Any]]:
    """Records from a step's dict of any keys, every field kept (see the module docstring)."""
    size = batch_size_of(batch)
    per_sample = {str(k): v for k, v in outputs.items() if size is not None and _sized(v) and len(v) == size}
    if not per_sample:
        return [{BATCH_FIELD: batch_idx, **{str(k): _plain(v) for k, v in outputs.items()}}]
    shared = {str(k): _plain(v) for k, v in outputs.items() if str(k) not in per_sample and _scalar(v)}
    return [{**{k: _plain(v[i]) for k, v in per_sample.items()}, **shared} for i in range(int(size or 0))]


def records_from_test_step(outputs: Any, batch: Any, batch_idx: int, make: RecordMaker = records_from_batch) -> list[dict[str, Any]]:
    """Records from a ``test_step``'s output, which, unlike ``predict_step``'s, may hold no predictions.

    Nothing returned: no records (what the step logs is the result). A dict
    without any of :data:`PREDICTION_KEYS`: :func:`records_from_fields`.
    Anything else: ``make(outputs, batch)``.
    """
    if outputs is None:
        return []
    return records_from_predict_step(outputs, batch, batch_idx, make)


def records_from_predict_step(outputs: Any, batch: Any, batch_idx: int, make: RecordMaker = records_from_batch) -> list[dict[str, Any]]:
    """Records from a ``predict_step``'s output: a dict without any of :data:`PREDICTION_KEYS`
    by :func:`records_from_fields`, anything else by ``make(outputs, batch)``."""
    if isinstance(outputs, Mapping) and _first(outputs, PREDICTION_KEYS)[0] is None:
        return records_from_fields(outputs, batch, batch_idx)
    return make(outputs, batch)


def finite_metrics(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    """Scalar metrics as floats; NaN and infinities as ``None`` (JSON holds neither)."""
    out: dict[str, float | None] = {}
    for name, value in metrics.items():
        number = float(value)
        out[str(name)] = number if math.isfinite(number) else None
    return out


@functools.cache
def record_collector_class() -> type:
    """The Lightning callback that turns every predict/test batch's output into records
    as the batch ends (built on first use: it imports Lightning)."""
    from lightning.pytorch.callbacks import Callback

    class RecordCollector(Callback):
        def __init__(self, make: RecordMaker = records_from_batch) -> None:
            self.make = make
            self.records: list[dict[str, Any]] = []

        def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
            self.records.extend(records_from_predict_step(outputs, batch, batch_idx, self.make))

        def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
            self.records.extend(records_from_test_step(outputs, batch, batch_idx, self.make))

    return RecordCollector
