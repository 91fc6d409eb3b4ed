"""Run every benchmark and print one table of ratios against same-run baselines.

    python benchmarks/run.py            # all of them
    python benchmarks/run.py startup    # only those whose module name contains "startup"
    python benchmarks/run.py --slurm    # also submit the SLURM rows' (held) jobs

Each ``benchmarks/bench_*.py`` exposes ``run() -> list[dict]``; a row has
``name``, ``value`` and ``baseline`` (seconds, measured in the same run,
interleaved), ``ratio`` and ``limit`` (the most the ratio may be), optionally
``spread`` (the lowest and highest per-round ratio), or ``skipped`` with a
reason. Exit status 1 when a ratio is over its limit or a benchmark crashed
(a missing dependency included: ``pip install runway-core[bench]``).

The SLURM rows submit jobs to whatever cluster is reachable, so they run only
when asked: ``--slurm`` or ``RUNWAY_BENCH_SLURM=1``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _fmt(value: object, row: dict | None = None) -> str:
    """Seconds as µs/ms/s; values of rows in other units (``MB`` in the name) as they are."""
    if isinstance(value, float) and row is not None and "MB" in str(row.get("name", "")):
        return f"{value:.1f}"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) < 1e-3:
            return f"{value * 1e6:.1f}µs"
        if abs(value) < 1:
            return f"{value * 1e3:.2f}ms"
        return f"{value:.3f}s"
    return "" if value is None else str(value)


def main(argv: list[str]) -> int:
    wanted = [a for a in argv[1:] if not a.startswith("--")]
    if "--slurm" in argv[1:]:
        os.environ["RUNWAY_BENCH_SLURM"] = "1"
    rows: list[dict] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if wanted and not any(w in path.stem for w in wanted):
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module  # what a benchmark pickles must be importable by its name
        try:
            spec.loader.exec_module(module)
            for row in module.run():
                rows.append({"bench": path.stem[len("bench_"):], **row})
        except Exception:
            traceback.print_exc()
            rows.append({"bench": path.stem[len("bench_"):], "name": "(crashed)", "crashed": traceback.format_exc().splitlines()[-1]})
    header = (
        f"{'benchmark':<16} {'measure':<62} {'value':>10} {'baseline':>10} {'ratio':>7} {'spread':>13} {'limit':>6}  verdict"
    )
    print(header)
    print("-" * len(header))
    failed = 0
    for row in rows:
        if row.get("crashed"):
            failed += 1
            print(f"{row['bench']:<16} {row['name']:<62} {'':>10} {'':>10} {'':>7} {'':>13} {'':>6}  CRASHED: {row['crashed']}")
            continue
        if row.get("skipped"):
            print(f"{row['bench']:<16} {row['name']:<62} {'':>10} {'':>10} {'':>7} {'':>13} {'':>6}  skipped: {row['skipped']}")
            continue
        ratio, limit = row.get("ratio"), row.get("limit")
        ok = ratio is None or limit is None or ratio <= limit
        failed += not ok
        verdict = "ok" if ok else "OVER LIMIT"
        ratio_s = f"{ratio:.2f}x" if isinstance(ratio, float) else ""
        limit_s = f"{limit:g}x" if isinstance(limit, (int, float)) else ""
        spread = row.get("spread")
        spread_s = f"{spread[0]:.2f}-{spread[1]:.2f}x" if spread else ""
        if ok and spread and limit is not None and spread[1] > limit:
            verdict = "ok (noisy: spread crosses the limit)"
        print(
            f"{row['bench']:<16} {row['name']:<62} {_fmt(row.get('value'), row):>10} {_fmt(row.get('baseline'), row):>10} "
            f"{ratio_s:>7} {spread_s:>13} {limit_s:>6}  {verdict}{'  ' + row['note'] if row.get('note') else ''}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
