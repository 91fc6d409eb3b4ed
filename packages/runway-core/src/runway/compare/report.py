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


def _test_data(version: Version, suffix: str) -> tuple[Any, dict[str, Any]]:
    """The split and the data keys that test run ``suffix`` predicted."""
    path = version.test_dir(suffix) / SUMMARY_FILE
    summary = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return summary.get("split"), summary.get("data") or {}


def mismatches(selected: Sequence[Selected]) -> list[str]:
    """Why the metrics of ``selected`` are not comparable: test runs of one suffix on other
    splits or other data, or dummy data beside real data; empty when they are."""
    found: list[str] = []
    dummy = [item.label for item in selected if item.version.dummy]
    if dummy and len(dummy) < len(selected):
        found.append(f"{', '.join(dummy)} ran on dummy data, the others on real data")
    by_suffix: dict[str, list[tuple[str, Any, dict[str, Any]]]] = {}
    for item in selected:
        for suffix in [item.suffix] if item.suffix else item.version.tests():
            split, data = _test_data(item.version, suffix)
            by_suffix.setdefault(suffix, []).append((item.label, split, data))
    for suffix, runs in by_suffix.items():
        splits = {str(split) for _, split, _ in runs if split is not None}
        if len(splits) > 1:
            named = ", ".join(f"{label}: {split}" for label, split, _ in runs)
            found.append(f"test runs {suffix!r} predicted different splits ({named})")
            continue
        first_label, _, first = runs[0]
        for label, _, data in runs[1:]:
            nodes = set(first) | set(data)
            changed = sorted(n for n in nodes if first.get(n) != data.get(n))
            if changed:
                found.append(f"test runs {suffix!r} of {first_label} and {label} read different data (node {changed[0]})")
    return found


def _training_data_notes(versions: Sequence[Version]) -> list[str]:
    """A note where versions trained on other data (the cache keys in their provenance differ):
    their validation metrics are then of other samples."""
    keyed = [(v.label, v.provenance.get("data")) for v in versions]
    keyed = [(label, data) for label, data in keyed if isinstance(data, dict) and data]
    if len(keyed) < 2:
        return []
    first_label, first = keyed[0]
    notes = []
    for label, data in keyed[1:]:
        changed = sorted(n for n in set(first) | set(data) if first.get(n) != data.get(n))
        if changed:
            notes.append(f"note: {first_label} and {label} trained on different data (node {changed[0]}); their validation metrics are of other samples")
    return notes


def compare(selected: Sequence[Selected], *, force: bool = False) -> Comparison:
    """The comparison of ``selected`` (predictions too when there are two test runs of the same data).

    Versions whose test runs predicted other splits or other data, or that mix
    dummy and real data, are refused (:class:`ExperimentError`, naming them)
    unless ``force``; forced, the table is shown with notes, and predictions
    are still only matched between runs of the same split and data.
    """
    from runway.errors import ExperimentError

    problems = mismatches(selected)
    if problems and not force:
        raise ExperimentError(
            "these versions are not comparable: " + "; ".join(problems)
            + ". Pick test runs of the same split (EXP:N:SUFFIX), or add --force to see them side by side anyway"
        )
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
        states=[v.status.get("state", "unknown") + (" (dummy)" if v.dummy else "") for v in versions],
        config=config_differences([v.config for v in versions]),
        metrics={n: [m.get(n) for m in per_version] for n in ordered},
        notes=[f"not comparable (--force): {p}" for p in problems] + _training_data_notes(versions),
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


def diff_predictions(left: tuple[Version, str], right: tuple[Version, str]) -> PredictionDiff | str:
    """The samples predicted differently, or a sentence saying why they cannot be compared."""
    (lv, ls), (rv, rs) = left, right
    left_name, right_name = f"{lv.label}:{ls}", f"{rv.label}:{rs}"
    (left_split, left_keys), (right_split, right_keys) = _test_data(lv, ls), _test_data(rv, rs)
    if left_split != right_split:
        return f"predictions not compared: {left_name} predicted split {left_split!r}, {right_name} split {right_split!r}"
    changed = sorted(k for k in set(left_keys) | set(right_keys) if left_keys.get(k) != right_keys.get(k))
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
