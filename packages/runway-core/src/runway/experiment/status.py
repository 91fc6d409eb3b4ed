"""``status.json``: what a version's job is doing, and whether its owner still lives.

States: ``pending`` (allocated, handed to a launcher), ``running`` (with the
pid and host of the process that owns it), ``completed``, ``failed`` (with
the error), ``interrupted`` and ``pruned`` (a sweep trial that its sweeper
stopped early because it was doing worse than the others: its training
ended normally, after fewer epochs, and its checkpoints are there; the
sweeper records that with :func:`mark_pruned` while the job runs, and the
job's final ``completed`` reads as ``pruned``). A version still marked ``running`` whose
process is gone (same host, pid not alive) reads as ``interrupted``; so does
a ``pending`` one that records an owner (the local launcher runs the job in
the process that allocated it; other launchers record none).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from runway.support.clock import now_iso
from runway.support.files import read_json, write_json
from runway.support.processes import owner_gone, this_host

STATUS_FILE = "status.json"
#: written by a sweeper that stops a trial early; it turns ``completed`` into ``pruned``
PRUNED_FILE = "pruned.json"


def write_status(folder: Path, state: str, **fields: Any) -> dict[str, Any]:
    """Replace ``folder/status.json`` with ``state``, this process and ``fields``."""
    previous = read_json(folder / STATUS_FILE, {}, expect=dict)
    record: dict[str, Any] = {
        "state": state,
        "pid": os.getpid(),
        "host": this_host(),
        "updated": now_iso(),
        "started": previous.get("started") if state != "pending" else None,
    }
    if state == "running" and not record["started"]:
        record["started"] = record["updated"]
    record.update(fields)
    write_json(folder / STATUS_FILE, record)
    return record


def write_failure(folder: Path, exc: BaseException, **fields: Any) -> dict[str, Any]:
    """Mark the job ``failed`` with the error and its traceback."""
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return write_status(folder, "failed", error=f"{type(exc).__name__}: {exc}", traceback=text, **fields)


def mark_pruned(folder: Path, reason: str, **fields: Any) -> dict[str, Any]:
    """Record that the sweeper stopped this version's training early (``reason``: why, for people)."""
    record = {"reason": reason, "at": now_iso(), **fields}
    write_json(Path(folder) / PRUNED_FILE, record)
    return record


def read_status(folder: Path) -> dict[str, Any]:
    """The status of ``folder``; a dead owner turns ``running`` (or a ``pending``
    local job, which records its owner) into ``interrupted``, and a
    ``completed`` job that its sweeper pruned reads ``pruned``."""
    record = read_json(folder / STATUS_FILE, None, expect=dict)
    if record is None:
        return {"state": "unknown"}
    if record.get("state") == "completed":
        pruned = read_json(Path(folder) / PRUNED_FILE, None, expect=dict)
        if pruned is not None:
            return {**record, "state": "pruned", "reason": pruned.get("reason") or "pruned by the sweeper"}
    if record.get("state") in ("running", "pending") and owner_gone(record):
        record = {**record, "state": "interrupted", "reason": f"process {record['pid']} is gone"}
    return record
