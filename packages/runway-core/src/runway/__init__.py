"""Runway: data pipelines, experiments, logging and launching above Lightning.

The names below are the public API. Heavy parts (the pipeline, the Lightning
executor base) load on first access, so ``import runway`` stays cheap.
"""

from __future__ import annotations

from runway._version import __version__
from runway.hookspecs import hookimpl, hookspec
from runway.support.lazy import lazy_attributes

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


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())

__all__ = ["__version__", "hookimpl", "hookspec", *_LAZY]
