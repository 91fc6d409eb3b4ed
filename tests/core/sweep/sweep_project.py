"""The tiny project that the sweep tests (core and SLURM) run: the `runway init` template cut down."""

from __future__ import annotations

from pathlib import Path

from tiny_example import tiny_example

import runway.testing

TINY = tiny_example(epochs=1)


def make_project(root: Path) -> Path:
    """Create the project in ``root`` with configs/experiments/tiny.jsonnet; returns ``root``."""
    return runway.testing.make_project(root, configs={"tiny": TINY})
