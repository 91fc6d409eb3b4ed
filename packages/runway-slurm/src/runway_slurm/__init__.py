"""The ``slurm`` plugin for Runway: ``--launcher slurm`` through submitit.

Public API (imported lazily, so ``import runway_slurm`` stays cheap):
``SlurmResources`` (the ``launcher.slurm`` section), ``RunwayCommand`` (what a
job runs), ``launch``/``submit``/``submit_array``/``follow``/``batch_script``.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "SlurmResources": "runway_slurm.resources:SlurmResources",
    "RunwayCommand": "runway_slurm.command:RunwayCommand",
    "launch": "runway_slurm.launcher:launch",
    "submit": "runway_slurm.launcher:submit",
    "submit_array": "runway_slurm.launcher:submit_array",
    "follow": "runway_slurm.launcher:follow",
    "batch_script": "runway_slurm.launcher:batch_script",
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'runway_slurm' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


__all__ = list(_LAZY)
