"""Entry points that test jobs run on the SLURM node instead of the runway
CLI. Each takes ``argv`` like ``runway.cli.main.main`` and may ``sys.exit``."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def write_rank(argv: list[str]) -> None:
    """Write ``<argv[0]>/rank-<SLURM_PROCID>`` with the task's view of SLURM."""
    folder = Path(argv[0])
    rank = os.environ["SLURM_PROCID"]
    (folder / f"rank-{rank}").write_text(f"{os.environ['SLURM_NTASKS']} {os.environ.get('RUNWAY_EXPERIMENT_VERSION')}")
    sys.exit(0)


def exit_with(argv: list[str]) -> None:
    print(f"about to exit with {argv[0]}", file=sys.stderr)
    sys.exit(int(argv[0]))


def sleep(argv: list[str]) -> None:
    time.sleep(float(argv[0]))


def resumable(argv: list[str]) -> None:
    """First run: leave a marker and wait to be preempted. Run with
    ``--resume``: copy the marker into ``resumed`` and finish."""
    folder = Path(argv[0])
    marker = folder / "first-run"
    if "--resume" not in argv:
        marker.write_text(os.environ["SLURM_JOB_ID"])
        time.sleep(300)
        sys.exit(5)  # never preempted: fail, so the test says so
    (folder / "resumed").write_text(f"{marker.read_text()} {' '.join(argv)}")
