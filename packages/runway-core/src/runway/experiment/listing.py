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


def version_rows(project: Any, names: Sequence[str] = ()) -> list[dict[str, Any]]:
    """One row per version (filtered to ``names`` when given)."""
    rows = []
    for version in ExperimentStore.for_project(project).all():
        if names and version.name not in names:
            continue
        try:
            rows.append(_row(version))
        except DamagedFile as exc:
            rows.append(_damaged_row(version, exc))
    return rows


def _row(version: Version) -> dict[str, Any]:
    provenance = version.provenance
    status = version.status
    _ = version.config  # read for its damage only: a version whose config cannot be read cannot run
    tags = provenance.get("tag") or []
    return {
        "experiment": version.name,
        "version": version.number,
        "status": status.get("state", "unknown"),
        "created": provenance.get("created"),
        "tag": redact_argv(str(t) for t in (tags if isinstance(tags, list) else [tags])),
        "parent": provenance.get("parent"),
        "metrics": {s: version.metrics(s) for s in version.tests()},
        "metrics_text": metrics_text(version),
        "path": str(version.path),
    }


def _damaged_row(version: Version, exc: DamagedFile) -> dict[str, Any]:
    return {
        "experiment": version.name,
        "version": version.number,
        "status": "damaged",
        "damaged": {"file": str(exc.path), "reason": exc.reason},
        "created": None,
        "tag": [],
        "parent": None,
        "metrics": {},
        "metrics_text": f"{exc.path} is damaged ({exc.reason})",
        "path": str(version.path),
    }


def parent_config(project: Any, parent: str) -> tuple[dict[str, Any] | None, str]:
    """The parent's config (its latest version's, else its config file) and where it came from."""
    store = ExperimentStore.for_project(project)
    if store.versions(parent):
        latest = store.get(parent)
        return latest.config, f"{latest.label}/config.json"
    from runway.config import load_config, redact

    try:
        return redact(load_config(parent, project=project)), f"configs/experiments/{parent}.jsonnet"
    except RunwayError as exc:
        return None, str(exc)


def describe_version(project: Any, version: Version) -> list[str]:
    """The lines of ``runway show``."""
    from runway.config import diff_configs

    lines = [f"{version.label}  ({version.path})"]
    status = version.status
    state = status.get("state", "unknown")
    lines.append(f"status: {state}" + (f" ({status['job_type']})" if status.get("job_type") else ""))
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
