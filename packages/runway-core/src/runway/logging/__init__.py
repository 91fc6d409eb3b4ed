"""Routing metrics to the logger plugins that a run enables."""

from runway.logging.run import Run

__all__ = ["Run"]
