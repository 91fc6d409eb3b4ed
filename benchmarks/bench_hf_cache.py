"""A cache hit of a ``datasets`` node through Runway's ``arrow`` format vs a bare ``load_from_disk``.

One data set (``RUNWAY_BENCH_ROWS`` rows, default 1,000,000: an int id, a
float, a 50-character string and 32 token ids) is written once with Arrow
into a temporary folder and stored as a pipeline cache entry. Then fresh
interpreters, interleaved, each load it one way and report the load's
wall time and the process's peak RSS (``VmHWM`` from ``/proc/self/status``
where it exists: ``ru_maxrss`` of a child can report the peak of the
benchmark process that forked it; else ``ru_maxrss``):

``runway``
    the pipeline's cache-hit path, ``CacheStore.load`` under the entry's lock
    (completion marker, ``meta.json``, checksum of the data files,
    ``ArrowFormat.load``), with the plugin manager built before the clock
    starts, as a command has it before any node loads;
``format``
    ``ArrowFormat.load`` alone;
``bare``
    ``datasets.load_from_disk`` of the same files (the baseline);
``pickle``
    ``pickle.load`` of the same rows (what the fallback format would cost),
    reported against ``runway`` with no limit.

Every child imports ``datasets`` (and Runway) before its clock starts and
reads one row after loading, so that each measures a usable data set.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROWS = int(os.environ.get("RUNWAY_BENCH_ROWS", "1000000"))
ROUNDS = int(os.environ.get("RUNWAY_BENCH_ROUNDS", "5"))
STRING_CHARS = 50
TOKENS = 32
NODE = "output:Bench"
KEY = "0" * 64
TIME_LIMIT = 1.2
RSS_LIMIT = 1.2

CHILD = r"""
import json, pickle, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
import datasets  # every side pays for this before the clock starts
datasets.disable_progress_bars()
if mode in ("runway", "format"):
    from runway.pipeline.cache import CacheStore
    from runway.pipeline.formats import format_registry
    from runway.plugins.manager import make_plugin_manager
    from runway_hf.arrow_format import ArrowFormat
if mode == "runway":  # a command has its plugins before any node loads
    store = CacheStore(path, format_registry(make_plugin_manager(builtins_only=False, allow=["hf"])))
start = time.perf_counter()
if mode == "runway":
    with store.lock(sys.argv[3], sys.argv[4]):
        data, _ = store.load(sys.argv[3], sys.argv[4])
elif mode == "format":
    data = ArrowFormat().load(path)
elif mode == "bare":
    data = datasets.load_from_disk(path)
else:
    with open(path, "rb") as handle:
        data = pickle.load(handle)
row = data[len(data) // 2]
seconds = time.perf_counter() - start
# VmHWM is this program's own peak; ru_maxrss can carry the forking parent's
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "rows": len(data)}))
"""


def build_table(rows: int) -> Any:
    """The benchmark's rows as one Arrow table, built from buffers (no Python objects per row)."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(0)
    letters = rng.integers(ord("a"), ord("z") + 1, size=rows * STRING_CHARS, dtype=np.uint8)
    text_offsets = np.arange(0, (rows + 1) * STRING_CHARS, STRING_CHARS, dtype=np.int32)
    text = pa.StringArray.from_buffers(rows, pa.py_buffer(text_offsets), pa.py_buffer(letters.tobytes()))
    token_offsets = pa.array(np.arange(0, (rows + 1) * TOKENS, TOKENS, dtype=np.int32))
    tokens = pa.ListArray.from_arrays(token_offsets, pa.array(rng.integers(0, 30_000, rows * TOKENS, dtype=np.int32)))
    return pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "score": pa.array(rng.random(rows)),
            "text": text,
            "input_ids": tokens,
        }
    )


def prepare(folder: Path, rows: int) -> dict[str, str]:
    """Write the cache entry and the pickle; return the paths the children read."""
    import pickle

    import datasets

    from runway.pipeline.cache import CacheStore
    from runway.pipeline.formats import format_registry
    from runway.plugins.manager import make_plugin_manager

    datasets.disable_progress_bars()
    dataset = datasets.Dataset(build_table(rows))  # in memory: the Arrow table itself
    cache = folder / "cache"
    store = CacheStore(cache, format_registry(make_plugin_manager(builtins_only=False, allow=["hf"])))
    with store.lock(NODE, KEY):
        meta = store.save(NODE, KEY, {"benchmark": True}, dataset, duration_s=0.0)
    assert meta["format"] == "arrow", meta["format"]
    pickled = folder / "data.pkl"
    with pickled.open("wb") as handle:
        pickle.dump(dataset, handle, protocol=pickle.HIGHEST_PROTOCOL)
    data = store.entry_dir(NODE, KEY) / "data"
    return {"runway": str(cache), "format": str(data), "bare": str(data), "pickle": str(pickled)}


def _child(mode: str, path: str) -> dict[str, float]:
    args = [sys.executable, "-c", CHILD, mode, path]
    if mode == "runway":
        args += [NODE, KEY]
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rows"] != ROWS:
        raise RuntimeError(f"{mode} loaded {result['rows']} rows, expected {ROWS}")
    return result


def run() -> list[dict]:
    modes = ("bare", "runway", "format", "pickle")
    with tempfile.TemporaryDirectory(prefix="runway-bench-hf-") as tmp:
        started = time.perf_counter()
        paths = prepare(Path(tmp), ROWS)
        print(f"bench_hf_cache: {ROWS} rows written in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        for mode in modes:  # warm the page cache for every side alike
            _child(mode, paths[mode])
        samples: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
        for round_index in range(ROUNDS):
            order = modes if round_index % 2 == 0 else tuple(reversed(modes))
            for mode in order:
                samples[mode].append(_child(mode, paths[mode]))

    def median(mode: str, field: str) -> float:
        return statistics.median(s[field] for s in samples[mode])

    label = f"{ROWS:,} rows"
    rows = [
        {
            "name": f"hf cache hit (pipeline load, arrow) vs load_from_disk, time, {label}",
            "value": median("runway", "seconds"),
            "baseline": median("bare", "seconds"),
            "limit": TIME_LIMIT,
        },
        {
            "name": f"hf cache hit (pipeline load, arrow) vs load_from_disk, peak RSS MB, {label}",
            "value": median("runway", "peak_mb"),
            "baseline": median("bare", "peak_mb"),
            "limit": RSS_LIMIT,
        },
        {
            "name": f"ArrowFormat.load vs load_from_disk, time, {label}",
            "value": median("format", "seconds"),
            "baseline": median("bare", "seconds"),
            "limit": TIME_LIMIT,
        },
        {
            "name": f"ArrowFormat.load vs load_from_disk, peak RSS MB, {label}",
            "value": median("format", "peak_mb"),
            "baseline": median("bare", "peak_mb"),
            "limit": RSS_LIMIT,
        },
        {
            "name": f"note: pickle load vs the pipeline's arrow cache hit, time, {label}",
            "value": median("pickle", "seconds"),
            "baseline": median("runway", "seconds"),
            "limit": None,
        },
        {
            "name": f"note: pickle load vs the pipeline's arrow cache hit, peak RSS MB, {label}",
            "value": median("pickle", "peak_mb"),
            "baseline": median("runway", "peak_mb"),
            "limit": None,
        },
    ]
    for row in rows:
        row["ratio"] = row["value"] / row["baseline"] if row["baseline"] else float("inf")
    return rows


if __name__ == "__main__":
    for result_row in run():
        print(
            f"{result_row['name']}: {result_row['value']:.4g} vs {result_row['baseline']:.4g} "
            f"= {result_row['ratio']:.2f}x (limit {result_row['limit']})"
        )
