"""The sweep ledger: ``experiments/_sweeps/<sweep-id>.json``, one per sweep.

It records what was asked (experiment, command, launcher, the axes, the seed)
and, per point, its overrides, its experiment version, its state
(``pending``, ``running``, ``completed``, ``failed``, ``interrupted``), the
error of a failed point, the launcher's job record and earlier attempts.

Every change is a read-modify-write under a file lock, written to a
temporary file and renamed into place, so concurrent writers (the sweep, a
``runway sweep status`` refreshing it) never lose an update and a reader
never sees half a file.

Secrets stay out of the ledger: it records each point's overrides and
``--opts`` tokens, and every list of tokens of the sweep itself (axes,
command line), redacted (:mod:`runway.config.redact`), and
the values those hid go to ``.<sweep-id>.secrets`` beside it (mode 0600),
which :meth:`Ledger.read` puts back so that a point runs (and resumes) with
its real values. Whatever prints a ledger goes through :func:`shown`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runway.errors import ExperimentError
from runway.experiment.versions import FOLDER_SEPARATOR
from runway.support.clock import now_iso
from runway.support.files import DamagedFile, read_json, write_json
from runway.support.processes import owner_gone, this_host

SWEEPS_FOLDER = "_sweeps"
LEDGER_FORMAT = 1
STATES = ("pending", "running", "completed", "failed", "interrupted")
FINAL_STATES = frozenset({"completed", "failed", "interrupted"})
# states that `runway sweep resume` runs again
RERUN_STATES = frozenset({"pending", "failed", "interrupted", "missing"})
_ID = re.compile(r"(?P<stem>.+)-(?P<number>\d+)")


def sweeps_dir(experiments_dir: Path) -> Path:
    return Path(experiments_dir) / SWEEPS_FOLDER


def _stem(experiment: str) -> str:
    return experiment.replace("/", FOLDER_SEPARATOR)


SECRETS_SUFFIX = ".secrets"
_SECRET_FIELDS = ("overrides", "opts")


def _is_tokens(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def shown(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of ledger ``data`` fit to print or write: secrets replaced by ``"***"``.

    Every top-level list of strings (the axes, the sweep's tokens and command
    line) is read as ``--opts`` tokens; every point's overrides and tokens too.
    """
    from runway.config.redact import redact, redact_argv

    out = {key: redact_argv(value) if _is_tokens(value) else value for key, value in data.items()}
    points = []
    for point in data.get("points") or []:
        point = dict(point)
        if "overrides" in point:
            point["overrides"] = redact(point["overrides"])
        if _is_tokens(point.get("opts")):
            point["opts"] = redact_argv(point["opts"])
        points.append(point)
    out["points"] = points
    return out


def _secrets_of(data: dict[str, Any], visible: dict[str, Any]) -> dict[str, Any]:
    """What :func:`shown` hid: ``{"fields": {name: value}, "points": {index: {field: value}}}``."""
    hidden: dict[str, Any] = {}
    fields = {key: value for key, value in data.items() if key != "points" and visible.get(key) != value}
    if fields:
        hidden["fields"] = fields
    points: dict[str, Any] = {}
    for point, seen in zip(data.get("points") or [], visible["points"]):
        changed = {f: point[f] for f in _SECRET_FIELDS if f in point and point[f] != seen.get(f)}
        if changed:
            points[str(point.get("index", len(points)))] = changed
    if points:
        hidden["points"] = points
    return hidden


def _secrets_path(path: Path) -> Path:
    return path.with_name(f".{path.stem}{SECRETS_SUFFIX}")


def _write_ledger(path: Path, data: dict[str, Any]) -> None:
    visible = shown(data)
    hidden = _secrets_of(data, visible)
    secrets_path = _secrets_path(path)
    # secrets first: a ledger on disk never names values that are nowhere
    if hidden:
        write_json(secrets_path, hidden, private=True)
    else:
        secrets_path.unlink(missing_ok=True)
    write_json(path, visible)


def _with_secrets(data: dict[str, Any], hidden: dict[str, Any]) -> dict[str, Any]:
    data.update(hidden.get("fields") or {})
    by_index = {str(p.get("index")): p for p in data.get("points") or []}
    for index, fields in (hidden.get("points") or {}).items():
        if index in by_index:
            by_index[index].update(fields)
    return data


class Ledger:
    """One sweep's ledger file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def id(self) -> str:
        return self.path.stem

    @property
    def folder(self) -> Path:
        """Where the sweep's other files go (launcher files of a job array)."""
        return self.path.with_suffix("")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        from filelock import FileLock

        with FileLock(str(self.path.with_name(f".{self.path.name}.lock"))):
            yield

    @property
    def secrets_path(self) -> Path:
        return _secrets_path(self.path)

    def read(self) -> dict[str, Any]:
        """The ledger with its points' secret values put back (print it through :func:`shown`)."""
        data = read_json(self.path, None, expect=dict)
        if data is None:
            raise ExperimentError(f"sweep ledger {self.path} does not exist")
        return _with_secrets(data, read_json(self.secrets_path, {}, expect=dict))

    def update(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Apply ``change`` to the ledger in place, under the lock; returns the new ledger."""
        with self._locked():
            data = self.read()
            change(data)
            data["updated"] = now_iso()
            _write_ledger(self.path, data)
        return data

    def update_point(self, index: int, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` into point ``index``."""

        def change(data: dict[str, Any]) -> None:
            data["points"][index].update(fields)

        return self.update(change)

    def update_points(self, fields_by_index: dict[int, dict[str, Any]]) -> dict[str, Any]:
        """Merge several points' fields in one write."""

        def change(data: dict[str, Any]) -> None:
            for index, fields in fields_by_index.items():
                data["points"][index].update(fields)

        return self.update(change)

    def claim_runner(self) -> None:
        """Record this process as the one running the sweep's local points."""
        self.update(lambda data: data.__setitem__("runner", this_runner()))


def this_runner() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": this_host(), "started": now_iso()}


def runner_alive(record: dict[str, Any] | None) -> bool:
    """Whether the process that ran the sweep's points still lives (unknown hosts count as alive)."""
    if not record or not isinstance(record.get("pid"), int):
        return False
    return not owner_gone(record)


def create_ledger(experiments_dir: Path, experiment: str, record: dict[str, Any]) -> Ledger:
    """Write a new ledger ``<experiment>-<n>.json`` (``n`` one above the highest so far)."""
    from filelock import FileLock

    folder = sweeps_dir(experiments_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = _stem(experiment)
    with FileLock(str(folder / ".allocate.lock")):
        numbers = [int(m["number"]) for p in folder.glob(f"{stem}-*.json") if (m := _ID.fullmatch(p.stem)) and m["stem"] == stem]
        number = max(numbers, default=0) + 1
        path = folder / f"{stem}-{number}.json"
        now = now_iso()
        _write_ledger(path, {"format": LEDGER_FORMAT, "id": path.stem, "created": now, "updated": now, **record})
    return Ledger(path)


def all_ledgers(experiments_dir: Path) -> list[Ledger]:
    """Every sweep, oldest first."""
    folder = sweeps_dir(experiments_dir)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*.json"):
        try:
            created = read_json(path, expect=dict).get("created", "")
            found.append((str(created), path.stat().st_mtime, path))
        except (DamagedFile, OSError):  # half-created, removed meanwhile, or not a ledger
            continue
    return [Ledger(path) for _, _, path in sorted(found)]


def find_ledger(experiments_dir: Path, sweep: str | None) -> Ledger:
    """The sweep named ``sweep`` (an id, or an experiment for its latest sweep); the latest sweep when ``None``."""
    ledgers = all_ledgers(experiments_dir)
    if not ledgers:
        raise ExperimentError(f"no sweeps in {sweeps_dir(experiments_dir)} (start one with `runway sweep NAME --opts K=V1,V2`)")
    if sweep is None:
        return ledgers[-1]
    for ledger in ledgers:
        if ledger.id == sweep:
            return ledger
    of_experiment = [ledger for ledger in ledgers if _ID.fullmatch(ledger.id) and _ID.fullmatch(ledger.id)["stem"] == _stem(sweep)]
    if of_experiment:
        return of_experiment[-1]
    from runway.errors import did_you_mean

    ids = [ledger.id for ledger in ledgers]
    raise ExperimentError(f"no sweep {sweep!r}.{did_you_mean(sweep, ids)} Sweeps: {', '.join(ids)}")
