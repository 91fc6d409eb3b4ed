"""A CPU-bound ``datasets`` map over 1,000,000 rows: 4 shards as local processes vs 1.

A project in a temporary folder holds a cached input node (``RUNWAY_BENCH_ROWS``
rows, default 1,000,000: an int id) and an ``HFDatasetMap`` node whose batched
function spends about ``RUNWAY_BENCH_SHARD_WORK`` (default 40) rounds of integer
arithmetic per row in Python. Each side is one ``runway prepare --regenerate``
of the map node as a user runs it, in a fresh process, interleaved
(``RUNWAY_BENCH_ROUNDS`` pairs, default 2):

``value``
    ``setup_kwargs._shards: 4``: four local shard processes, then the merge;
``baseline``
    ``setup_kwargs._shards: 1``: the same map in the prepare process.

The row's note gives the speed-up (baseline / value) next to ``os.cpu_count()``:
four shards cannot go faster than the cores there are. With at least four
cores the ratio's limit is ``0.25 + 0.35``: the ideal share of the time plus
what the shards' server process (it imports ``datasets`` once), the four
shard processes and the merge may cost. With fewer cores than shards the
ratio is reported without a limit.

A second row, only when SLURM benchmarks are asked for (``RUNWAY_BENCH_SLURM=1``
or ``run.py --slurm``, see ``_slurm.py``): the 4 shards as a SLURM job array
plus its merge job (``runway prepare --launcher slurm --wait``, the jobs run
for real on the cluster's default partition) against the same 1-shard local
baseline, its note giving the speed-up next to the CPUs the cluster's nodes
advertise. It has no limit: the nodes of a test cluster may share one
machine's cores, and each task pays for starting a job and importing
``datasets``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _processes import RUNWAY, paired, timed  # noqa: E402
from _slurm import cluster_unavailable, default_partition  # noqa: E402

ROWS = int(os.environ.get("RUNWAY_BENCH_ROWS", "1000000"))
WORK = int(os.environ.get("RUNWAY_BENCH_SHARD_WORK", "40"))
ROUNDS = int(os.environ.get("RUNWAY_BENCH_ROUNDS", "2"))
SHARDS = 4
NODE = "output:Busy"

CODE = '''
import numpy as np

import runway
import runway_hf


@runway.register_transform
class BenchRows(runway.Transform):
    def setup(self, rows):
        self.rows = rows

    def _call(self, data):
        from datasets import Dataset

        return Dataset.from_dict({"id": np.arange(self.rows, dtype=np.int64)})


@runway_hf.register_hf_function
def busy(batch, work=40):
    out = []
    for value in batch["id"]:
        x = value
        for _ in range(work):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(x)
    return {"mixed": out}
'''


def write_project(root: Path) -> None:
    (root / "data_processing").mkdir(parents=True)
    (root / "configs" / "experiments").mkdir(parents=True)
    (root / "runway.toml").write_text('data_code_dirs = ["data_processing"]\n', encoding="utf-8")
    (root / "data_processing" / "bench.py").write_text(CODE, encoding="utf-8")
    config = {
        "data_pipeline": {
            "transforms": {
                "input:Rows": {"transform_name": "BenchRows", "setup_kwargs": {"rows": ROWS}},
                NODE: {
                    "transform_name": "HFDatasetMap",
                    "input_node": "input:Rows",
                    "setup_kwargs": {"function_name": "busy", "fn_kwargs": {"work": WORK}, "batched": True, "_shards": 1},
                },
            }
        }
    }
    (root / "configs" / "experiments" / "bench.jsonnet").write_text(json.dumps(config), encoding="utf-8")


def prepare(root: Path, shards: int, *launcher: str) -> float:
    return timed(
        [
            *RUNWAY, "prepare", "bench", "--regenerate", NODE, *launcher,
            "--opts", f"data_pipeline.transforms.{NODE}.setup_kwargs._shards={shards}",
        ],
        cwd=root,
    )  # fmt: skip


def cluster_cpus() -> tuple[int, int]:
    """(CPUs, nodes) that the cluster's nodes advertise (``sinfo``)."""
    import subprocess

    lines = subprocess.run(["sinfo", "-h", "-N", "-o", "%N %c"], capture_output=True, text=True, check=False).stdout.split("\n")
    per_node = dict(line.split() for line in lines if len(line.split()) == 2)
    return sum(int(c) for c in per_node.values() if c.isdigit()), len(per_node)


def slurm_row(root: Path) -> dict:
    name = f"CPU-bound map, {ROWS:,} rows: {SHARDS} shards vs 1 (SLURM job array)"
    reason = cluster_unavailable()
    if reason:
        return {"name": name, "skipped": reason}
    section = {"time": 30, **({"partition": default_partition()} if default_partition() else {})}
    opts = [f"+launcher.slurm={json.dumps(section)}"]
    row = paired(lambda: prepare(root, SHARDS, "--launcher", "slurm", "--wait", "--opts", *opts), lambda: prepare(root, 1), ROUNDS)
    cpus, nodes = cluster_cpus()
    return {
        "name": name,
        **row,
        "limit": None,
        "note": f"speed-up {row['baseline'] / row['value']:.2f}x with {cpus} CPUs on {nodes} SLURM node(s) "
        f"(os.cpu_count() = {os.cpu_count() or 1} here)",
    }


def run() -> list[dict]:
    try:
        import datasets  # noqa: F401
    except ImportError:
        return [{"name": f"map over {ROWS:,} rows, {SHARDS} shards vs 1", "skipped": "needs runway-hf (datasets)"}]
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="runway-bench-shards-") as folder:
        root = Path(folder)
        write_project(root)
        prepare(root, 1)  # caches the input node (and warms the page cache and bytecode)
        row = paired(lambda: prepare(root, SHARDS), lambda: prepare(root, 1), ROUNDS)
        on_slurm = slurm_row(root)
    speedup = row["baseline"] / row["value"]
    return [
        {
            "name": f"CPU-bound map, {ROWS:,} rows: {SHARDS} shards vs 1 (local processes)",
            **row,
            "limit": round(1 / SHARDS + 0.35, 2) if cores >= SHARDS else None,
            "note": f"speed-up {speedup:.2f}x with os.cpu_count() = {cores}",
        },
        on_slurm,
    ]


if __name__ == "__main__":
    for result in run():
        print(result)
