"""Hook implementations of the `slurm` plugin."""

from __future__ import annotations
