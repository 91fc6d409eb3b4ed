"""Processes that own records: who this process is, and whether an owner still lives."""

from __future__ import annotations

import os


def this_host() -> str:
    """This host's name, as ``socket.gethostname()`` gives it (on POSIX, the same
    system call's answer, without importing ``socket`` into every command)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one owned by another user counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether ``pid`` has exited and only waits to be reaped (a killed job whose parent died too,
    in a container whose first process reaps nothing): it is not alive."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[-1].split()
    except OSError:
        return False  # no /proc (not Linux): trust the signal check
    return bool(fields) and fields[0] in (b"Z", b"X")


def owner_gone(record: dict) -> bool:
    """Whether the ``{"pid", "host"}`` owner of a record is known to be dead.

    Only a process on this host can be checked; one on another host is
    assumed alive.
    """
    pid = record.get("pid")
    return record.get("host") == this_host() and isinstance(pid, int) and not pid_alive(pid)
