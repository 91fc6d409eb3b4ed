"""Non-training commands against the floor of importing click and pluggy.

``runway --help``, ``runway plugins`` and ``runway list`` (in a fresh
``runway init`` project) each run as fresh interpreters, alternately with
``python -c 'import click, pluggy'``, so that machine noise hits both sides
alike; a row's ratio is the median of the per-round ratios, with their
spread. Limit 1.5x each.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run directly or by run.py
from _processes import RUNWAY, paired, timed  # noqa: E402

ROUNDS = int(os.environ.get("RUNWAY_BENCH_STARTUP_ROUNDS", "11"))
LIMIT = 1.5


def run() -> list[dict]:
    floor = [sys.executable, "-c", "import click, pluggy"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="runway-bench-startup-") as tmp:
        root = Path(tmp) / "project"
        timed([*RUNWAY, "init", str(root)])
        for args in (["--help"], ["plugins"], ["list"]):
            command = [*RUNWAY, *args]
            timed(command, cwd=root), timed(floor)  # warm the file cache (and the plugin cache)
            row = paired(lambda: timed(command, cwd=root), lambda: timed(floor), ROUNDS)
            rows.append({"name": f"runway {' '.join(args)} vs python -c 'import click, pluggy'", **row, "limit": LIMIT})
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
