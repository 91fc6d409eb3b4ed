"""Runway: data pipelines, experiments, logging and launching above Lightning.

The names below are the public API. Heavy parts (the pipeline, the Lightning
executor base) load on first access, so ``import runway`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from runway._version import __version__
from runway.hookspecs import hookimpl, hookspec

# public name -> "module:attribute", imported on first access
_LAZY: dict[str, str] = {
    "RunwayError": "runway.errors:RunwayError",
    "ConfigError": "runway.errors:ConfigError",
    "PluginError": "runway.errors:PluginError",
    "make_plugin_manager": "runway.plugins.manager:make_plugin_manager",
    "Transform": "runway.pipeline.transform:Transform",
    "register_transform": "runway.pipeline.transform:register_transform",
    "Executor": "runway.experiment.executor:Executor",
    "ExecutorContext": "runway.experiment.executor:ExecutorContext",
    "register_executor": "runway.experiment.registry:register_executor",
    "register_metric": "runway.experiment.registry:register_metric",
    "ExperimentStore": "runway.experiment.store:ExperimentStore",
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'runway' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["__version__", "hookimpl", "hookspec", *_LAZY]
