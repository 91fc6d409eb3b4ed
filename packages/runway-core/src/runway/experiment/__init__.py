"""Experiments: the store of versions, their records, executors, train/infer/eval.

Light to import; the Lightning parts (``runway.experiment.executor``,
``training``, ``inference``) load only when a command needs them.
"""

from __future__ import annotations

from runway.support.lazy import lazy_attributes

# public name -> "module:attribute", imported on first access: importing a
# module of this package (a plugin's, a command's) does not import them all
_LAZY: dict[str, str] = {
    "register_executor": "runway.experiment.registry:register_executor",
    "register_metric": "runway.experiment.registry:register_metric",
    "ExperimentStore": "runway.experiment.store:ExperimentStore",
    "Version": "runway.experiment.store:Version",
    "allocate_version": "runway.experiment.versions:allocate_version",
}

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())

__all__ = sorted(_LAZY)
