"""Routing metrics to the logger plugins that a run enables.

``RunwayLightningLogger`` (in :mod:`runway.logging.lightning`) is loaded on
first access, since it imports Lightning.
"""

from __future__ import annotations

from typing import Any

from runway.logging.loggers import (
    LoggerSet,
    LoggerWarning,
    available_loggers,
    open_loggers,
    resolve_logger_names,
)
from runway.logging.run import Run

__all__ = [
    "LoggerSet",
    "LoggerWarning",
    "Run",
    "RunwayLightningLogger",
    "available_loggers",
    "open_loggers",
    "resolve_logger_names",
]


def __getattr__(name: str) -> Any:
    if name == "RunwayLightningLogger":
        from runway.logging.lightning import RunwayLightningLogger

        return RunwayLightningLogger
    raise AttributeError(f"module 'runway.logging' has no attribute {name!r}")
