"""Submitting a 100-point sweep to SLURM through ``runway sweep``'s own path.

What is timed is everything ``runway sweep NAME --opts ... --launcher slurm``
does up to the job array being submitted: resolving the experiment's config,
reading and expanding the axes (10 x 10 grid), checking every point's
config, writing the ledger, allocating 100 versions with their config,
provenance and status records, and handing the 100 jobs to the ``slurm``
plugin's ``launch_array`` (one ``sbatch``), then recording the job ids.

Interleaved with the baseline, one plain ``sbatch --wrap true``. Every job is
submitted held (``--hold``) and cancelled at once, so nothing runs. Rows:
our path against the fixed 2 s budget, and against one sbatch.

Needs the local cluster (``scripts/slurm/start_slurm.sh``) and a slurm
plugin that submits arrays; otherwise the rows say skipped.
Run directly: ``python benchmarks/bench_sweep.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run directly or by run.py
from _slurm import cancel, cluster_unavailable, default_partition, held_sbatch  # noqa: E402

POINTS_PER_AXIS = 10
POINTS = POINTS_PER_AXIS**2
BUDGET_SECONDS = 2.0
# measured about 50x (0.34 s vs one 7 ms sbatch): the config evaluated once,
# 100 points checked, 100 versions allocated with three records each, 100
# pickles and one sbatch. A point sent to SLURM on its own, or an fsync or a
# git call per point, lands far above this.
MAX_RATIO_TO_ONE_SBATCH = 100.0
NAMES = (f"sweep {POINTS} points to a SLURM array vs 2 s budget", f"sweep {POINTS} points to a SLURM array vs one sbatch")
EXPERIMENT = """
local example = import 'experiments/example.jsonnet';
example + { train+: { epochs: 1 } }
"""


def _skipped(reason: str) -> list[dict]:
    return [{"name": name, "skipped": reason} for name in NAMES]


def _why_not() -> str | None:
    """``None`` when a cluster takes jobs and a plugin submits SLURM arrays, else why not."""
    reason = cluster_unavailable()
    if reason:
        return reason
    from runway.plugins import get_plugins

    if "slurm" not in get_plugins().implementers("launch_array"):
        return "the slurm plugin does not implement launch_array (no job arrays for sweeps)"
    return None


def _project(root: Path) -> Path:
    from runway.project.scaffold import create_project

    create_project(root)
    (root / "configs" / "experiments" / "bench.jsonnet").write_text(EXPERIMENT, encoding="utf-8")
    return root


def _sweep(root: Path, partition: str | None) -> tuple[float, str]:
    import json

    from runway.sweep.runner import create_sweep, resolve_source, submit_points

    section = {"time": 5, "additional_parameters": {"hold": True}, **({"partition": partition} if partition else {})}
    tokens = [
        "executor.optimizer.lr=" + ",".join(str(10.0 ** -(1 + i / 3)) for i in range(POINTS_PER_AXIS)),
        "train.batch_size=" + ",".join(str(8 * (i + 1)) for i in range(POINTS_PER_AXIS)),
        "+launcher=" + json.dumps({"slurm": section}),
    ]
    here = os.getcwd()
    os.chdir(root)
    try:
        start = time.perf_counter()
        source = resolve_source("bench", None)
        ledger = create_sweep(source, tokens, command="train", launcher="slurm")
        submit_points(source, ledger, range(POINTS), launcher="slurm", echo=lambda line: None)
        elapsed = time.perf_counter() - start
    finally:
        os.chdir(here)
    jobs = [p["job"]["job_id"] for p in ledger.read()["points"]]
    assert len(jobs) == POINTS and len({j.split("_")[0] for j in jobs}) == 1, "not one array"
    return elapsed, jobs[0]


def run(repeats: int = 3) -> list[dict]:
    reason = _why_not()
    if reason:
        return _skipped(reason)
    import runway_slurm.launcher  # noqa: F401  (import cost is not submission cost)

    partition = default_partition()
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cancel(held_sbatch(root)[1])  # warm the client and the controller
        cancel(_sweep(_project(root / "warm"), partition)[1])  # and the config evaluator
        for repeat in range(repeats):
            seconds, job_id = held_sbatch(root)
            cancel(job_id)
            theirs.append(seconds)
            seconds, job_id = _sweep(_project(root / f"p{repeat}"), partition)
            cancel(job_id)
            ours.append(seconds)
    value, baseline = statistics.median(ours), statistics.median(theirs)
    return [
        {
            "name": NAMES[0], "value": value, "baseline": BUDGET_SECONDS, "ratio": value / BUDGET_SECONDS, "limit": 1.0,
            "note": "baseline is the fixed budget, not a measurement",
        },
        {
            "name": NAMES[1], "value": value, "baseline": baseline, "ratio": value / baseline,
            "limit": MAX_RATIO_TO_ONE_SBATCH, "note": f"median of {repeats}, jobs held and cancelled",
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
