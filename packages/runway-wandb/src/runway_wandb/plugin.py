"""Hook implementations of the `wandb` plugin."""

from __future__ import annotations
