"""Entry points that test jobs run on the SLURM node instead of the job
executor. Each takes the version folder and ``requeued`` like
``runway.job.execute.execute``, reads its arguments from ``args`` in that
folder (one per line) and may ``sys.exit``."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def _args(version_dir: str) -> list[str]:
    path = Path(version_dir) / "args"
    return path.read_text().split("\n") if path.is_file() else []


def record_call(version_dir: str, *, requeued: bool) -> None:
    (Path(version_dir) / "called").write_text(f"{version_dir} requeued={requeued}")


def write_rank(version_dir: str, *, requeued: bool) -> None:
    """Write ``<args[0]>/rank-<SLURM_PROCID>`` with the task's view of SLURM."""
    folder = Path(_args(version_dir)[0])
    rank = os.environ["SLURM_PROCID"]
    (folder / f"rank-{rank}").write_text(f"{os.environ['SLURM_NTASKS']} {Path(version_dir).name}")
    sys.exit(0)


def exit_with(version_dir: str, *, requeued: bool) -> None:
    code = _args(version_dir)[0]
    print(f"about to exit with {code}", file=sys.stderr)
    sys.exit(int(code))


def sleep(version_dir: str, *, requeued: bool) -> None:
    time.sleep(float(_args(version_dir)[0]))


def resumable(version_dir: str, *, requeued: bool) -> None:
    """First run: leave a marker and wait to be preempted. Run as requeued:
    copy the marker into ``resumed`` and finish."""
    folder = Path(_args(version_dir)[0])
    marker = folder / "first-run"
    if not requeued:
        marker.write_text(os.environ["SLURM_JOB_ID"])
        time.sleep(300)
        sys.exit(5)  # never preempted: fail, so the test says so
    (folder / "resumed").write_text(f"{marker.read_text()} requeued={requeued}")
