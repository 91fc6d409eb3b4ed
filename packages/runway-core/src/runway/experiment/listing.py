"""What ``runway list`` and ``runway show`` print about versions.

A version whose records cannot be read (a truncated ``status.json``, a
``provenance.json`` that is not UTF-8 ...) lists as ``damaged``, naming the
file, and every other version still lists; ``runway show`` of it fails
naming the file. Recorded command lines and tags are shown through the
redaction again, so a record written before a secret's name was known
does not print it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runway.config.redact import redact_argv
from runway.errors import RunwayError
from runway.experiment.store import ExperimentStore, Version
from runway.support.files import DamagedFile, read_json

METRICS_SHOWN = 4


def metrics_text(version: Version) -> str:
    """``suffix: name=value ...`` for each test run that has metrics."""
    parts = []
    for suffix in version.tests():
        metrics = version.metrics(suffix)
        if metrics:
            shown = " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in list(metrics.items())[:METRICS_SHOWN])
            parts.append(f"{suffix}: {shown}")
    return "; ".join(parts)


def version_rows(
    project: Any,
    names: Sequence[str] = (),
    *,
    filters: Sequence[str] = (),
    sort: str | None = None,
    reverse: bool = False,
) -> list[dict[str, Any]]:
    """One row per version: of ``names`` when given, matching every ``KEY=VALUE`` of ``filters``,
    ordered by metric ``sort`` (ascending; ``reverse`` for descending; rows without it last)."""
    from runway.errors import ConfigError

    wanted = []
    for text in filters:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise ConfigError(
                f"--filter {text!r}: write KEY=VALUE (a dotted config key, a metric, status, tag, dummy or experiment), "
                "e.g. --filter status=completed --filter train.epochs=2"
            )
        wanted.append((key, value))
    rows = []
    for version in ExperimentStore.for_project(project).all():
        if names and version.name not in names:
            continue
        try:
            row = _row(version)
        except DamagedFile as exc:
            row = _damaged_row(version, exc)
        try:
            keep = all(row_matches(row, version, key, value) for key, value in wanted)
        except DamagedFile:
            keep = False
        if keep:
            rows.append(row)
    if sort is not None:
        if rows and all(row_metric(row, sort) is None for row in rows):
            known = sorted({k for row in rows for k in metric_names(row)})
            raise ConfigError(f"--sort {sort!r}: no listed version has that metric; metrics: {', '.join(known) or 'none'}")
        present = [r for r in rows if row_metric(r, sort) is not None]
        present.sort(key=lambda r: row_metric(r, sort), reverse=reverse)  # type: ignore[arg-type, return-value]
        rows = present + [r for r in rows if row_metric(r, sort) is None]
    return rows


def metric_names(row: dict[str, Any]) -> list[str]:
    """The metrics a listed row can be sorted by: its validation metrics and ``SUFFIX:name`` test metrics."""
    names = list(row.get("validation") or {})
    for suffix, values in (row.get("metrics") or {}).items():
        names.extend(f"{suffix}:{k}" for k in values or {})
    return names


def validation_metrics(version: Version) -> dict[str, float]:
    """The last logged value of each validation metric (``val/...``, ``val_...``) of the training."""
    from runway.compare.report import last_train_metrics

    return {k: v for k, v in last_train_metrics(version).items() if k.startswith(("val/", "val_", "valid"))}


def _validation_text(values: dict[str, float]) -> str:
    shown = list(values.items())[:METRICS_SHOWN]
    return ("val: " + " ".join(f"{k}={v:.4f}" for k, v in shown)) if shown else ""


def format_duration(seconds: float | None) -> str:
    """``42s``, ``3m05s``, ``2h10m``; ``-`` when not recorded."""
    if seconds is None:
        return "-"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _row(version: Version) -> dict[str, Any]:
    provenance = version.provenance
    status = version.status
    _ = version.config  # read for its damage only: a version whose config cannot be read cannot run
    tags = provenance.get("tag") or []
    validation = validation_metrics(version)
    tests_text = metrics_text(version)
    return {
        "experiment": version.name,
        "version": version.number,
        "status": status.get("state", "unknown"),
        "dummy": version.dummy,
        "created": provenance.get("created"),
        "duration_s": version.duration_s(),
        "tag": redact_argv(str(t) for t in (tags if isinstance(tags, list) else [tags])),
        "parent": provenance.get("parent"),
        "metrics": {s: version.metrics(s) for s in version.tests()},
        "validation": validation,
        # a train-only version shows its validation scores where a tested one shows its tests
        "metrics_text": tests_text or _validation_text(validation),
        "path": str(version.path),
    }


def row_metric(row: dict[str, Any], metric: str) -> float | None:
    """``metric`` of a listed row: ``SUFFIX:name`` or a bare test metric name, or a validation metric."""
    flat: dict[str, Any] = dict(row.get("validation") or {})
    for suffix, values in (row.get("metrics") or {}).items():
        for key, value in (values or {}).items():
            flat[f"{suffix}:{key}"] = value
            flat.setdefault(key, value)
    value = flat.get(metric)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def row_matches(row: dict[str, Any], version: Version, key: str, expected: str) -> bool:
    """Whether a row's ``key`` (experiment, status, dummy, tag, a metric or a dotted config key) is ``expected``."""
    import json

    from runway.config import flatten

    if key in ("experiment", "status", "version"):
        return str(row.get(key)) == expected
    if key == "dummy":
        return str(bool(row.get("dummy"))).lower() == expected.lower()
    if key == "tag":
        return expected in row.get("tag", [])
    metric = row_metric(row, key)
    if metric is not None:
        try:
            return metric == float(expected)
        except ValueError:
            return False
    if row.get("status") == "damaged":
        return False
    flat = flatten(version.config)
    if key not in flat:
        return False
    value = flat[key]
    return expected in (json.dumps(value), str(value), str(value).lower() if isinstance(value, bool) else str(value))


def _damaged_row(version: Version, exc: DamagedFile) -> dict[str, Any]:
    return {
        "experiment": version.name,
        "version": version.number,
        "status": "damaged",
        "dummy": False,
        "duration_s": None,
        "validation": {},
        "damaged": {"file": str(exc.path), "reason": exc.reason},
        "created": None,
        "tag": [],
        "parent": None,
        "metrics": {},
        "metrics_text": f"{exc.path} is damaged ({exc.reason})",
        "path": str(version.path),
    }


def parent_config(project: Any, parent: str) -> tuple[dict[str, Any] | None, str]:
    """The config the version started from and where it came from.

    ``NAME:N`` (recorded when ``--from`` named a version, or by a sweep) is
    that version's config.json, never NAME's latest; a bare ``NAME`` is its
    config file, which is what ``--from NAME`` read.
    """
    from runway.experiment.address import parse_address

    store = ExperimentStore.for_project(project)
    try:
        address = parse_address(parent)
    except RunwayError as exc:
        return None, str(exc)
    if address.version is not None:
        if address.version not in store.versions(address.name):
            return None, f"version {address.version} of {address.name!r} is gone (removed?)"
        found = store.get(address.name, address.version)
        return found.config, f"{found.label}/config.json"
    from runway.config import load_config, redact

    try:
        return redact(load_config(address.name, project=project)), f"configs/experiments/{address.name}.jsonnet"
    except RunwayError as exc:
        return None, str(exc)


def describe_version(project: Any, version: Version) -> list[str]:
    """The lines of ``runway show``."""
    from runway.config import diff_configs

    lines = [f"{version.label}  ({version.path})"]
    status = version.status
    state = status.get("state", "unknown")
    lines.append(f"status: {state}" + (f" ({status['job_type']})" if status.get("job_type") else ""))
    if version.dummy:
        lines.append("data: DUMMY (a smoke run on the pipeline's dummy data; its metrics say nothing about the model)")
    lines.append(f"duration: {format_duration(version.duration_s())}")
    if status.get("error"):
        lines.append(f"error: {status['error']}")
    if status.get("reason"):
        lines.append(f"reason: {status['reason']}")
    provenance = version.provenance
    lines.append(f"created: {provenance.get('created', '-')} on {provenance.get('host', '-')}")
    if provenance.get("command"):
        lines.append("command: " + " ".join(redact_argv(provenance["command"])))
    git = provenance.get("git")
    if git:
        lines.append(f"git: {git.get('commit')}{' (dirty)' if git.get('dirty') else ''}")
    if provenance.get("tag"):
        lines.append("tag: " + ", ".join(redact_argv(provenance["tag"])))
    if provenance.get("data"):
        lines.append("data: " + ", ".join(f"{k}={v[:12]}" for k, v in sorted(provenance["data"].items())))

    parent = provenance.get("parent") or version.config.get("parent")
    if parent:
        baseline, origin = parent_config(project, parent)
        lines.append(f"parent: {parent}")
        if baseline is None:
            lines.append(f"  (cannot read the parent's config: {origin})")
        else:
            mine = {k: v for k, v in version.config.items() if k != "parent"}
            theirs = {k: v for k, v in baseline.items() if k != "parent"}
            difference = diff_configs(theirs, mine)
            lines.append(f"config diff against {origin}:" if difference else f"config: same as {origin}")
            lines.extend("  " + line for line in difference.lines())
    else:
        lines.append("parent: none")

    checkpoints = version.checkpoints()
    lines.append("checkpoints:" if checkpoints else "checkpoints: none")
    for path in checkpoints:
        lines.append(f"  {path.name}  {path.stat().st_size / 1e6:.2f} MB")
    validation = validation_metrics(version)
    if validation:
        lines.append("validation (last logged):")
        lines.extend(f"  {k}: {v:.4f}" for k, v in validation.items())
    tests = version.tests()
    lines.append("tests:" if tests else "tests: none")
    for suffix in tests:
        summary = read_json(version.test_dir(suffix) / "summary.json", {}, expect=dict)
        count = summary.get("count", "?")
        which = (summary.get("checkpoint") or {}).get("which", "?")
        lines.append(f"  {suffix}: {count} samples, checkpoint {which}")
        for key, value in version.metrics(suffix).items():
            lines.append(f"    {key}: {value:.4f}" if isinstance(value, float) else f"    {key}: {value}")
    return lines
