"""``<version_dir>/jobs.jsonl``: one line per job that a launcher submitted.

Launchers that hand a job to another system (SLURM, ...) append a record
here; ``runway status|cancel|logs NAME`` read the records back and hand each
to the ``job_status``/``cancel_job``/``job_logs``/``job_log_files`` hooks.
A line is written with a single ``write`` on a file opened for appending, so
concurrent submitters never interleave within a line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runway.support.files import append_json_line, read_json_lines

JOBS_FILE = "jobs.jsonl"


def append_job_record(version_dir: Path | str, record: dict[str, Any]) -> Path:
    """Append ``record`` as one JSON line to the version's ``jobs.jsonl``."""
    path = Path(version_dir) / JOBS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    return append_json_line(path, record)


def read_job_records(version_dir: Path | str) -> list[dict[str, Any]]:
    """Every record of a version, oldest first (a torn last line is skipped)."""
    return read_json_lines(Path(version_dir) / JOBS_FILE)
