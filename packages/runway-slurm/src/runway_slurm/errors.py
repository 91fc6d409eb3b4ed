"""Errors of the ``slurm`` launcher that the user fixes (CLI exit code 2)."""

from __future__ import annotations

from runway.errors import PluginError, RunwayError


class SlurmUnavailable(PluginError):
    """``--launcher slurm`` was asked for on a machine without SLURM's tools."""


class SlurmRejected(RunwayError):
    """SLURM refused a submission (unknown partition, impossible resources,
    bad account...). The message carries SLURM's own words."""


class SlurmJobFailed(RuntimeError):
    """Raised inside a SLURM job when the runway command exits non-zero, so
    that SLURM and submitit record the job as failed."""
