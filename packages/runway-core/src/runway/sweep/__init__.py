"""Sweeps: one experiment run once per point of a grid or a random sample.

``runway sweep NAME --opts lr=1e-3,1e-4 batch=32,64`` (see
:mod:`runway.sweep.space` for the forms of values and ranges) allocates one
experiment version per point and runs them locally or hands them to a
launcher as one job array. The ledger ``experiments/_sweeps/<id>.json``
(:mod:`runway.sweep.ledger`) records every point: its overrides, version,
state and error; ``runway sweep status`` and ``runway sweep resume`` read it.
"""

from __future__ import annotations

from runway.support.lazy import lazy_attributes

# public name -> "module:attribute", imported on first access: importing a
# module of this package (a plugin's, a command's) does not import them all
_LAZY: dict[str, str] = {
    "Ledger": "runway.sweep.ledger:Ledger",
    "all_ledgers": "runway.sweep.ledger:all_ledgers",
    "find_ledger": "runway.sweep.ledger:find_ledger",
    "Axis": "runway.sweep.space:Axis",
    "Point": "runway.sweep.space:Point",
    "Range": "runway.sweep.space:Range",
    "expand_grid": "runway.sweep.space:expand_grid",
    "parse_axes": "runway.sweep.space:parse_axes",
    "parse_axis": "runway.sweep.space:parse_axis",
    "parse_range": "runway.sweep.space:parse_range",
    "sample_random": "runway.sweep.space:sample_random",
    "split_top_level": "runway.sweep.space:split_top_level",
}

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())

__all__ = sorted(_LAZY)
