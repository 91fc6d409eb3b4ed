"""Installed plugins found once per environment, not on every command.

``importlib.metadata.entry_points()`` opens the metadata of every installed
distribution: a quarter of a second in a large environment, paid by every
``runway`` command before it does anything. What it finds changes only when
distributions are installed, removed or reinstalled, so the ``runway`` group's
entry points are kept in ``plugins-<environment>.json`` in Runway's user cache
folder (:mod:`runway.support.user_cache`) with a fingerprint of what was installed:

- each folder on ``sys.path`` that holds distribution metadata, in order
  (another ``PYTHONPATH`` can bring other plugins);
- in each, the name of every ``.dist-info``/``.egg-info`` (an install or
  removal adds or removes one; a new version has a new name) and the
  modification time of its ``entry_points.txt`` (a reinstall in place).

A command whose fingerprint matches reads the entry points from the file;
any difference reads the metadata again and rewrites it. Computing the
fingerprint lists the folders on ``sys.path`` and stats one file per
distribution, which is far cheaper than parsing every distribution's
metadata. ``RUNWAY_PLUGIN_CACHE=0`` turns the cache off; a cache folder that
cannot be written only means the metadata is read every time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

FORMAT_VERSION = 1
SWITCH = "RUNWAY_PLUGIN_CACHE"
_METADATA_SUFFIXES = (".dist-info", ".egg-info")


class CachedDistribution:
    """What the plugin manager reads of an entry point's distribution: ``metadata["Name"]`` and ``version``.

    Plain classes here and below: defining a dataclass costs start-up time that every command would pay."""

    __slots__ = ("name", "version")

    def __init__(self, name: str | None, version: str | None) -> None:
        self.name, self.version = name, version

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CachedDistribution) and (self.name, self.version) == (other.name, other.version)

    def __hash__(self) -> int:
        return hash((self.name, self.version))

    @property
    def metadata(self) -> dict[str, str | None]:
        return {"Name": self.name}


class CachedEntryPoint:
    """An entry point as ``importlib.metadata`` gives it, from the cache: ``name``, ``value``, ``dist``, ``load()``."""

    __slots__ = ("name", "value", "group", "dist")

    def __init__(self, name: str, value: str, group: str, dist: CachedDistribution | None) -> None:
        self.name, self.value, self.group, self.dist = name, value, group, dist

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CachedEntryPoint) and all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    def __hash__(self) -> int:
        return hash((self.name, self.value, self.group))

    def __repr__(self) -> str:
        return f"CachedEntryPoint({self.name!r}, {self.value!r}, {self.group!r})"

    def load(self) -> Any:
        """Import the object the entry point names (``module`` or ``module:attribute``)."""
        import pkgutil

        return pkgutil.resolve_name(self.value.partition("[")[0].strip())  # extras, deprecated, name nothing to import


def enabled() -> bool:
    return os.environ.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def cache_file(kind: str = "plugins") -> str:
    """The ``kind`` cache of this environment (one per ``sys.prefix``): a path, as a string (no
    ``pathlib`` at start-up)."""
    from runway.support.user_cache import cache_home, short_key

    return os.path.join(cache_home(), f"{kind}-{short_key(os.path.realpath(sys.prefix))}.json")


def fingerprint(path: Iterable[str] | None = None) -> list[Any]:
    """What the installed distributions look like (see the module docstring), as JSON data.

    Folders on the path that hold no distribution metadata (the current
    folder, a project's code) leave no trace, so that running commands from
    different folders does not invalidate the cache.
    """
    found: list[Any] = []
    for entry in sys.path if path is None else path:
        folder = entry or os.getcwd()
        try:
            names = sorted(e.name for e in os.scandir(folder) if e.name.endswith(_METADATA_SUFFIXES))
        except OSError:  # missing, a file (a zip), unreadable
            continue
        if not names:
            continue
        dists = []
        for name in names:
            try:
                dists.append([name, os.stat(os.path.join(folder, name, "entry_points.txt")).st_mtime_ns])
            except OSError:
                dists.append([name, None])
        found.append([entry, dists])
    return found


def _scan(group: str) -> list[CachedEntryPoint]:
    from importlib import metadata

    found = []
    for ep in metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        cached = CachedDistribution(dist.metadata["Name"], dist.version) if dist is not None else None
        found.append(CachedEntryPoint(ep.name, ep.value, group, cached))
    return sorted(found, key=lambda ep: ep.name)


def _as_json(eps: list[CachedEntryPoint]) -> list[dict[str, Any]]:
    return [
        {
            "name": ep.name,
            "value": ep.value,
            "distribution": ep.dist.name if ep.dist else None,
            "version": ep.dist.version if ep.dist else None,
            "has_dist": ep.dist is not None,
        }
        for ep in eps
    ]


def _from_json(rows: list[dict[str, Any]], group: str) -> list[CachedEntryPoint]:
    return [
        CachedEntryPoint(
            str(row["name"]),
            str(row["value"]),
            group,
            CachedDistribution(row.get("distribution"), row.get("version")) if row.get("has_dist") else None,
        )
        for row in rows
    ]


def entry_points(group: str, current: list[Any] | None = None) -> list[CachedEntryPoint]:
    """The installed entry points of ``group``, sorted by name: from the cache when
    nothing was installed or removed since it was written, else read and cached.
    ``current``: the :func:`fingerprint`, if the caller has computed it already."""
    if not enabled():
        return _scan(group)
    from runway.support.user_cache import read_cached_json, write_cached_json

    path = cache_file()
    current = fingerprint() if current is None else current
    cached = read_cached_json(path)
    if cached and cached.get("version") == FORMAT_VERSION and cached.get("fingerprint") == current:
        groups = cached.get("groups") or {}
        if isinstance(groups, dict) and isinstance(groups.get(group), list):
            try:
                return _from_json(groups[group], group)
            except (TypeError, KeyError, AttributeError):
                pass  # not the shape this module writes: read the metadata again
    found = _scan(group)
    same = cached and cached.get("fingerprint") == current and isinstance(cached.get("groups"), dict)
    groups = dict(cached["groups"]) if same else {}
    groups[group] = _as_json(found)
    write_cached_json(path, {"version": FORMAT_VERSION, "fingerprint": current, "groups": groups})
    return found
