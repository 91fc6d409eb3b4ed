"""Hook implementations of the `mlflow` plugin."""

from __future__ import annotations
