"""What ``runway compare`` shows: differing config keys, metrics, and differing predictions.

Metrics are each test run's ``metrics.json`` (column ``SUFFIX:metric``) and
the last value of every training metric in ``train/logs/metrics.csv``
(column ``last:metric``). Predictions are compared for two test runs of the
same data: per-sample records matched by their ``id`` (else ``index``).
"""

from __future__ import annotations

import csv
import fnmatch
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.compare.versions import Selected
from runway.experiment.records import RECORDS_FILE, read_records, records_path
from runway.experiment.store import Version

TRAIN_METRICS = Path("train") / "logs" / "metrics.csv"
SUMMARY_FILE = "summary.json"
# bookkeeping columns of the csv logger, not learning curves
NOT_CURVES = frozenset({"epoch", "step"})
_ABSENT = object()


def read_curves(version: Version) -> dict[str, list[tuple[float, float]]]:
    """Every training metric of ``version`` as ``(step, value)`` pairs, in logged order."""
    path = version.path / TRAIN_METRICS
    curves: dict[str, list[tuple[float, float]]] = {}
    if not path.is_file():
        return curves
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            try:
                step, value = float(row["step"]), float(row["value"])
            except (KeyError, TypeError, ValueError):
                continue  # a torn last line of a killed run
            name = row.get("metric") or ""
            if name and name not in NOT_CURVES:
                curves.setdefault(name, []).append((step, value))
    return curves


def last_train_metrics(version: Version) -> dict[str, float]:
    return {name: points[-1][1] for name, points in read_curves(version).items() if points}


def test_metrics(item: Selected) -> dict[str, Any]:
    """``{"SUFFIX:metric": value}`` for the chosen test run, or every test run."""
    suffixes = [item.suffix] if item.suffix else item.version.tests()
    found: dict[str, Any] = {}
    for suffix in suffixes:
        for key, value in item.version.metrics(suffix).items():
            found[f"{suffix}:{key}"] = value
    return found


def config_differences(configs: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """Flattened keys whose value is not the same in every config (``None`` where a config lacks the key)."""
    from runway.config import flatten

    flat = [flatten(c) for c in configs]
    keys = sorted({k for f in flat for k in f})
    differing: dict[str, list[Any]] = {}
    for key in keys:
        values = [f.get(key, _ABSENT) for f in flat]
        first = json.dumps(values[0], sort_keys=True, default=str) if values[0] is not _ABSENT else None
        if any((json.dumps(v, sort_keys=True, default=str) if v is not _ABSENT else None) != first for v in values[1:]):
            differing[key] = [None if v is _ABSENT else v for v in values]
    return differing


@dataclass
class Comparison:
    """Versions side by side: one row per version."""

    labels: list[str]
    states: list[str]
    config: dict[str, list[Any]]
    metrics: dict[str, list[Any]]
    predictions: "PredictionDiff | None" = None
    notes: list[str] = field(default_factory=list)

    def columns(self, patterns: Sequence[str] = ()) -> tuple[list[str], list[list[Any]]]:
        """Header and rows; metric columns are kept only where they match one of ``patterns``."""
        metric_names = [m for m in self.metrics if not patterns or any(fnmatch.fnmatchcase(m, p) for p in patterns)]
        header = ["VERSION", "STATE", *self.config, *metric_names]
        rows = [
            [label, state, *(self.config[k][i] for k in self.config), *(self.metrics[m][i] for m in metric_names)]
            for i, (label, state) in enumerate(zip(self.labels, self.states))
        ]
        return header, rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "versions": self.labels,
            "states": self.states,
            "config": self.config,
            "metrics": self.metrics,
            "predictions": None if self.predictions is None else self.predictions.to_dict(),
            "notes": self.notes,
        }


def compare(selected: Sequence[Selected]) -> Comparison:
    """The comparison of ``selected`` (predictions too when there are two test runs of the same data)."""
    versions = [s.version for s in selected]
    per_version: list[dict[str, Any]] = []
    for item in selected:
        metrics = test_metrics(item)
        metrics.update({f"last:{k}": v for k, v in last_train_metrics(item.version).items()})
        per_version.append(metrics)
    names: list[str] = []
    for metrics in per_version:
        names.extend(k for k in metrics if k not in names)
    test_names = [n for n in names if not n.startswith("last:")]
    ordered = test_names + sorted(n for n in names if n.startswith("last:"))
    comparison = Comparison(
        labels=[s.label for s in selected],
        states=[v.status.get("state", "unknown") for v in versions],
        config=config_differences([v.config for v in versions]),
        metrics={n: [m.get(n) for m in per_version] for n in ordered},
    )
    if len(selected) == 2:
        pair = _test_pair(selected[0], selected[1])
        if pair is None:
            comparison.notes.append("predictions not compared: the two versions have no test run with the same suffix")
        else:
            diff = diff_predictions(*pair)
            if isinstance(diff, str):
                comparison.notes.append(diff)
            else:
                comparison.predictions = diff
    return comparison


def _test_pair(a: Selected, b: Selected) -> tuple[tuple[Version, str], tuple[Version, str]] | None:
    if a.suffix and b.suffix:
        return (a.version, a.suffix), (b.version, b.suffix)
    if a.suffix or b.suffix:
        suffix = a.suffix or b.suffix
        if suffix in a.version.tests() and suffix in b.version.tests():
            return (a.version, suffix), (b.version, suffix)
        return None
    common = [s for s in a.version.tests() if s in b.version.tests()]
    if not common:
        return None
    suffix = "test" if "test" in common else common[0]
    return (a.version, suffix), (b.version, suffix)


@dataclass
class PredictionDiff:
    """Samples of two test runs whose predictions differ."""

    left: str
    right: str
    id_field: str
    matched: int
    differing: list[dict[str, Any]]
    unmatched: int = 0
    right_only_correct: int = 0
    left_only_correct: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "left": self.left, "right": self.right, "id_field": self.id_field, "matched": self.matched,
            "differing": self.differing, "unmatched": self.unmatched,
            "left_only_correct": self.left_only_correct, "right_only_correct": self.right_only_correct,
        }


def _records(version: Version, suffix: str) -> list[dict[str, Any]]:
    path = records_path(version.test_dir(suffix))
    return read_records(path) if path is not None else []


def _data_keys(version: Version, suffix: str) -> dict[str, Any]:
    path = version.test_dir(suffix) / SUMMARY_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8")).get("data") or {}


def diff_predictions(left: tuple[Version, str], right: tuple[Version, str]) -> PredictionDiff | str:
    """The samples predicted differently, or a sentence saying why they cannot be compared."""
    (lv, ls), (rv, rs) = left, right
    left_name, right_name = f"{lv.label}:{ls}", f"{rv.label}:{rs}"
    left_keys, right_keys = _data_keys(lv, ls), _data_keys(rv, rs)
    changed = sorted(k for k in set(left_keys) & set(right_keys) if left_keys[k] != right_keys[k])
    if changed:
        return f"predictions not compared: {left_name} and {right_name} tested different data (node {changed[0]} has another cache key)"
    left_records, right_records = _records(lv, ls), _records(rv, rs)
    if not left_records or not right_records:
        return f"predictions not compared: {left_name if not left_records else right_name} has no {RECORDS_FILE}"
    id_field = "id" if all("id" in r for r in left_records + right_records) else "index"
    by_id = {json.dumps(r.get(id_field), sort_keys=True): r for r in right_records}
    differing = []
    matched = left_correct = right_correct = 0
    for record in left_records:
        other = by_id.get(json.dumps(record.get(id_field), sort_keys=True))
        if other is None:
            continue
        matched += 1
        if record.get("prediction") == other.get("prediction"):
            continue
        row = {"id": record.get(id_field), "target": record.get("target"), "left": record.get("prediction"), "right": other.get("prediction")}
        differing.append(row)
        if "target" in record:
            left_correct += row["left"] == row["target"]
            right_correct += row["right"] == row["target"]
    return PredictionDiff(
        left=left_name, right=right_name, id_field=id_field, matched=matched, differing=differing,
        unmatched=len(left_records) + len(right_records) - 2 * matched,
        left_only_correct=left_correct, right_only_correct=right_correct,
    )
