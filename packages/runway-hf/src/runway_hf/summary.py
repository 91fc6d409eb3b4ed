"""What ``inspect: true`` shows of a ``Dataset`` or ``DatasetDict``."""

from __future__ import annotations

from typing import Any

SAMPLE_ROWS = 3
VALUE_CHARS = 80


def _short(value: Any) -> Any:
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 3] + "..."


def _dataset_summary(dataset: Any) -> dict[str, Any]:
    sample = dataset.select(range(min(SAMPLE_ROWS, len(dataset))))
    return {
        "length": len(dataset),
        "fields": list(dataset.column_names),
        "features": {name: str(feature) for name, feature in dataset.features.items()},
        "rows": [{k: _short(v) for k, v in row.items()} for row in sample],
    }


def summarize_dataset(data: Any) -> dict[str, Any] | None:
    """A summary of a ``Dataset``/``DatasetDict``, or ``None`` for anything else."""
    from runway_hf.transforms.base import is_hf_dataset

    if not is_hf_dataset(data):
        return None
    from datasets import Dataset

    if isinstance(data, Dataset):
        return {"type": "datasets.Dataset", **_dataset_summary(data)}
    splits = {name: _dataset_summary(ds) for name, ds in data.items()}
    return {
        "type": "datasets.DatasetDict",
        "length": sum(s["length"] for s in splits.values()),
        "splits": {name: s["length"] for name, s in splits.items()},
        "fields": {name: s["fields"] for name, s in splits.items()},
        "features": {name: s["features"] for name, s in splits.items()},
        "rows": {name: s["rows"] for name, s in splits.items()},
    }
