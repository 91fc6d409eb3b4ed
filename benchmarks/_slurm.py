"""What the SLURM benchmarks share: is a cluster there, its default partition,
and the baseline they are measured against (one held ``sbatch --wrap true``).

Every job these helpers submit is held and meant to be cancelled at once
with :func:`cancel`, so a benchmark never loads the cluster.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path


#: set to 1 (or pass ``--slurm`` to run.py) to submit to a reachable cluster
ASK_ENV = "RUNWAY_BENCH_SLURM"


def cluster_unavailable() -> str | None:
    """``None`` when SLURM rows were asked for and a cluster takes jobs, else why not.

    A reachable cluster alone is not enough: the rows submit jobs to it, so
    they run only when asked.
    """
    if os.environ.get(ASK_ENV, "").strip() not in ("1", "true", "yes"):
        return f"SLURM rows run only when asked ({ASK_ENV}=1 or run.py --slurm)"
    if shutil.which("sbatch") is None:
        return "no SLURM cluster (sbatch not on PATH; see scripts/slurm/start_slurm.sh)"
    if subprocess.run(["scontrol", "ping"], capture_output=True, check=False).returncode != 0:
        return "SLURM is installed but slurmctld does not answer (run scripts/slurm/start_slurm.sh)"
    return None


def default_partition() -> str | None:
    """The cluster's default partition (``sinfo`` marks it with ``*``), if any."""
    out = subprocess.run(["sinfo", "-h", "-o", "%P"], capture_output=True, text=True, check=False).stdout.split()
    default = [p.rstrip("*") for p in out if p.endswith("*")]
    return default[0] if default else None


def held_sbatch(folder: Path) -> tuple[float, str]:
    """Submit one held ``sbatch --wrap true``: the seconds it took and its job id."""
    start = time.perf_counter()
    out = subprocess.run(
        ["sbatch", "--parsable", "--hold", "-o", str(folder / "wrap-%j.out"), "--wrap", "true"],
        capture_output=True, text=True, check=True,
    ).stdout
    return time.perf_counter() - start, out.strip().split(";")[0]


def cancel(job_id: str) -> None:
    """Cancel a job, or the whole array of an array task id (``123_4``)."""
    subprocess.run(["scancel", job_id.split("_")[0]], capture_output=True, check=False)
