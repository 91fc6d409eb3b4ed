"""The ``slurm`` plugin for Runway: ``--launcher slurm`` through submitit.

Public API (imported lazily, so ``import runway_slurm`` stays cheap):
``SlurmResources`` (the ``launcher.slurm`` section), ``RunwayCommand`` (what a
job runs), ``launch``/``submit``/``submit_array``/``follow``/``batch_script``.
"""

from __future__ import annotations

from runway.support.lazy import lazy_attributes

_LAZY: dict[str, str] = {
    "SlurmResources": "runway_slurm.resources:SlurmResources",
    "RunwayCommand": "runway_slurm.command:RunwayCommand",
    "launch": "runway_slurm.launcher:launch",
    "submit": "runway_slurm.launcher:submit",
    "submit_array": "runway_slurm.launcher:submit_array",
    "follow": "runway_slurm.launcher:follow",
    "batch_script": "runway_slurm.launcher:batch_script",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())

__all__ = list(_LAZY)
