"""``runway cache gc``: delete cache entries that nothing needs.

Kept: the entry each node's ``latest.json`` names, and every entry that an
experiment recorded as consumed (``experiments/*/provenance.json``, under
``"data": {node: key}``). Deleted: every other entry, entries without a
completion marker, temporary folders left by killed writers, and the staging
areas of sharded nodes (the shards a crashed prepare left for the next one).

Safe while a ``runway prepare`` runs: an entry is deleted only while holding
its lock, taken without waiting; an entry being written or read is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from runway.pipeline.cache import CacheStore, folder_size, node_folder_name

PROVENANCE_FILE = "provenance.json"


def referenced_keys(experiments_dir: Path) -> set[tuple[str, str]]:
    """``(node folder, key)`` for every entry an experiment recorded as consumed."""
    found: set[tuple[str, str]] = set()
    if not experiments_dir.is_dir():
        return found
    files: Iterable[Path] = [*experiments_dir.glob(f"*/{PROVENANCE_FILE}"), *experiments_dir.glob(f"*/*/{PROVENANCE_FILE}")]
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8")).get("data") or {}
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(data, dict):
            for node, key in data.items():
                if isinstance(key, str):
                    found.add((node_folder_name(str(node)), key))
    return found


@dataclass
class GcReport:
    """What gc deleted (or would delete), kept, and skipped because it was in use."""

    deleted: list[tuple[str, str, int]] = field(default_factory=list)  # (node, key, bytes)
    kept: list[tuple[str, str, str]] = field(default_factory=list)  # (node, key, why)
    in_use: list[tuple[str, str]] = field(default_factory=list)

    @property
    def freed(self) -> int:
        return sum(size for _, _, size in self.deleted)


def collect_garbage(store: CacheStore, experiments_dir: Path, *, dry_run: bool = False) -> GcReport:
    """Delete unneeded entries of ``store`` (see the module docstring)."""
    report = GcReport()
    referenced = referenced_keys(experiments_dir)
    latest, latest_dummy = store.latest_keys(), store.latest_keys(dummy=True)
    for entry in store.entries():
        if entry.complete and entry.key in (latest.get(entry.folder), latest_dummy.get(entry.folder)):
            report.kept.append((entry.node, entry.key, "latest"))
            continue
        if entry.complete and (entry.folder, entry.key) in referenced:
            report.kept.append((entry.node, entry.key, "used by an experiment"))
            continue
        if dry_run or store.delete_if_unlocked(entry.folder, entry.key, entry.path):
            report.deleted.append((entry.node, entry.key, entry.size))
        else:
            report.in_use.append((entry.node, entry.key))
    for folder, key, path in store.leftovers():
        size = folder_size(path)
        if dry_run or store.delete_if_unlocked(folder, key, path):
            report.deleted.append((f"{folder} (interrupted write)", key, size))
        else:
            report.in_use.append((folder, key))
    for folder, key, path in staging_areas(store):
        size = folder_size(path)
        if dry_run or store.delete_if_unlocked(folder, key, path):
            report.deleted.append((f"{folder} (shards of an unfinished run)", key, size))
        else:
            report.in_use.append((folder, key))
    return report


def staging_areas(store: CacheStore) -> list[tuple[str, str, Path]]:
    """``(node folder, key, path)`` of sharded nodes' staging areas (a running merge holds the entry's lock)."""
    from runway.pipeline.shards import SHARDS_PREFIX

    if not store.root.is_dir():
        return []
    return [
        (node_dir.name, path.name[len(SHARDS_PREFIX) :], path)
        for node_dir in store.root.iterdir()
        if node_dir.is_dir()
        for path in node_dir.glob(f"{SHARDS_PREFIX}*")
        if path.is_dir()
    ]
