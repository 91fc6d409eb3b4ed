"""Kept for modules that import the table renderer from here; it lives in :mod:`runway.support.tables`."""

from runway.support.tables import MISSING, format_value, render_table

__all__ = ["MISSING", "format_value", "render_table"]
