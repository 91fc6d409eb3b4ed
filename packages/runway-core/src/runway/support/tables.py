"""Plain-text tables for the terminal: left-aligned text, right-aligned numbers.

Every table a command prints goes through :func:`render_table`, so that the
columns of ``runway compare``, ``runway list`` or ``runway cache ls`` line up
and show values the same way (:func:`format_value`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

MISSING = "-"


def format_value(value: Any) -> str:
    """A cell: floats with 4 significant digits past the point, JSON for lists and objects."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e5 else f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _numeric(cell: Any) -> bool:
    return isinstance(cell, (int, float)) and not isinstance(cell, bool)


def render_table(
    header: Sequence[str] | None,
    rows: Sequence[Sequence[Any]],
    *,
    max_width: int | None = 40,
    align: str | None = None,
) -> list[str]:
    """The lines of a table, a header line first unless ``header`` is ``None``.

    Cells longer than ``max_width`` are cut with ``...`` (``None``: never).
    ``align`` gives each column's alignment, ``<`` or ``>`` (``"<>>"``);
    without it numbers are right-aligned and the rest left-aligned. Lines
    carry no trailing blanks, so the last column may hold free text.
    """

    def text(cell: Any) -> str:
        shown = format_value(cell)
        return shown if max_width is None or len(shown) <= max_width else shown[: max_width - 3] + "..."

    cells = [[text(c) for c in row] for row in rows]
    columns = len(header) if header is not None else max((len(row) for row in cells), default=0)
    widths = [len(h) for h in header] if header is not None else [0] * columns
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def right(i: int, raw: Any) -> bool:
        return align[i] == ">" if align is not None else _numeric(raw)

    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()] if header is not None else []
    for raw, row in zip(rows, cells):
        parts = [c.rjust(w) if right(i, r) else c.ljust(w) for i, (r, c, w) in enumerate(zip(raw, row, widths))]
        lines.append("  ".join(parts).rstrip())
    return lines
