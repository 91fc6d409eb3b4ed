"""Child processes forked from a server process that imported the expensive modules once.

Python's ``multiprocessing`` *forkserver* start method (POSIX only) starts
one server process for the process that asks for it, when that process
first starts a child; the server imports the modules it was told to
preload, and every child is then forked from it, so it starts with those
modules imported instead of paying for the imports itself. Local data
shards (:mod:`runway.pipeline.shards`: a transform's ``shard_imports``) and
the points of a local sweep (:mod:`runway.launch.local`: torch, Lightning
and runway's own training modules) start their processes this way, through
:func:`forkserver_context`, :func:`start` and, in the child,
:func:`enter_child`.

There is one server per process, and the preload only counts when it starts:
:func:`forkserver_context` adds the modules a caller asks for to those asked
for before, so they are all preloaded while the server has not started; once
it has (a process that ran sharded nodes, then runs a sweep), the children
of a later caller are just as correct, only less warm: they import what the
server lacks themselves. The server and its children stay in the process
group (and session) of the process that started them, so a signal to the
group (Ctrl-C on a terminal, ``kill -9`` of the group) reaches them all; the
server itself ignores SIGINT and ends when its starter does.

A child forked from the server starts with the server's state, not its
starter's: :func:`enter_child` gives it the folder, the environment and the
output its starter chose, and :func:`start` keeps the starter's main script
from being run again in the child (multiprocessing's way to recreate
``__main__`` there).
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Mapping, Sequence
from typing import Any

# what the environment was when this module was imported: in the server, the
# first module it preloads, that is before the other preloads (see enter_child)
_ENVIRON_AT_IMPORT = dict(os.environ)
# every module asked for in this process, in order (the server preloads them all)
_PRELOAD: list[str] = []


def forkserver_context(preload: Sequence[str]) -> Any | None:
    """The ``forkserver`` context whose server preloads ``preload`` (and what was asked for
    before; see the module docstring), or None where there is no forkserver (not POSIX)."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    for name in (__name__, *preload):
        if name not in _PRELOAD:
            _PRELOAD.append(name)
    context = multiprocessing.get_context("forkserver")
    # only what is set when the server starts counts: it stays until this process ends
    context.set_forkserver_preload(list(_PRELOAD))
    return context


def start(process: Any) -> Any:
    """Start a ``multiprocessing`` process whose child does not run this process's main script.

    Multiprocessing recreates ``__main__`` in a forkserver (or spawn) child
    by running the starter's main script (a user's script that runs a sweep,
    say) unless it is a package's ``__main__``; a child here runs a target
    of runway's, so ``__main__`` is hidden while the child's preparation
    data is taken (this process's ``__main__`` is back before ``start``
    returns). Returns ``process``.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")  # no __spec__, no __file__: nothing to recreate
    try:
        process.start()
    finally:
        if main is not None:
            sys.modules["__main__"] = main
    return process


def enter_child(log_path: str, environment: Mapping[str, str], cwd: str, *, append: bool) -> None:
    """In a child just forked: stdin from /dev/null, stdout and stderr into ``log_path``
    (appended to, or truncated first), the environment ``environment`` and the folder ``cwd``.

    The environment is ``environment`` plus what the server's preloaded
    modules set in theirs when imported (Lightning sets
    ``PYTORCH_NVML_BASED_CUDA_CHECK``): a fresh process importing them would
    have set it too, and here they are imported already.
    """
    for stream in (sys.stdout, sys.stderr):
        _flush(stream)
    null = os.open(os.devnull, os.O_RDONLY)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC), 0o644)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    for fd in (null, log):
        if fd > 2:
            os.close(fd)
    # multiprocessing gave the child a sys.stdin on a /dev/null of its own; the one on fd 0 is what a process has
    original = sys.__stdin__
    sys.stdin = open(  # noqa: SIM115
        0, encoding=getattr(original, "encoding", None), errors=getattr(original, "errors", None), closefd=False
    )
    if hasattr(sys.stdout, "reconfigure"):
        # a fresh process buffers stdout by lines only on a terminal; the server's may have been one
        sys.stdout.reconfigure(line_buffering=sys.stdout.isatty())
    set_by_preload = {k: v for k, v in os.environ.items() if _ENVIRON_AT_IMPORT.get(k) != v}
    os.environ.clear()
    os.environ.update(environment)
    os.environ.update(set_by_preload)
    os.chdir(cwd)


def _flush(stream: Any) -> None:
    try:
        if stream is not None:
            stream.flush()
    except (OSError, ValueError):
        pass


def flush_std_streams() -> None:
    """Flush stdout and stderr, as a process does when it ends (a child ends with ``os._exit``)."""
    for stream in (sys.stdout, sys.stderr):
        _flush(stream)
