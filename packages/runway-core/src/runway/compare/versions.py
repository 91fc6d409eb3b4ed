"""Choosing versions to compare: ``EXP``, ``EXP:N``, ``EXP:N:SUFFIX``, or a sweep's points.

``EXP`` is every version of EXP; ``N`` may be written ``3``, ``V3`` or
``latest``; ``SUFFIX`` picks the test run (``test-SUFFIX/``) whose metrics
and predictions are compared. ``EXP_V3`` (a version folder's name) works too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runway.errors import ExperimentError
from runway.experiment.store import ExperimentStore, Version
from runway.experiment.versions import FOLDER_SEPARATOR, parse_folder_name

_NUMBER = re.compile(r"[Vv]?(?P<n>\d+)")


@dataclass(frozen=True)
class Selected:
    """One version to compare, and the test run asked for (``None``: any)."""

    version: Version
    suffix: str | None = None

    @property
    def label(self) -> str:
        return self.version.label + (f":{self.suffix}" if self.suffix else "")


def _number(text: str, spec: str, store: ExperimentStore, name: str) -> int:
    if text == "latest":
        return store.get(name).number
    match = _NUMBER.fullmatch(text)
    if match is None:
        raise ExperimentError(f"{spec!r}: {text!r} is not a version (write EXP:3, EXP:V3 or EXP:latest)")
    return int(match["n"])


def select(store: ExperimentStore, spec: str) -> list[Selected]:
    """The versions that ``spec`` names (see the module docstring)."""
    parts = spec.split(":")
    if len(parts) > 3 or not parts[0]:
        raise ExperimentError(f"{spec!r}: write EXP, EXP:VERSION or EXP:VERSION:SUFFIX")
    name = parts[0]
    suffix = parts[2] if len(parts) == 3 and parts[2] else None
    if len(parts) == 1 and not store.versions(name):
        parsed = parse_folder_name(name.replace("/", FOLDER_SEPARATOR))
        if parsed is not None and parsed[1] in store.versions(parsed[0]):
            return [Selected(store.get(parsed[0], parsed[1]))]
    if len(parts) == 1 or not parts[1]:
        store.get(name)  # no versions: the store's error names what exists
        return [Selected(store.get(name, n), suffix) for n in store.versions(name)]
    version = store.get(name, _number(parts[1], spec, store, name))
    if suffix is not None and suffix not in version.tests():
        have = ", ".join(version.tests()) or "none"
        raise ExperimentError(f"{spec!r}: {version.label} has no test run {suffix!r} (test runs: {have})")
    return [Selected(version, suffix)]


def select_all(experiments_dir: Path, specs: Sequence[str], sweep: str | None = None) -> list[Selected]:
    """Every version named by ``specs`` and the points of ``sweep``, each once, in the order given."""
    store = ExperimentStore(experiments_dir)
    chosen: list[Selected] = []
    if sweep is not None:
        from runway.sweep.ledger import find_ledger

        data = find_ledger(experiments_dir, sweep).read()
        for point in data["points"]:
            if point.get("version") is not None and point["version"] in store.versions(data["experiment"]):
                chosen.append(Selected(store.get(data["experiment"], int(point["version"]))))
    for spec in specs:
        chosen.extend(select(store, spec))
    unique: list[Selected] = []
    seen: set[tuple[str, int, str | None]] = set()
    for item in chosen:
        key = (item.version.name, item.version.number, item.suffix)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    if not unique:
        raise ExperimentError("nothing to compare: give versions (EXP, EXP:N, EXP:N:SUFFIX) or --sweep ID")
    return unique
