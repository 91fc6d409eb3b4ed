"""Choosing versions to compare: ``EXP``, ``EXP:N``, ``EXP:N:SUFFIX``, or a sweep's points.

The addresses are :mod:`runway.experiment.address`'s, with one difference:
a bare ``EXP`` is every version of EXP. ``SUFFIX`` picks the test run
(``test-SUFFIX/``) whose metrics and predictions are compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runway.errors import ExperimentError
from runway.experiment.address import folder_address, parse_address, resolve
from runway.experiment.store import ExperimentStore, Version


@dataclass(frozen=True)
class Selected:
    """One version to compare, and the test run asked for (``None``: any)."""

    version: Version
    suffix: str | None = None

    @property
    def label(self) -> str:
        return self.version.label + (f":{self.suffix}" if self.suffix else "")


def select(store: ExperimentStore, spec: str) -> list[Selected]:
    """The versions that ``spec`` names (see :mod:`runway.experiment.address`); a bare EXP is all of them."""
    address = folder_address(store, parse_address(spec))
    if not address.pinned and not address.suffix:
        store.get(address.name)  # no versions: the store's error names what exists
        return [Selected(store.get(address.name, n)) for n in store.versions(address.name)]
    version, suffix = resolve(store, spec)
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
