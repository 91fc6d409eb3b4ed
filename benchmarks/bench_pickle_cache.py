"""A cache hit of a pickled node output, fully verified, vs a bare ``pickle.load``.

Pickle entries are checked in full on every load: the SHA-256 of the data
file and the HMAC signature of that checksum (see
:mod:`runway.pipeline.signing`). This measures what that costs, for objects
of ``RUNWAY_BENCH_PICKLE_MB`` (default ``1,32``) megabytes: a list of small
objects that neither the JSON nor the torch format takes, stored as one
cache entry in a temporary folder. Interleaved, in this process (the page
cache warm for both sides):

``runway``
    ``CacheStore.load`` under the entry's lock: marker, ``meta.json``, full
    checksum, signature, then ``pickle.load``;
``bare``
    ``pickle.load`` of the same file (the baseline).

The ratio is reported with no limit: it is the price of never unpickling
a file nobody verified, paid once per cache hit.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

SIZES_MB = [float(x) for x in os.environ.get("RUNWAY_BENCH_PICKLE_MB", "1,32").split(",")]
ROUNDS = int(os.environ.get("RUNWAY_BENCH_ROUNDS", "5"))
NODE = "output:Pickled"
KEY = "1" * 64


class Item:
    """Not JSON, not tensors: goes to the pickle format."""

    def __init__(self, index: int, payload: bytes) -> None:
        self.index = index
        self.payload = payload


def _object(megabytes: float) -> list[Item]:
    count = max(1, int(megabytes * 1e6 / 1024))
    return [Item(i, os.urandom(1000)) for i in range(count)]


def _store(root: Path) -> Any:
    from runway.pipeline.cache import CacheStore
    from runway.pipeline.formats import format_registry
    from runway.plugins.manager import make_plugin_manager

    return CacheStore(root, format_registry(make_plugin_manager(builtins_only=True)))


def run() -> list[dict[str, Any]]:
    import pickle

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("RUNWAY_CACHE_KEY", "benchmark-key")  # no key file written for a benchmark
        for megabytes in SIZES_MB:
            store = _store(Path(tmp) / f"cache-{megabytes}")
            with store.lock(NODE, KEY):
                meta = store.save(NODE, KEY, {}, _object(megabytes), duration_s=0.0)
            assert meta["format"] == "pickle", meta["format"]
            data_file = store.entry_dir(NODE, KEY) / "data" / "data.pkl"
            timings: dict[str, list[float]] = {"runway": [], "bare": []}
            for _ in range(ROUNDS):
                start = time.perf_counter()
                with store.lock(NODE, KEY):
                    store.load(NODE, KEY)
                timings["runway"].append(time.perf_counter() - start)
                start = time.perf_counter()
                with data_file.open("rb") as handle:
                    pickle.load(handle)
                timings["bare"].append(time.perf_counter() - start)
            value, baseline = (statistics.median(timings[m]) for m in ("runway", "bare"))
            size = int(meta["size"]) / 1e6
            rows.append(
                {
                    "name": f"pickle cache hit (full checksum + signature) vs pickle.load, time, {size:.0f}-megabyte entry",
                    "value": value,
                    "baseline": baseline,
                    "ratio": value / baseline,
                    "limit": None,
                    "note": f"verification adds {(value - baseline) * 1000:.1f} ms",
                }
            )
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: {row['value'] * 1000:.1f} ms vs {row['baseline'] * 1000:.1f} ms (x{row['ratio']:.2f}; {row['note']})")
