"""Hook implementations of the ``slurm`` plugin.

Importing this module stays cheap: submitit and the launcher load inside the
hooks, when ``--launcher slurm`` or a ``slurm`` job record asks for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runway import hookimpl

if TYPE_CHECKING:
    from runway.launch.job import Job, JobHandle

NAME = "slurm"


def _is_ours(record: Any) -> bool:
    return isinstance(record, Mapping) and record.get("launcher") == NAME and bool(record.get("job_id"))


@hookimpl
def launch_job(job: Job, launcher: str) -> JobHandle | None:
    """Submit ``job`` to SLURM through submitit (``--launcher slurm``)."""
    if launcher != NAME:
        return None
    if getattr(job, "plan", None) is not None:  # `runway prepare --launcher slurm`: one job per node
        from runway_slurm.pipeline import submit_pipeline

        return submit_pipeline(job)
    from runway_slurm.launcher import launch

    return launch(job)


@hookimpl
def launch_array(jobs: list, launcher: str, folder: str) -> list | None:
    """Submit a sweep's jobs as one SLURM job array."""
    if launcher != NAME:
        return None
    from runway_slurm.launcher import submit_array

    return submit_array(jobs, Path(folder))


@hookimpl
def validate_config(config: dict) -> list[str] | None:
    """Check the ``launcher.slurm`` section: known keys, types, formats."""
    from runway_slurm.resources import check_section

    launcher = config.get("launcher") if isinstance(config, Mapping) else None
    if not isinstance(launcher, Mapping):
        return None
    return check_section(launcher.get(NAME)) or None


@hookimpl
def job_status(record: dict) -> dict | None:
    """SLURM's state of a recorded job, with the stderr tail once it failed."""
    if not _is_ours(record):
        return None
    from runway_slurm.status import query_state, tail

    job_id = str(record["job_id"])
    state = query_state(job_id)
    status: dict[str, Any] = {
        "launcher": NAME,
        "job_id": job_id,
        "state": state.state,
        "final": state.final,
        "failed": state.failed,
    }
    if state.reason:
        status["reason"] = state.reason
    from runway_slurm.nodes import job_hosts

    hosts = job_hosts(record)
    if hosts:
        status["hosts"] = hosts
    if state.failed and record.get("folder"):
        status["stderr_tail"] = tail(_log_paths(record)[1])
    return status


@hookimpl
def cancel_job(record: dict) -> bool | None:
    """``scancel`` a recorded job; ``False`` when it had already ended."""
    if not _is_ours(record):
        return None
    from runway_slurm.status import cancel

    return cancel(str(record["job_id"]))


@hookimpl
def job_logs(record: dict) -> str | None:
    """The stdout and stderr of a recorded job's first task."""
    if not _is_ours(record):
        return None
    if not record.get("folder"):
        return ""
    parts = []
    for label, path in zip(("stdout", "stderr"), _log_paths(record)):
        text = path.read_text(errors="replace") if path.exists() else ""
        parts.append(f"===== {label}: {path}\n{text}")
    return "\n".join(parts)


@hookimpl
def job_log_files(record: dict) -> dict[str, str] | None:
    """Task 0's stdout and stderr files, for ``runway logs --stderr/--follow``."""
    if not _is_ours(record) or not record.get("folder"):
        return None
    stdout, stderr = _log_paths(record)
    return {"stdout": str(stdout), "stderr": str(stderr)}


def _log_paths(record: Mapping[str, Any]) -> tuple[Path, Path]:
    """Task 0's stdout and stderr files, as submitit names them."""
    import submitit

    paths = submitit.SlurmJob(folder=record["folder"], job_id=str(record["job_id"])).paths
    return paths.stdout, paths.stderr
