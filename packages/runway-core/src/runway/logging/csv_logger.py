"""The built-in ``csv`` logger: the local copy of every metric of a run.

Rows ``step,metric,value,time`` are appended to ``<run.log_dir>/metrics.csv``
and flushed on every call, so a process that is killed leaves every completed
row behind. This copy is what ``runway sync`` replays into a backend that was
down. When the run finishes, ``finished.json`` next to it records the status.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, IO, Any

from runway.hookspecs import hookimpl
from runway.support.files import read_json, write_json

if TYPE_CHECKING:
    from runway.logging.run import Run

METRICS_FILE = "metrics.csv"
STATUS_FILE = "finished.json"
HEADER = ("step", "metric", "value", "time")


@dataclass
class _OpenLog:
    handle: IO[str]
    writer: Any


# (version_dir, job_type) -> open file: one handle per run and process.
_open_logs: dict[tuple[str, str], _OpenLog] = {}


def _open(run: Run) -> _OpenLog:
    key = (str(run.version_dir), run.job_type)
    log = _open_logs.get(key)
    if log is None:
        path = run.log_dir / METRICS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a", newline="", encoding="utf-8")
        writer = csv.writer(handle)
        if handle.tell() == 0:
            writer.writerow(HEADER)
            handle.flush()
        log = _open_logs[key] = _OpenLog(handle, writer)
    return log


@hookimpl
def logger_start_run(run: Run) -> None:
    _open(run)


@hookimpl
def log_metrics(run: Run, metrics: dict[str, float], step: int | None) -> None:
    log = _open_logs.get((str(run.version_dir), run.job_type)) or _open(run)
    now = round(time.time(), 3)
    shown_step = "" if step is None else int(step)
    log.writer.writerows([(shown_step, name, float(value), now) for name, value in metrics.items()])
    log.handle.flush()  # to the OS: a killed process keeps every completed row


@hookimpl
def logger_finish_run(run: Run, status: str) -> None:
    log = _open_logs.pop((str(run.version_dir), run.job_type), None)
    if log is not None:
        log.handle.close()
    write_json(run.log_dir / STATUS_FILE, {"status": status, "time": time.time()})


@dataclass(frozen=True)
class MetricRow:
    step: int | None
    metric: str
    value: float
    time: float


def read_metrics(path: Path | str) -> Iterator[MetricRow]:
    """The rows of a ``metrics.csv``; a torn last line (killed mid-write) is skipped."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        for row in reader:
            if len(row) != 4 or row[0] == "step":
                continue
            try:
                step = int(row[0]) if row[0] != "" else None
                yield MetricRow(step, row[1], float(row[2]), float(row[3]))
            except ValueError:
                continue


def read_status(log_dir: Path | str) -> str | None:
    """The status a finished run recorded, or ``None`` when it never finished."""
    return read_json(Path(log_dir) / STATUS_FILE, {}, expect=dict).get("status")
