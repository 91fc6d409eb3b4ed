"""Experiments: the store of versions, their records, executors, train/infer/eval.

Light to import; the Lightning parts (``runway.experiment.executor``,
``training``, ``inference``) load only when a command needs them.
"""

from runway.experiment.registry import register_executor, register_metric
from runway.experiment.store import ExperimentStore, Version
from runway.experiment.versions import allocate_version

__all__ = ["ExperimentStore", "Version", "allocate_version", "register_executor", "register_metric"]
