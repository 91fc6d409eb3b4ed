"""Plain-text tables for the terminal: left-aligned text, right-aligned numbers."""

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


def render_table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, max_width: int = 40) -> list[str]:
    """The lines of a table; cells longer than ``max_width`` are cut with ``...``."""

    def text(cell: Any) -> str:
        shown = format_value(cell)
        return shown if len(shown) <= max_width else shown[: max_width - 3] + "..."

    cells = [[text(c) for c in row] for row in rows]
    widths = [len(h) for h in header]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    for raw, row in zip(rows, cells):
        parts = [c.rjust(w) if _numeric(r) else c.ljust(w) for r, c, w in zip(raw, row, widths)]
        lines.append("  ".join(parts).rstrip())
    return lines
