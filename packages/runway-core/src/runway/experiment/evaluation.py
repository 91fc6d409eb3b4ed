"""Evaluation: metrics over a test run's records, into ``metrics.json``.

Metrics come from the ``register_metrics`` hook: core's ``accuracy``,
``precision``, ``recall``, ``f1`` (macro) and ``mse``, any installed
plugin's, and the project's own ``@runway.register_metric`` functions in
``metrics/``. ``eval.metrics`` lists which to compute (default in
:class:`runway.experiment.settings.EvalSettings`). A metric returning a
dict contributes one value per key (``name/key``).

Metrics read each record's ``eval.prediction_field`` (default
``prediction``) and ``eval.target_field`` (default ``target``). What the
module's ``test_step`` logged with ``self.log`` (``test_metrics`` in
``summary.json``) joins ``metrics.json`` as it is. Records without those
fields (a ``test_step`` that only logs, a dict of other keys) leave the
default metrics out; metrics asked for by name in ``eval.metrics`` say
which field they missed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from runway.errors import ConfigError, ExperimentError, PluginError
from runway.experiment.records import RECORDS_FILE, records_path
from runway.experiment.records import read_records as read_all_records
from runway.experiment.settings import Settings, parse_section
from runway.experiment.store import METRICS_FILE, Version
from runway.support.files import write_json


def metric_registry(plugins: Any) -> dict[str, Callable[..., Any]]:
    """Every registered metric by name; a name registered twice names both plugins."""
    found: dict[str, Callable[..., Any]] = {}
    owners: dict[str, str] = {}
    for impl in reversed(plugins.pm.hook.register_metrics.get_hookimpls()):
        owner = plugins.pm.get_name(impl.plugin)

        def register(fn: Callable[..., Any], name: str | None = None, _owner: str = owner) -> None:
            key = name or fn.__name__
            if key in found and owners[key] != _owner:
                raise PluginError(f"metric {key!r} is registered twice: by plugin {owners[key]!r} and by plugin {_owner!r}")
            found[key] = fn
            owners[key] = _owner

        impl.function(register=register)
    return found


def read_records(version: Version, suffix: str) -> list[dict[str, Any]]:
    path = records_path(version.test_dir(suffix))
    if path is None:
        tests = version.tests()
        raise ExperimentError(
            f"{version.label} has no test run {suffix!r} ({version.test_dir(suffix) / RECORDS_FILE} is missing); run "
            f"`runway infer {version.name} {suffix}` first. Test runs: {', '.join(tests) or 'none'}"
        )
    return read_all_records(path)


def compute_metrics(
    records: list[dict[str, Any]],
    names: list[str],
    registry: dict[str, Callable[..., Any]],
    *,
    prediction_field: str = "prediction",
    target_field: str = "target",
) -> dict[str, float]:
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise ConfigError(
            f"eval.metrics: unknown metric(s) {', '.join(map(repr, unknown))}; registered: {', '.join(sorted(registry))}"
        )
    predictions = [r.get(prediction_field) for r in records]
    targets = [r.get(target_field) for r in records]
    from runway.support.progress import progress

    results: dict[str, float] = {}
    with progress(f"eval ({len(records)} records)", len(names), unit="metrics") as bar:
        for name in names:
            bar.update(note=name)
            value = registry[name](predictions, targets)
            if isinstance(value, dict):
                results.update({f"{name}/{key}": float(v) for key, v in value.items()})
            else:
                results[name] = float(value)
            bar.advance()
    return results


def missing_fields(records: list[dict[str, Any]], fields: tuple[str, ...]) -> list[str]:
    """Which of ``fields`` no record has."""
    return [f for f in fields if not any(f in r for r in records)]


def metrics_to_compute(records: list[dict[str, Any]], evaluation: Any, *, asked: bool, suffix: str) -> list[str]:
    """``eval.metrics``, or none when the records lack the fields the metrics read and the
    metrics are only the default ones; metrics asked for by name say which field is missing."""
    names = list(evaluation.metrics)
    missing = missing_fields(records, (evaluation.prediction_field, evaluation.target_field)) if records else []
    if not records and not asked:
        return []
    if not missing:
        return names
    if not asked:
        return []
    present = sorted({k for r in records for k in r})
    raise ConfigError(
        f"eval.metrics: {', '.join(names)} read the record fields {evaluation.prediction_field!r} (eval.prediction_field) "
        f"and {evaluation.target_field!r} (eval.target_field); the records of test-{suffix} have no "
        f"{' and no '.join(map(repr, missing))}. Their fields: {', '.join(present)}. Set eval.prediction_field and "
        "eval.target_field to the fields your step returns"
    )


def logged_test_metrics(version: Version, suffix: str) -> dict[str, float]:
    """What the module's ``test_step`` logged (``summary.json``'s ``test_metrics``), finite values only."""
    import math

    from runway.experiment.inference import SUMMARY_FILE

    path = version.test_dir(suffix) / SUMMARY_FILE
    try:
        logged = json.loads(path.read_text(encoding="utf-8")).get("test_metrics") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    if not isinstance(logged, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in logged.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    }


def evaluate_version(
    version: Version,
    suffix: str,
    config: dict[str, Any],
    plugins: Any,
    *,
    logger_names: list[str],
    tags: dict[str, str] | None = None,
    settings: Settings | None = None,
) -> dict[str, float]:
    """Compute ``eval.metrics`` over ``test-<suffix>/records.parquet``; write and log them.

    Without ``settings`` only the config's ``eval`` section is parsed.
    """
    from runway.logging.loggers import LoggerSet
    from runway.logging.run import Run

    evaluation = settings.eval if settings is not None else parse_section(config, "eval")
    records = read_records(version, suffix)
    names = metrics_to_compute(records, evaluation, asked="metrics" in (config.get("eval") or {}), suffix=suffix)
    computed = compute_metrics(
        records, names, metric_registry(plugins),
        prediction_field=evaluation.prediction_field, target_field=evaluation.target_field,
    )
    metrics = {**logged_test_metrics(version, suffix), **computed}
    path = write_json(version.test_dir(suffix) / METRICS_FILE, metrics)
    run = Run(
        experiment=version.name,
        version=version.number,
        version_dir=version.path,
        config=version.config,
        tags=tags or {},
        job_type=f"test-{suffix}",
    )
    with LoggerSet(logger_names, run, plugins) as loggers:
        loggers.log_metrics({f"{suffix}/{name}": value for name, value in metrics.items()}, None)
        loggers.log_artifact(path, f"test-{suffix}/{METRICS_FILE}")
    return metrics
