"""Sweeps: one experiment run once per point of a grid or a random sample.

``runway sweep NAME --opts lr=1e-3,1e-4 batch=32,64`` (see
:mod:`runway.sweep.space` for the forms of values and ranges) allocates one
experiment version per point and runs them locally or hands them to a
launcher as one job array. The ledger ``experiments/_sweeps/<id>.json``
(:mod:`runway.sweep.ledger`) records every point: its overrides, version,
state and error; ``runway sweep status`` and ``runway sweep resume`` read it.
"""

from runway.sweep.ledger import Ledger, all_ledgers, find_ledger
from runway.sweep.space import Axis, Point, Range, expand_grid, parse_axes, parse_axis, parse_range, sample_random, split_top_level

__all__ = [
    "Axis",
    "Ledger",
    "Point",
    "Range",
    "all_ledgers",
    "expand_grid",
    "find_ledger",
    "parse_axes",
    "parse_axis",
    "parse_range",
    "sample_random",
    "split_top_level",
]
