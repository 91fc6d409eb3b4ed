"""The tiny project that the sweep tests (core and SLURM) run: the `runway init` template cut down."""

from __future__ import annotations

from pathlib import Path

import runway.testing

# the example cut down to seconds: 300 samples, a narrow network, one epoch
TINY = """
local example = import 'experiments/example.jsonnet';

example + {
  data_pipeline+: { transforms+: { 'input:digits'+: { setup_kwargs+: { limit: 300 } } } },
  executor+: {
    model+: { init_args+: { hidden: [16] } },
    optimizer+: { lr: 0.01 },
    scheduler: { name: 'constant' },
  },
  train+: { epochs: 1, batch_size: 32 },
}
"""


def make_project(root: Path) -> Path:
    """Create the project in ``root`` with configs/experiments/tiny.jsonnet; returns ``root``."""
    return runway.testing.make_project(root, configs={"tiny": TINY})
