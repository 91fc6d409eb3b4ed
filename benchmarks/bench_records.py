"""Per-sample records: 100,000 of them written and read, against pandas and Parquet.

The records are what ``runway infer`` writes for a classifier (``index``,
``prediction``, ``target`` and the ``input`` summary, a dict). Runway's
side is :func:`runway.experiment.records.write_records` /
:func:`~runway.experiment.records.read_records` (a list of dicts in, a list
of dicts out); the baselines are ``pandas.DataFrame(records).to_parquet``
and ``pandas.read_parquet`` of that file. Rounds alternate the sides; the
limit is 3x for both. Needs the ``bench`` extra (pandas).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run directly or by run.py
from _processes import paired  # noqa: E402

RECORDS = int(os.environ.get("RUNWAY_BENCH_RECORDS", "100000"))
ROUNDS = int(os.environ.get("RUNWAY_BENCH_ROUNDS", "5"))
LIMIT = 3.0


def _records(n: int) -> list[dict]:
    rng = random.Random(0)
    return [
        {
            "index": i,
            "prediction": rng.randrange(10),
            "target": rng.randrange(10),
            "input": {"shape": [64], "mean": round(rng.random(), 6)},
        }
        for i in range(n)
    ]


def _timer(call):
    def timed() -> float:
        start = time.perf_counter()
        call()
        return time.perf_counter() - start

    return timed


def run() -> list[dict]:
    import pandas as pd

    from runway.experiment.records import read_records, write_records

    records = _records(RECORDS)
    with tempfile.TemporaryDirectory(prefix="runway-bench-records-") as tmp:
        ours, theirs = Path(tmp) / "records.parquet", Path(tmp) / "pandas.parquet"
        write = paired(
            _timer(lambda: write_records(ours, records)), _timer(lambda: pd.DataFrame(records).to_parquet(theirs)), ROUNDS
        )
        read = paired(_timer(lambda: read_records(ours)), _timer(lambda: pd.read_parquet(theirs)), ROUNDS)
        assert read_records(ours) == records
        sizes = ours.stat().st_size / theirs.stat().st_size
    return [
        {"name": f"write {RECORDS:,} records vs pandas to_parquet", **write, "limit": LIMIT, "note": f"file {sizes:.2f}x pandas'"},
        {"name": f"read {RECORDS:,} records vs pandas read_parquet", **read, "limit": LIMIT},
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
