"""What state a sweep's point is in now, from the ledger, its version and its launcher.

The version's ``status.json`` is the most direct witness (the job writes it).
Before the job has started, a job submitted to a launcher (SLURM) is asked
through the ``job_status`` hook; a local point whose sweep process is gone
without its version finishing was interrupted. A trial that its sweeper
stopped early reads ``pruned``, an end state like ``completed``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from runway.experiment.status import read_status
from runway.experiment.versions import folder_name

# launcher job states (SLURM's words) -> point states
_WAITING = frozenset({"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING", "RESIZING", "SUSPENDED", "PREEMPTED"})
_ACTIVE = frozenset({"RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING"})
_STOPPED = frozenset({"CANCELLED"})
#: every state after which a point runs no more (the ledger's, and a pruned trial)
ENDED_STATES = frozenset({"completed", "failed", "interrupted", "pruned"})
#: the states of a point that ran to its end, whose metric counts
FINISHED_STATES = frozenset({"completed", "pruned"})


def version_path(experiments_dir: Path, experiment: str, point: dict[str, Any]) -> Path | None:
    number = point.get("version")
    return None if number is None else Path(experiments_dir) / folder_name(experiment, int(number))


def observe_point(
    point: dict[str, Any],
    experiments_dir: Path,
    experiment: str,
    *,
    runner_alive: bool,
    job_status: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> dict[str, Any]:
    """``{"state": ..., "error": ...}`` of ``point`` now; ``state`` may also be ``missing``
    (its version folder was removed) and ``queued`` is reported as ``pending`` with ``queued: True``."""
    recorded = point.get("state", "pending")
    path = version_path(experiments_dir, experiment, point)
    if path is None:
        return {"state": recorded, "error": point.get("error")}
    if not path.is_dir():
        return {"state": "missing", "error": f"version folder {path} is gone"}
    status = read_status(path)
    state = status.get("state")
    if state == "completed":
        return {"state": "completed", "error": None}
    if state == "pruned":
        return {"state": "pruned", "error": None, "reason": status.get("reason")}
    if state == "failed":
        return {"state": "failed", "error": status.get("error") or point.get("error")}
    if state == "interrupted":
        return {"state": "interrupted", "error": status.get("reason") or "interrupted"}
    if state == "running":
        return {"state": "running", "error": None}
    # allocated, not started (or no status at all): ask whoever holds the job
    job = point.get("job") or {}
    if job.get("launcher") and job.get("launcher") != "local" and job.get("job_id"):
        answer = job_status(job) or {}
        word = str(answer.get("state", "")).upper()
        if word in _WAITING:
            return {"state": "pending", "queued": True, "error": None, "job_state": word}
        if word in _ACTIVE:
            return {"state": "running", "error": None, "job_state": word}
        if word in _STOPPED:
            return {"state": "interrupted", "error": f"{job['launcher']} job {job['job_id']} was {word.lower()}", "job_state": word}
        if word == "COMPLETED":
            return {"state": "failed", "error": f"{job['launcher']} job {job['job_id']} ended without {path.name} recording completion"}
        if word and word != "UNKNOWN":
            tail = (answer.get("stderr_tail") or "").strip().splitlines()
            detail = f": {tail[-1]}" if tail else ""
            return {"state": "failed", "error": f"{job['launcher']} job {job['job_id']} ended {word}{detail}", "job_state": word}
        return {"state": recorded, "error": point.get("error")}
    if recorded in ("running", "pending") and not runner_alive:
        return {"state": "interrupted", "error": "the sweep process stopped before this point finished"}
    return {"state": recorded, "error": point.get("error")}
