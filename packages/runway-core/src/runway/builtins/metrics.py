"""Built-in evaluation metrics: accuracy, precision, recall, F1 (macro), MSE."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from runway.hookspecs import hookimpl


def _check(predictions: Sequence[Any], targets: Sequence[Any]) -> None:
    if len(predictions) != len(targets):
        raise ValueError(f"{len(predictions)} predictions for {len(targets)} targets")
    if not targets:
        raise ValueError("no samples to evaluate")


def accuracy(predictions: Sequence[Any], targets: Sequence[Any]) -> float:
    _check(predictions, targets)
    return sum(p == t for p, t in zip(predictions, targets)) / len(targets)


def _per_class(predictions: Sequence[Any], targets: Sequence[Any]) -> dict[Any, tuple[int, int, int]]:
    classes = sorted(set(targets) | set(predictions), key=repr)
    counts = {}
    for c in classes:
        tp = sum(p == c and t == c for p, t in zip(predictions, targets))
        fp = sum(p == c and t != c for p, t in zip(predictions, targets))
        fn = sum(p != c and t == c for p, t in zip(predictions, targets))
        counts[c] = (tp, fp, fn)
    return counts


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def precision(predictions: Sequence[Any], targets: Sequence[Any]) -> float:
    """Macro-averaged precision over the classes seen in targets or predictions."""
    _check(predictions, targets)
    counts = _per_class(predictions, targets)
    return sum(_ratio(tp, tp + fp) for tp, fp, _ in counts.values()) / len(counts)


def recall(predictions: Sequence[Any], targets: Sequence[Any]) -> float:
    """Macro-averaged recall."""
    _check(predictions, targets)
    counts = _per_class(predictions, targets)
    return sum(_ratio(tp, tp + fn) for tp, _, fn in counts.values()) / len(counts)


def f1(predictions: Sequence[Any], targets: Sequence[Any]) -> float:
    """Macro-averaged F1."""
    _check(predictions, targets)
    scores = []
    for tp, fp, fn in _per_class(predictions, targets).values():
        p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        scores.append(2 * p * r / (p + r) if p + r else 0.0)
    return sum(scores) / len(scores)


def mse(predictions: Sequence[Any], targets: Sequence[Any]) -> float:
    _check(predictions, targets)
    total = sum((float(p) - float(t)) ** 2 for p, t in zip(predictions, targets))
    value = total / len(targets)
    if math.isnan(value):
        raise ValueError("mse is NaN")
    return value


@hookimpl
def register_metrics(register: Callable[..., None]) -> None:
    for fn in (accuracy, precision, recall, f1, mse):
        register(fn)
