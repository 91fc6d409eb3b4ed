"""A sweep's results: each point's metric, the points best first, and the best point.

The metric of a point is the best value over the epochs of the sweep's
``--metric`` in its version's training log (see
:func:`runway.sweep.runner.metric_value`); the value told to an adaptive
sweeper is kept in the ledger and used as it is. Only points that finished
(completed or pruned) have one. ``SWEEP:best`` names the best point's
version wherever an experiment to start from is asked for
(``runway experiment NEW --from SWEEP:best``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runway.errors import ExperimentError
from runway.sweep.state import FINISHED_STATES, version_path

BEST_SUFFIX = ":best"
_BEST = re.compile(r"^(?P<sweep>[^:]+):best$")


def trial_rows(data: dict[str, Any], observed: Sequence[dict[str, Any]], metric: str | None, experiments_dir: Path | None = None) -> list[dict[str, Any]]:
    """``{"point", "seen", "value"}`` per point: finished points by ``metric`` best first, then the others in point order."""
    from runway.sweep.runner import metric_value

    direction = data.get("direction") or "max"
    rows = []
    for point, seen in zip(data["points"], observed):
        value = None
        if metric and seen["state"] in FINISHED_STATES:
            if point.get("told") and metric == data.get("metric") and point.get("value") is not None:
                value = point["value"]
            elif experiments_dir is not None:
                path = version_path(experiments_dir, data["experiment"], point)
                value = metric_value(path, metric, direction) if path is not None else None
        rows.append({"point": point, "seen": seen, "value": value})
    sign = -1.0 if direction == "max" else 1.0
    return sorted(rows, key=lambda r: (r["value"] is None, sign * r["value"] if r["value"] is not None else 0.0, r["point"]["index"]))


def best_row(rows: Sequence[dict[str, Any]], direction: str = "max") -> dict[str, Any] | None:
    """The finished row with the best value, or ``None`` when no point has one."""
    valued = [r for r in rows if r["value"] is not None]
    if not valued:
        return None
    pick = max if direction == "max" else min
    return pick(valued, key=lambda r: r["value"])


def is_best_spec(text: str | None) -> bool:
    return bool(text) and _BEST.match(str(text)) is not None


def best_version(experiments_dir: Path, spec: str) -> tuple[Path, dict[str, Any]]:
    """The version folder of ``SWEEP:best`` (a sweep id, or an experiment for its latest sweep) and its row."""
    from runway.sweep.ledger import find_ledger
    from runway.sweep.runner import observe

    match = _BEST.match(spec)
    if match is None:
        raise ExperimentError(f"{spec!r}: write SWEEP:best")
    ledger = find_ledger(Path(experiments_dir), match["sweep"])
    data, observed = observe(ledger, persist=False)
    metric = data.get("metric")
    if not metric:
        raise ExperimentError(f"sweep {data['id']} has no --metric, so no point is best; pick a version (EXP:N) instead")
    row = best_row(trial_rows(data, observed, metric, Path(experiments_dir)), data.get("direction") or "max")
    if row is None:
        raise ExperimentError(f"sweep {data['id']}: no point has finished with a value of {metric} yet (`runway sweep status {data['id']}`)")
    path = version_path(Path(experiments_dir), data["experiment"], row["point"])
    if path is None or not path.is_dir():
        raise ExperimentError(f"sweep {data['id']}: the best point's version folder is gone")
    return path, row
