"""Submitting a sweep to SLURM: a 100-point job array through Runway's
``submit_array`` (submitit's ``SlurmExecutor.submit_array``: one pickle per
point, one ``sbatch``, one ``jobs.jsonl`` record per point).

Interleaved with the baseline, a single ``sbatch --wrap true``. Every job is
submitted held (``--hold``) and cancelled right away, so the benchmark never
loads the cluster. Two rows: the array against the fixed 2 s budget, and
the array against one plain sbatch (what 100 points cost over the one
unavoidable SLURM round trip).

Needs the local cluster (``scripts/slurm/start_slurm.sh``); without one the
rows say skipped. Run directly: ``python benchmarks/bench_slurm.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run directly or by run.py
from _slurm import cancel, cluster_unavailable, default_partition, held_sbatch  # noqa: E402

POINTS = 100
BUDGET_SECONDS = 2.0
# one sbatch plus 100 small pickles and records; far above this means
# submissions went one by one or something waits
MAX_RATIO_TO_ONE_SBATCH = 25.0
NAMES = (f"submit {POINTS}-point array vs 2 s budget", f"submit {POINTS}-point array vs one sbatch")


def _skipped(reason: str) -> list[dict]:
    return [{"name": name, "skipped": reason} for name in NAMES]


def _array(root: Path, partition: str | None, repeat: int) -> tuple[float, str]:
    from runway.launch.job import Job
    from runway_slurm.launcher import submit_array
    from runway_slurm.resources import SlurmResources

    section = {"time": 5, "additional_parameters": {"hold": True}}
    if partition:
        section["partition"] = partition
    sweep = root / f"sweep{repeat}"
    jobs = []
    for point in range(POINTS):
        version_dir = sweep / f"bench_V{point + 1}"
        version_dir.mkdir(parents=True)
        jobs.append(
            Job(
                argv=["train", "bench", "--version", str(point + 1)],
                experiment="bench",
                version=point + 1,
                version_dir=version_dir,
                project_root=root,
                resources=section,
            )
        )
    resources = SlurmResources.from_section(section)
    start = time.perf_counter()
    handles = submit_array(jobs, sweep / "slurm", resources=resources)
    elapsed = time.perf_counter() - start
    assert len(handles) == POINTS
    return elapsed, handles[0].job_id or ""


def run(repeats: int = 3) -> list[dict]:
    reason = cluster_unavailable()
    if reason:
        return _skipped(reason)
    import runway_slurm.launcher  # noqa: F401  (import cost is not submission cost)

    partition = default_partition()
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cancel(held_sbatch(root)[1])  # warm the client and the controller
        for repeat in range(repeats):
            seconds, job_id = held_sbatch(root)
            cancel(job_id)
            theirs.append(seconds)
            seconds, job_id = _array(root, partition, repeat)
            cancel(job_id)
            ours.append(seconds)
    value, baseline = statistics.median(ours), statistics.median(theirs)
    note = f"median of {repeats}, jobs held and cancelled"
    return [
        {
            "name": NAMES[0],
            "value": value,
            "baseline": BUDGET_SECONDS,
            "ratio": value / BUDGET_SECONDS,
            "limit": 1.0,
            "note": "baseline is the fixed budget, not a measurement",
        },
        {
            "name": NAMES[1],
            "value": value,
            "baseline": baseline,
            "ratio": value / baseline,
            "limit": MAX_RATIO_TO_ONE_SBATCH,
            "note": note,
        },
    ]


if __name__ == "__main__":
    for row in run():
        if row.get("skipped"):
            print(f"{row['name']}: skipped ({row['skipped']})")
            continue
        print(
            f"{row['name']}: {row['value'] * 1000:.1f} ms vs {row['baseline'] * 1000:.1f} ms, "
            f"ratio {row['ratio']:.2f} (limit {row['limit']:g}; {row['note']})"
        )
