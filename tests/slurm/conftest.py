"""Fixtures of the SLURM tests: the real local cluster and jobs sized to it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cluster import SlurmCluster, slurm_cluster  # noqa: F401  (the session fixture)

from runway.launch.job import Job

HERE = Path(__file__).resolve().parent


@pytest.fixture
def job_entries_on_path(monkeypatch: pytest.MonkeyPatch) -> str:
    """Let SLURM jobs import ``slurm_job_entries``: sbatch exports the
    submitting environment, PYTHONPATH included. Returns the module name."""
    paths = [str(HERE), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    return "slurm_job_entries"


@pytest.fixture
def make_job(tmp_path: Path) -> Callable[..., Job]:
    """``make_job(args, **resources)``: a Job in its own version folder (``args``
    written to its ``args`` file for the test entries), so job ids of a
    restarted cluster never meet a stale submitit file."""
    counter = iter(range(1, 1000))

    def make(args: list[str], *, wait: bool = False, dry_run: bool = False, **resources: Any) -> Job:
        version = next(counter)
        version_dir = tmp_path / "experiments" / f"exp_V{version}"
        version_dir.mkdir(parents=True)
        (version_dir / "args").write_text("\n".join(args))
        return Job(
            version_dir=version_dir,
            experiment="exp",
            version=version,
            command="train",
            project_root=tmp_path,
            resources={"time": 5, **resources},
            wait=wait,
            dry_run=dry_run,
        )

    return make


@pytest.fixture
def sweep_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny project of the core sweep tests, as the current folder, outside any version's job."""
    sys.path.insert(0, str(HERE.parent / "core" / "sweep"))
    from sweep_project import make_project

    project = make_project(tmp_path / "proj")
    monkeypatch.chdir(project)
    monkeypatch.delenv("RUNWAY_EXPERIMENT_VERSION", raising=False)
    return project


@pytest.fixture
def slurm_launcher_opt(slurm_cluster: SlurmCluster) -> str:  # noqa: F811
    """The ``+launcher=...`` override of a sweep's points: the test partition, ten minutes, one CPU a task."""
    return "+launcher=" + json.dumps({"slurm": {"partition": slurm_cluster.partition, "time": 10, "cpus_per_task": 1}})
