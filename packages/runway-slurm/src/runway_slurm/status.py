"""Asking SLURM about a job: its state, its logs, cancelling it.

``squeue`` answers from slurmctld's memory (current, also for jobs that ended
in the last ``MinJobAge`` seconds); ``sacct`` answers from the accounting
database for older jobs. Both are asked, in that order.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# States after which a job never runs again (a requeued job goes back to
# PENDING, so PREEMPTED and REQUEUED are not final).
FINAL_STATES = frozenset(
    {
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMEOUT",
        "OUT_OF_MEMORY",
        "NODE_FAIL",
        "BOOT_FAIL",
        "DEADLINE",
        "SPECIAL_EXIT",
        "REVOKED",
    }
)
FAILED_STATES = FINAL_STATES - {"COMPLETED"}
UNKNOWN = "UNKNOWN"
_QUERY_TIMEOUT_S = 30


@dataclass(frozen=True)
class JobState:
    """A job's SLURM state (``PENDING``, ``RUNNING``, ``COMPLETED``...) and,
    while it waits, SLURM's reason (``Resources``, ``Priority``...)."""

    state: str
    reason: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def failed(self) -> bool:
        return self.state in FAILED_STATES


def _run(command: list[str]) -> subprocess.CompletedProcess[str] | None:
    if shutil.which(command[0]) is None:
        return None
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=_QUERY_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return None


def _first_word(state: str) -> str:
    # sacct writes "CANCELLED by 0"
    words = state.strip().split()
    return words[0].rstrip("+") if words else UNKNOWN


def query_state(job_id: str) -> JobState:
    """The state of ``job_id`` (``UNKNOWN`` when SLURM does not know it)."""
    live = _run(["squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T|%r"])
    if live is not None and live.returncode == 0 and live.stdout.strip():
        state, _, reason = live.stdout.strip().splitlines()[0].partition("|")
        waiting = state == "PENDING" and reason and reason != "None"
        return JobState(_first_word(state), reason if waiting else None)
    accounted = _run(["sacct", "-n", "-X", "-P", "-j", job_id, "-o", "State"])
    if accounted is not None and accounted.returncode == 0:
        lines = [line for line in accounted.stdout.splitlines() if line.strip()]
        if lines:  # a requeued job has one line per run: the last is current
            return JobState(_first_word(lines[-1]))
    return JobState(UNKNOWN)


def cancel(job_id: str) -> bool:
    """Ask SLURM to cancel ``job_id``; ``False`` when it had already ended."""
    if query_state(job_id).final:
        return False
    result = _run(["scancel", job_id])
    return result is not None and result.returncode == 0


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a text file ("" when it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
