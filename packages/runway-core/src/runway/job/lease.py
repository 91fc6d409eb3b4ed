"""One owner per running version.

The process that executes a version's job holds its lease: an exclusive
lock on ``<version>/.lease.lock`` (``flock``; released by the kernel when
the process dies, so a killed job never leaves a stale lease) and
``lease.json`` saying who holds it (host, pid, since). A second process
that would train or resume into the version is refused while the lease
is held. On a shared filesystem this holds as far as its locks do (NFSv4
and Lustre honour them across hosts; check yours). DDP ranks other than
zero and the tasks of one SLURM job belong to the holder and take no
lease; a requeued job is a new process and takes the freed lease.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runway.errors import ExperimentError
from runway.support.clock import now_iso
from runway.support.files import read_json, write_json
from runway.support.processes import this_host

LOCK_FILE = ".lease.lock"
HOLDER_FILE = "lease.json"


class LeaseHeld(ExperimentError):
    """Another process runs this version."""


def _holder(folder: Path) -> str:
    try:
        record = read_json(folder / HOLDER_FILE, {}, expect=dict)
    except ExperimentError:  # a damaged holder file names nobody
        record = {}
    if not record:
        return "another process"
    return f"process {record.get('pid')} on {record.get('host')} (since {record.get('since')})"


def _lock(folder: Path):
    from filelock import FileLock

    # not thread-local and not reentrant in spirit: a version has one owner
    return FileLock(str(folder / LOCK_FILE), timeout=0, thread_local=False)


@contextmanager
def holding(folder: Path | str, label: str) -> Iterator[None]:
    """Hold the lease of version folder ``folder`` for the duration, or raise :class:`LeaseHeld`."""
    from filelock import Timeout

    folder = Path(folder)
    lock = _lock(folder)
    try:
        lock.acquire()
    except Timeout:
        raise LeaseHeld(
            f"{label} is running: {_holder(folder)} holds it. Wait for it to end (`runway status`) "
            "or cancel it; two processes never train into one version."
        ) from None
    try:
        write_json(folder / HOLDER_FILE, {"host": this_host(), "pid": os.getpid(), "since": now_iso()})
        yield
    finally:
        lock.release()


def check_free(folder: Path | str, label: str) -> None:
    """Raise :class:`LeaseHeld` when a process holds ``folder``'s lease now."""
    with holding(folder, label):
        pass
