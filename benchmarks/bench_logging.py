"""Overhead of ``LoggerSet.log_metrics`` over calling the loggers directly.

Three trivial in-memory logger plugins are enabled (no csv: its file write
would dwarf what is measured). The baseline calls the same three hook
functions directly; both are timed in interleaved rounds and the medians
compared. Limit: at most 10 µs added per call.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

LIMIT_ADDED_S = 10e-6
CALLS_PER_ROUND = 20_000
ROUNDS = 7


def _memory_logger():
    import runway

    class MemoryLogger:
        def __init__(self) -> None:
            self.count = 0

        @runway.hookimpl
        def log_metrics(self, run, metrics, step):
            self.count += len(metrics)

    return MemoryLogger()


def _time_per_call(call, metrics) -> float:
    start = time.perf_counter()
    for step in range(CALLS_PER_ROUND):
        call(metrics, step)
    return (time.perf_counter() - start) / CALLS_PER_ROUND


def run() -> list[dict]:
    from runway.logging import LoggerSet, Run
    from runway.plugins import make_plugin_manager

    backends = [_memory_logger() for _ in range(3)]
    plugins = make_plugin_manager(
        builtins_only=True, allow=None, block=None, trace=False,
        extra_plugins=[(f"mem{i}", b) for i, b in enumerate(backends)],
    )
    with tempfile.TemporaryDirectory() as tmp:
        run_ = Run("bench", 1, Path(tmp) / "bench_V1")
        loggers = LoggerSet([f"mem{i}" for i in range(3)], run_, plugins, include_csv=False)
        loggers.start()
        metrics = {"train/loss": 0.5, "train/acc": 0.9}

        def direct(metrics, step):
            for backend in backends:
                backend.log_metrics(run_, metrics, step)

        routed_times, direct_times = [], []
        for _ in range(ROUNDS):
            direct_times.append(_time_per_call(direct, metrics))
            routed_times.append(_time_per_call(loggers.log_metrics, metrics))
        loggers.finish("completed")

    routed, baseline = statistics.median(routed_times), statistics.median(direct_times)
    added = routed - baseline
    return [
        {
            "name": "logging.log_metrics_3_loggers_vs_direct",
            "value": routed,
            "baseline": baseline,
            "ratio": routed / baseline,
            # 10 µs added, expressed as the ratio the runner compares against
            "limit": (baseline + LIMIT_ADDED_S) / baseline,
        },
        {
            "name": "logging.log_metrics_added_vs_10us_budget",
            "value": added,
            "baseline": LIMIT_ADDED_S,
            "ratio": added / LIMIT_ADDED_S,
            "limit": 1.0,
        },
    ]

if __name__ == "__main__":
    for row in run():
        shown = {k: (f"{v * 1e6:.2f} µs" if k in ("value", "baseline") else v) for k, v in row.items()}
        print(shown)
