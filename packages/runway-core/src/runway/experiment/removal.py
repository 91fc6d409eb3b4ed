"""Removing versions: ``runway rm NAME:V ...`` and ``runway rm --failed``.

A version is removed only while this process holds its lease
(:mod:`runway.job.lease`), so a version that a process trains, infers or
resumes into is never touched; one whose status says it is running or
pending (a job a launcher submitted and that has not started, or runs on
another host) is refused too, pointing at ``runway cancel``. The folder is
first renamed out of the store (``experiments/.removing-<folder>-<pid>``),
so it stops being a version at once and a crash midway leaves no
half-deleted version, then deleted.

Cache entries are not deleted here: the versions' ``provenance.json``
named the data they consumed, which kept those entries from ``runway cache
gc``. :func:`freed_by` says which entries only the removed versions used,
so the command can tell what ``cache gc`` may now free.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.errors import ExperimentError
from runway.experiment.store import ExperimentStore, Version

# states in which a job may still write into its version
ACTIVE_STATES = frozenset({"running", "pending", "submitted", "queued", "requeued"})
REMOVING_PREFIX = ".removing-"


@dataclass
class Removal:
    """What ``remove`` did: the versions removed, and those refused with the reason."""

    removed: list[Version] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)  # label -> state when removed
    refused: list[tuple[Version, str]] = field(default_factory=list)
    data: set[tuple[str, str]] = field(default_factory=set)  # (node folder, key) the removed versions consumed


def _data_keys(version: Version) -> set[tuple[str, str]]:
    from runway.pipeline.cache import node_folder_name

    data = version.provenance.get("data") or {}
    return {(node_folder_name(str(n)), k) for n, k in data.items() if isinstance(k, str)} if isinstance(data, dict) else set()


def refusal(version: Version) -> str | None:
    """Why ``version`` may not be removed now, or ``None``."""
    state = version.status.get("state", "unknown")
    if state in ACTIVE_STATES:
        return (
            f"{version.label} is {state}: cancel it first (`runway cancel {version.name}:{version.number}`), "
            "or wait for it to end"
        )
    return None


def remove_one(store: ExperimentStore, version: Version) -> None:
    """Remove ``version``'s folder while holding its lease; :class:`ExperimentError` when it is in use."""
    from runway.job.lease import LeaseHeld, holding

    reason = refusal(version)
    if reason is not None:
        raise ExperimentError(reason)
    parking = store.root / f"{REMOVING_PREFIX}{version.path.name}-{os.getpid()}"
    try:
        with holding(version.path, version.label):
            os.rename(version.path, parking)
    except LeaseHeld as exc:
        raise ExperimentError(f"{version.label} not removed: {exc}") from None
    shutil.rmtree(parking, ignore_errors=True)


def remove(store: ExperimentStore, versions: Sequence[Version], *, dry_run: bool = False) -> Removal:
    """Remove each of ``versions`` that is not in use; the others are refused, each with its reason."""
    result = Removal()
    for version in versions:
        keys = _data_keys(version)
        result.states[version.label] = version.status.get("state", "unknown")
        if dry_run:
            reason = refusal(version)
            if reason is None:
                result.removed.append(version)
                result.data |= keys
            else:
                result.refused.append((version, reason))
            continue
        try:
            remove_one(store, version)
        except ExperimentError as exc:
            result.refused.append((version, str(exc)))
            continue
        result.removed.append(version)
        result.data |= keys
    return result


def failed_versions(store: ExperimentStore, names: Sequence[str] = ()) -> list[Version]:
    """The versions (of ``names``, else all) whose job failed."""
    return [v for v in store.all() if (not names or v.name in names) and v.status.get("state") == "failed"]


@dataclass
class CacheEffect:
    """What became of the cache entries the removed versions consumed."""

    freeable: int = 0  # entries that nothing keeps now: `runway cache gc` deletes them
    freeable_bytes: int = 0
    used: int = 0  # still consumed by another version
    latest: int = 0  # their node's latest entry (gc keeps it: the next run loads it)


def freed_by(project: Any, data: set[tuple[str, str]], *, ignore: Sequence[Version] = ()) -> CacheEffect:
    """What ``runway cache gc`` can free now of the entries in ``data`` (``ignore``: versions
    counted as gone, for a dry run)."""
    from runway.pipeline.cache import CacheStore
    from runway.pipeline.formats import format_registry

    effect = CacheEffect()
    if not data:
        return effect
    cache = CacheStore(project.cache_dir, format_registry())
    gone = {v.path for v in ignore}
    still: set[tuple[str, str]] = set()
    for version in ExperimentStore.for_project(project).all():
        if version.path not in gone:
            still |= _data_keys(version)
    latest = set(cache.latest_keys().items()) | set(cache.latest_keys(dummy=True).items())
    for entry in cache.entries():
        key = (entry.folder, entry.key)
        if key not in data or not entry.complete:
            continue
        if key in still:
            effect.used += 1
        elif key in latest:
            effect.latest += 1
        else:
            effect.freeable += 1
            effect.freeable_bytes += entry.size
    return effect


def leftover_parkings(experiments_dir: Path) -> list[Path]:
    """Folders of removals that a crash interrupted (safe to delete)."""
    if not experiments_dir.is_dir():
        return []
    return sorted(p for p in experiments_dir.iterdir() if p.name.startswith(REMOVING_PREFIX))
