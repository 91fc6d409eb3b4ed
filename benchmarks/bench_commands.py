"""Data commands as a user runs them: whole processes, against what they would run instead.

``pipeline explain`` vs ``config show``
    ``runway pipeline explain example`` in a fresh ``runway init`` project
    against ``runway config show example``: the same config evaluation, plus
    the project's transforms and the plan (limit 2x).
``prepare`` cache hit of one Arrow node vs ``load_from_disk``
    a ``datasets`` node (``RUNWAY_BENCH_ROWS`` rows, default 1,000,000)
    loaded from the cache by ``runway prepare`` against a process that only
    imports ``datasets`` and memory-maps the same data with
    ``load_from_disk`` (limit 1.3x).
``prepare`` cache hit over a 1 GB parquet input vs ``load_dataset``'s own hit
    a ``LoadHFDataset`` node over a parquet file generated here
    (``RUNWAY_BENCH_PARQUET_MB``, default 1024), against
    ``datasets.load_dataset("parquet", data_files=...)`` finding its own
    cache (limit 1.1x). Runway's side hashes the input for the key; the
    manifest beside the cache makes that a ``stat``.

Every process imports what it needs from scratch; rounds alternate sides.
Needs runway-hf and the ``bench`` extra (datasets, pyarrow).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run directly or by run.py
from _processes import RUNWAY, paired, timed  # noqa: E402

ROWS = int(os.environ.get("RUNWAY_BENCH_ROWS", "1000000"))
PARQUET_MB = int(os.environ.get("RUNWAY_BENCH_PARQUET_MB", "1024"))
ROUNDS = int(os.environ.get("RUNWAY_BENCH_ROUNDS", "5"))
EXPLAIN_LIMIT = 2.0
ARROW_LIMIT = 1.3
PARQUET_LIMIT = 1.1

LOAD_FROM_DISK = """
import sys, datasets
datasets.disable_progress_bars()
data = datasets.load_from_disk(sys.argv[1])
data[0]
"""
LOAD_DATASET = """
import sys, datasets
datasets.disable_progress_bars()
data = datasets.load_dataset("parquet", data_files=sys.argv[1], split="train", cache_dir=sys.argv[2])
data[0]
"""


def _explain_rows(tmp: Path) -> list[dict]:
    root = tmp / "init"
    timed([*RUNWAY, "init", str(root)])
    explain = [*RUNWAY, "pipeline", "explain", "example"]
    show = [*RUNWAY, "config", "show", "example"]
    timed(explain, cwd=root), timed(show, cwd=root)  # warm the file cache
    row = paired(lambda: timed(explain, cwd=root), lambda: timed(show, cwd=root), max(ROUNDS, 7))
    return [{"name": "pipeline explain (init project) vs config show", **row, "limit": EXPLAIN_LIMIT}]


def _project(root: Path, name: str, node: dict) -> None:
    (root / "configs" / "experiments").mkdir(parents=True, exist_ok=True)
    (root / "runway.toml").write_text("")
    config = {"data_pipeline": {"name": name, "transforms": {"output:data": node}}}
    (root / "configs" / "experiments" / f"{name}.jsonnet").write_text(json.dumps(config, indent=2))


def _arrow_rows(tmp: Path) -> list[dict]:
    import datasets

    datasets.disable_progress_bars()
    root = tmp / "arrow"
    root.mkdir()
    data = datasets.Dataset.from_dict(
        {"id": list(range(ROWS)), "value": [i * 0.5 for i in range(ROWS)], "text": [f"row {i:>46}" for i in range(ROWS)]}
    )
    data.save_to_disk(str(root / "saved"))
    del data
    _project(root, "arrow", {"transform_name": "LoadHFDataset", "setup_kwargs": {"load_from_disk": "saved"}})
    prepare = [*RUNWAY, "prepare", "arrow"]
    timed(prepare, cwd=root)  # computes and stores the entry
    entries = [p.parent for p in (root / "local_cache").rglob("meta.json")]
    assert len(entries) == 1, entries
    bare = [sys.executable, "-c", LOAD_FROM_DISK, str(root / "saved")]
    timed(prepare, cwd=root), timed(bare)
    row = paired(lambda: timed(prepare, cwd=root), lambda: timed(bare), ROUNDS)
    return [{"name": f"prepare hit, one Arrow node ({ROWS:,} rows) vs load_from_disk", **row, "limit": ARROW_LIMIT}]


def _write_parquet(path: Path, megabytes: int) -> None:
    """About ``megabytes`` of incompressible rows: an id, 200 random letters, 64 token ids."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    chunk = 100_000
    per_row = 8 + 200 + 64 * 4
    total = megabytes * 1_000_000 // per_row
    schema = pa.schema([("id", pa.int64()), ("text", pa.string()), ("tokens", pa.list_(pa.int32()))])
    # neither compressed nor dictionary-encoded: the file is as big as asked
    with pq.ParquetWriter(path, schema, compression="none", use_dictionary=False) as writer:
        for start in range(0, total, chunk):
            n = min(chunk, total - start)
            letters = rng.integers(97, 123, size=(n, 200), dtype=np.uint8)
            text = pa.array(letters.view("S200").ravel(), type=pa.binary()).cast(pa.string())
            flat = pa.array(rng.integers(0, 50_000, size=n * 64, dtype=np.int32))
            tokens = pa.ListArray.from_arrays(pa.array(np.arange(0, n * 64 + 1, 64, dtype=np.int32)), flat)
            ids = pa.array(np.arange(start, start + n, dtype=np.int64))
            writer.write_table(pa.table({"id": ids, "text": text, "tokens": tokens}, schema=schema))


def _parquet_rows(tmp: Path) -> list[dict]:
    root = tmp / "parquet"
    root.mkdir()
    raw = root / "raw.parquet"
    _write_parquet(raw, PARQUET_MB)
    size_mb = raw.stat().st_size / 1e6
    hf_cache = tmp / "hf-cache"
    env = {"HF_DATASETS_CACHE": str(tmp / "hf-cache-runway"), "HF_DATASETS_OFFLINE": "1"}
    _project(
        root,
        "parquet",
        {
            "transform_name": "LoadHFDataset",
            "setup_kwargs": {"dataset_path": "parquet", "data_files": "raw.parquet", "split": "train"},
        },
    )
    prepare = [*RUNWAY, "prepare", "parquet"]
    baseline = [sys.executable, "-c", LOAD_DATASET, str(raw), str(hf_cache)]
    timed(prepare, cwd=root, env=env), timed(baseline, env={"HF_DATASETS_OFFLINE": "1"})  # both caches filled
    timed(prepare, cwd=root, env=env), timed(baseline, env={"HF_DATASETS_OFFLINE": "1"})
    row = paired(
        lambda: timed(prepare, cwd=root, env=env), lambda: timed(baseline, env={"HF_DATASETS_OFFLINE": "1"}), ROUNDS
    )
    return [
        {
            "name": f"prepare hit over {size_mb / 1000:.1f} GB parquet vs load_dataset hit",
            **row,
            "limit": PARQUET_LIMIT,
        }
    ]


def run() -> list[dict]:
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="runway-bench-commands-") as tmp:
        rows += _explain_rows(Path(tmp))
        rows += _arrow_rows(Path(tmp))
        rows += _parquet_rows(Path(tmp))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
