"""Routing metrics to the logger plugins that a run enables.

Every name loads on first access: ``RunwayLightningLogger`` (in
:mod:`runway.logging.lightning`) imports Lightning, and a logger plugin
imports only the modules it uses.
"""

from __future__ import annotations

from runway.support.lazy import lazy_attributes

# public name -> "module:attribute", imported on first access
_LAZY: dict[str, str] = {
    "LoggerSet": "runway.logging.loggers:LoggerSet",
    "LoggerWarning": "runway.logging.loggers:LoggerWarning",
    "available_loggers": "runway.logging.loggers:available_loggers",
    "open_loggers": "runway.logging.loggers:open_loggers",
    "resolve_logger_names": "runway.logging.loggers:resolve_logger_names",
    "Run": "runway.logging.run:Run",
    "RunwayLightningLogger": "runway.logging.lightning:RunwayLightningLogger",
}

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())

__all__ = sorted(_LAZY)
