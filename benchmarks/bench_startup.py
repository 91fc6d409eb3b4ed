"""`runway --help` start-up against the floor of importing click and pluggy.

Both are run as fresh interpreters, alternately, so that machine noise hits
both sides alike; the medians are compared.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

ROUNDS = 15


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def run() -> list[dict]:
    runway_cmd = [shutil.which("runway") or "runway", "--help"]
    floor_cmd = [sys.executable, "-c", "import click, pluggy"]
    plugins_cmd = [shutil.which("runway") or "runway", "plugins"]
    _time(runway_cmd), _time(floor_cmd)  # warm the file cache
    help_t, floor_t, plugins_t = [], [], []
    for _ in range(ROUNDS):
        floor_t.append(_time(floor_cmd))
        help_t.append(_time(runway_cmd))
        plugins_t.append(_time(plugins_cmd))
    floor = statistics.median(floor_t)
    rows = [
        {"name": "runway --help vs python -c 'import click, pluggy'", "value": statistics.median(help_t), "baseline": floor, "limit": 1.3},
        {"name": "runway plugins vs the same floor", "value": statistics.median(plugins_t), "baseline": floor, "limit": None},
    ]
    for row in rows:
        row["ratio"] = row["value"] / row["baseline"]
    return rows
