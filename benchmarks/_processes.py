"""What the whole-process benchmarks share: timing a command as a user runs it,
interleaved rounds, and the run-to-run spread of a ratio.

A row's ``ratio`` is the median of the per-round ratios (each round times
both sides back to back, so that load on the machine hits both alike), and
``spread`` is their lowest and highest: a limit inside that range would
pass or fail on noise alone.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def _runway_command() -> list[str]:
    """How a user starts ``runway``: the console script installed beside this interpreter (run by
    this interpreter, so it need not be on PATH), else ``python -m runway``."""
    script = Path(sys.executable).with_name("runway")
    return [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "runway"]


RUNWAY = _runway_command()

# a user's interpreter keeps compiled bytecode; without it every process compiles
# Runway's (editable) sources again and a command pays that instead of its own work
_ENVIRONMENT = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: Sequence[str], *, cwd: Path | None = None, env: dict | None = None) -> float:
    """Seconds a process takes from start to exit; a failure raises, so the benchmark crashes."""
    start = time.perf_counter()
    proc = subprocess.run(
        list(cmd), cwd=cwd, env={**_ENVIRONMENT, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return elapsed


def paired(value: Callable[[], float], baseline: Callable[[], float], rounds: int) -> dict:
    """``value``, ``baseline`` (medians), ``ratio`` (median per-round ratio) and ``spread``."""
    values, baselines = [], []
    for index in range(rounds):
        # alternate which side goes first: the second of a pair finds a warmer page cache
        if index % 2:
            baselines.append(baseline())
            values.append(value())
        else:
            values.append(value())
            baselines.append(baseline())
    return summary(values, baselines)


def summary(values: list[float], baselines: list[float]) -> dict:
    ratios = [v / b for v, b in zip(values, baselines)]
    return {
        "value": statistics.median(values),
        "baseline": statistics.median(baselines),
        "ratio": statistics.median(ratios),
        "spread": (min(ratios), max(ratios)),
        "rounds": len(ratios),
    }
