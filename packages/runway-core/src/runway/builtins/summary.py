"""The generic data summary used by ``inspect: true`` (asked last)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runway.hookspecs import hookimpl

SAMPLE_ROWS = 3


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@hookimpl(trylast=True)
def summarize_data(data: Any) -> dict:
    summary: dict[str, Any] = {"type": f"{type(data).__module__}.{type(data).__qualname__}"}
    shape = getattr(data, "shape", None)
    if shape is not None:
        summary["shape"] = list(shape)
        dtype = getattr(data, "dtype", None)
        if dtype is not None:
            summary["dtype"] = str(dtype)
        return summary
    if isinstance(data, Mapping):
        summary["length"] = len(data)
        summary["fields"] = [str(k) for k in list(data)[:20]]
        summary["rows"] = {str(k): _short(v) for k, v in list(data.items())[:SAMPLE_ROWS]}
    elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        summary["length"] = len(data)
        if data and isinstance(data[0], Mapping):
            summary["fields"] = [str(k) for k in data[0]]
        summary["rows"] = [_short(row) for row in data[:SAMPLE_ROWS]]
    else:
        summary["value"] = _short(data)
    return summary
