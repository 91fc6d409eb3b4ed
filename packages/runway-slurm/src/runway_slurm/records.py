"""``<version_dir>/jobs.jsonl``: one line per submitted job.

Core's ``runway status/cancel/logs`` read these lines and hand each to the
``job_status``/``cancel_job``/``job_logs`` hooks. A line is written with a
single ``write`` on a file opened for appending, so concurrent submitters
(a sweep, several ranks) never interleave within a line.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

JOBS_FILE = "jobs.jsonl"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def append_record(version_dir: Path, record: dict[str, Any]) -> Path:
    """Append ``record`` as one JSON line; returns the file."""
    path = Path(version_dir) / JOBS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return path


def read_records(version_dir: Path) -> list[dict[str, Any]]:
    """Every record of a version, oldest first (a torn last line is skipped)."""
    path = Path(version_dir) / JOBS_FILE
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
