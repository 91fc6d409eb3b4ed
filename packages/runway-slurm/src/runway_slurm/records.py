"""``<version_dir>/jobs.jsonl``: one line per submitted job.

The format belongs to core (``runway.launch.records``), which reads the
lines back for ``runway status/cancel/logs`` and hands each to this
plugin's ``job_status``/``cancel_job``/``job_logs``/``job_log_files`` hooks.
"""

from __future__ import annotations

from runway.launch.records import JOBS_FILE
from runway.launch.records import append_job_record as append_record
from runway.launch.records import read_job_records as read_records

__all__ = ["JOBS_FILE", "append_record", "read_records"]
