"""Batches from rows of a tokenized ``datasets.Dataset``, padded per batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: the label padding that ``transformers`` losses ignore
IGNORE_INDEX = -100


def _is_int_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    )


class PaddingCollator:
    """Stack rows into tensors, padding token sequences to the longest in the batch.

    ``input_ids`` (and any column ending in ``input_ids``) pad with
    ``pad_token_id``; a sequence ``labels`` with ``-100``; masks and other
    integer sequences with 0. Numbers become a tensor; strings and anything
    else stay lists (shown in inference records, not given to the model).
    """

    def __init__(self, pad_token_id: int = 0, *, padding_side: str = "right") -> None:
        self.pad_token_id = pad_token_id
        self.padding_side = padding_side

    def pad_value(self, column: str) -> int:
        if column.endswith("input_ids"):
            return self.pad_token_id
        if column == "labels":
            return IGNORE_INDEX
        return 0

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        import torch

        batch: dict[str, Any] = {}
        for column in rows[0]:
            values = [row[column] for row in rows]
            first = values[0]
            if _is_int_sequence(first) and all(_is_int_sequence(v) for v in values):
                batch[column] = self._padded(column, values, torch)
            elif isinstance(first, (int, float)) and not isinstance(first, bool):
                batch[column] = torch.tensor(values)
            elif isinstance(first, bool):
                batch[column] = torch.tensor(values, dtype=torch.bool)
            else:
                batch[column] = values
        return batch

    def _padded(self, column: str, values: list[Sequence[int]], torch: Any) -> Any:
        width = max((len(v) for v in values), default=0)
        fill = self.pad_value(column)
        out = torch.full((len(values), width), fill, dtype=torch.long)
        for i, seq in enumerate(values):
            if not seq:
                continue
            row = torch.tensor(list(seq), dtype=torch.long)
            if self.padding_side == "left":
                out[i, width - len(seq) :] = row
            else:
                out[i, : len(seq)] = row
        return out
