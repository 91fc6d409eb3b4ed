"""Built-in plugin ``local``: execute a job on this machine.

``launch_job`` executes the version folder in this process
(:func:`runway.job.execute.execute`), its output also appended to the
version's ``logs/output.log`` (what ``runway logs NAME:V`` prints for a
local run); multi-device training needs nothing
more, as Lightning's ``ddp`` strategy starts the other ranks itself and
they execute the same folder. The handle's ``state`` is ``completed`` with
the job's result; a failure raises (the command reports it). ``job.wait``
changes nothing here (the job always runs to its end); ``job.dry_run``
prints what would run.

``launch_array`` (a sweep, or the trials of a search) executes the jobs as
child processes, each doing what ``python -m runway execute DIR`` does, its
output in its version's ``logs/output.log``, ``parallel`` at a time (the
``launcher.local.parallel`` resource of the first job, default 1), and
returns when all have ended, or, with ``fail_fast``, after the first
failure (the handles of the jobs it did not start read ``not-started``;
their folders are as submitted). Ctrl-C or
SIGTERM stops the running children (SIGINT: they record themselves
interrupted).

How children start: on POSIX they are forked from a server process
(``multiprocessing``'s forkserver, :mod:`runway.support.forkserver`) that
imported torch, Lightning and runway's training modules once
(:data:`CHILD_PRELOAD`; never the project's code, which each job imports
from its version's project), so a point does not spend seconds on imports
before it trains. The child is made to look like ``python -m runway``: it
runs in the job's project folder with stdin from /dev/null, stdout and
stderr appended to the log, the environment this process had when the
array started, ``__main__`` the module ``runway.__main__`` and ``sys.argv``
its path and the job's arguments (Lightning starts DDP ranks above zero as
``python -m runway.__main__ execute DIR`` from these), the CLI called in
process; it ends as a process would (its threads joined, its ``atexit``
handlers run, its output flushed) with the exit code the command would
have had. What Python itself reads from the environment when it starts
(``PYTHONHASHSEED``, ``PYTHONPATH``...) is the server's, taken from this
process when the server started; ``sys.path`` is this process's, with the
project folder first. The server starts with this process's first forkserver
child and stays until this process ends, in its process group (Ctrl-C on
a terminal and ``kill -9`` of the group reach the server and the children
too); it preloads these modules only if that first child is a job's: a
process that started it for something else before (local data shards)
still gets correct children, only slower ones.

``RUNWAY_FORKSERVER=0`` in the environment starts each child as a fresh
``python -m runway`` subprocess instead (as where there is no forkserver).
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runway.hookspecs import hookimpl
from runway.launch.job import Job, JobHandle

LAUNCHER_NAME = "local"
#: the state of an array job that ``fail_fast`` kept from starting
NOT_STARTED = "not-started"
#: a local job's output (stdout and stderr, as a terminal shows them), in its version folder
JOB_LOG = "logs/output.log"
POLL_S = 0.2
# how long stopped children get to record that they were interrupted
STOP_GRACE_S = 30.0
#: ``RUNWAY_FORKSERVER=0``: start each child as a fresh ``python -m runway`` subprocess
FORKSERVER_ENV = "RUNWAY_FORKSERVER"
#: what the forkserver imports for the children: expensive, and the same for every job (no project code)
CHILD_PRELOAD = (
    __name__,
    "runway.__main__",  # and the CLI's group with it (runway.cli.main)
    "runway.job.execute",
    "runway.experiment.training",
    "lightning.pytorch",
    "torch",
)


def _print(line: str) -> None:
    print(line, flush=True)


class _ArrayProgress:
    """The points of an array: a bar on a terminal, the lines above it; elsewhere the lines and,
    while points run, a line every so often that says how far the array is (:mod:`runway.support.progress`)."""

    def __init__(self, total: int) -> None:
        from runway.support.progress import progress

        self.bar = progress("sweep", total, unit="points")

    def line(self, text: str) -> None:
        self.bar.log(text)

    def done(self, state: str) -> None:
        self.bar.advance(note=f"last: {state}")

    def tick(self, running: int) -> None:
        self.bar.update(note=f"{running} running")

    def close(self) -> None:
        self.bar.close()


def run_in_process(job: Job) -> JobHandle:
    """Execute ``job``'s version folder here and now."""
    if job.dry_run:
        _print(f"# dry run: nothing runs; the local launcher would execute, in this process:\n"
               f"runway {' '.join(job.argv)}")
        return JobHandle(launcher=LAUNCHER_NAME, state="dry-run", info={"argv": job.argv})
    from runway.job.execute import execute
    from runway.support.tee import tee_output

    with tee_output(log_header(job)):
        result = execute(job.version_dir)
    return JobHandle(launcher=LAUNCHER_NAME, state="completed", result=result, info={"exit_code": 0})


def log_header(job: Job) -> Path:
    """The job's log file, with a line that says which run its next lines come from."""
    return start_log(Path(job.version_dir), f"{job.command} {job.experiment}_V{job.version} ({LAUNCHER_NAME})")


def start_log(version_dir: Path, title: str) -> Path:
    """``version_dir``'s log file, with a ``===== runway TITLE, TIME`` line appended."""
    from runway.support.clock import now_iso

    path = Path(version_dir) / JOB_LOG
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"===== runway {title}, {now_iso()}\n")
    return path


def version_log(version_dir: Path, title: str) -> Any:
    """A context in which this process's output is also appended to ``version_dir``'s log
    (``infer`` and ``eval``, which run here on a version that exists)."""
    from runway.support.tee import tee_output

    return tee_output(start_log(version_dir, title))


@hookimpl
def launch_job(job: Job, launcher: str) -> JobHandle | None:
    if launcher != LAUNCHER_NAME:
        return None
    return run_in_process(job)


# --------------------------------------------------------------------------- arrays


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the array like Ctrl-C: the running children are stopped and recorded."""

    def raise_interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, raise_interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Subprocess:
    """A job's child as a fresh ``python -m runway`` process."""

    def __init__(self, argv: list[str], cwd: str, log_path: Path, environment: dict[str, str]) -> None:
        self._log = open(log_path, "ab")  # noqa: SIM115 (closed by close())
        self._process = subprocess.Popen(
            [sys.executable, "-m", "runway", *argv],
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
        )
        self.pid = self._process.pid

    def poll(self) -> int | None:
        return self._process.poll()

    def send_signal(self, signum: int) -> None:
        self._process.send_signal(signum)  # nothing once it has ended

    def wait(self, timeout: float | None = None) -> int:
        return self._process.wait(timeout)

    def kill(self) -> None:
        if self._process.poll() is None:
            self._process.kill()

    def close(self) -> None:
        self._log.close()


class _Forked:
    """A job's child forked from the forkserver (see the module docstring)."""

    def __init__(self, context: Any, argv: list[str], cwd: str, log_path: Path, environment: dict[str, str], name: str) -> None:
        from runway.support.forkserver import start

        self._process = start(context.Process(target=_child, args=(str(log_path), environment, cwd, argv), name=name))
        self.pid = self._process.pid

    def poll(self) -> int | None:
        return self._process.exitcode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass  # it has just ended

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        code = self._process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(f"runway child {self.pid}", timeout or 0)
        return code

    def kill(self) -> None:
        if self.poll() is None:
            self._process.kill()

    def close(self) -> None:
        if self.poll() is not None:
            self._process.close()


#: a running job: ``pid``; ``poll()`` (its exit code, negative when a signal killed it, None while it
#: runs), ``send_signal(sig)``, ``wait(timeout)`` (raises ``subprocess.TimeoutExpired``), ``kill()``, ``close()``
_Child = _Subprocess | _Forked


def _forkserver() -> Any | None:
    """The context that forks the children, or None: each starts as a subprocess (see the module docstring)."""
    if os.environ.get(FORKSERVER_ENV, "").strip().lower() in ("0", "false", "no", "off"):
        return None
    from runway.support.forkserver import forkserver_context

    return forkserver_context(CHILD_PRELOAD)


def start_child(argv: list[str], *, cwd: Path | str, log_path: Path, environment: dict[str, str], context: Any) -> _Child:
    """Start ``runway ARGV`` as a child in ``cwd`` with ``environment``, its output appended to
    ``log_path``: forked from ``context``'s server (:func:`_forkserver`), or a subprocess if it is None."""
    if context is None:
        return _Subprocess(list(argv), str(cwd), log_path, environment)
    return _Forked(context, list(argv), str(cwd), log_path, environment, name=f"runway {' '.join(argv)}")


def _spawn(job: Job, environment: dict[str, str], context: Any) -> _Child:
    return start_child(job.argv, cwd=job.project_root, log_path=log_header(job), environment=environment, context=context)


def _stop(running: dict[int, tuple[_Child, float]]) -> None:
    for child, _ in running.values():
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_S
    for child, _ in running.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        child.close()


# ------------------------------------------------------------------ in a forked child


def _child(log_path: str, environment: dict[str, str], cwd: str, argv: list[str]) -> None:
    """A forked child: what ``python -m runway ARGV`` does in ``cwd``, then the end of the process."""
    from runway.support.forkserver import enter_child

    enter_child(log_path, environment, cwd, append=True)
    _as_python_m_runway(argv)
    os._exit(_run_cli(argv))


def _as_python_m_runway(argv: list[str]) -> None:
    """Make this process look like ``python -m runway ARGV`` started in the current folder."""
    import multiprocessing.process

    import runway.__main__ as entry

    # Lightning starts DDP ranks with `python -m {__main__.__spec__.name} {sys.argv[1:]}`; a main
    # without a spec would make it `python .../runway/__main__.py`, whose folder on sys.path shadows
    # the standard library's `logging` with runway's
    sys.modules["__main__"] = entry
    sys.argv = [str(entry.__file__), *argv]
    if not sys.flags.safe_path:  # `python -m` puts the current folder first
        here = os.getcwd()
        sys.path[:] = [here, *(p for p in sys.path if p not in ("", here))]
    # a process of its own to the job: logging's %(processName)s, multiprocessing.parent_process()
    multiprocessing.current_process().name = "MainProcess"
    multiprocessing.process._parent_process = None


def _run_cli(argv: list[str]) -> int:
    """Run the CLI here (what ``python -m runway`` runs); the exit code it would have exited with."""
    import runway.__main__ as entry
    from runway.support.forkserver import flush_std_streams

    code, interrupted = 0, False
    try:
        entry.main(argv)  # click's standalone mode: always raises SystemExit
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except KeyboardInterrupt:  # outside the command (click turns one inside into "Aborted!", exit 1)
        traceback.print_exc()
        interrupted = True
    except BaseException:
        traceback.print_exc()
        code = 1
    # the end of a Python process: its other (non-daemon) threads joined, then the atexit
    # handlers (loggers finish their runs there), then the output flushed; os._exit does none of it
    try:
        threading._shutdown()  # type: ignore[attr-defined]
    except KeyboardInterrupt:  # Python, too, reports it and goes on ending
        traceback.print_exc()
    atexit._run_exitfuncs()
    flush_std_streams()
    if interrupted:  # as Python ends on an uncaught KeyboardInterrupt: killed by SIGINT
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        return 128 + signal.SIGINT
    return code


def _exit_code(code: Any) -> int:
    """The exit status of ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _state(job: Job, code: int) -> tuple[str, str | None]:
    from runway.experiment.status import read_status

    status = read_status(Path(job.version_dir))
    state = status.get("state")
    if code == 0 and state in ("completed", "pruned"):  # a search may stop a trial early: not a failure
        return state, None
    if state == "interrupted" or (code in (-signal.SIGINT, 130) and state != "failed"):
        return "interrupted", status.get("reason") or "interrupted"
    return "failed", status.get("error") or f"exit code {code}; see {Path(job.version_dir) / JOB_LOG}"


@contextmanager
def _closing(shown: _ArrayProgress) -> Iterator[None]:
    try:
        yield
    finally:
        shown.close()


def run_array(jobs: list[Job], *, parallel: int = 1, fail_fast: bool = False) -> list[JobHandle]:
    """Execute ``jobs`` as child processes, ``parallel`` at a time; one handle each, in order."""
    from runway.experiment.status import write_status

    handles: list[JobHandle | None] = [None] * len(jobs)
    queue = deque(range(len(jobs)))
    running: dict[int, tuple[_Child, float]] = {}
    environment = dict(os.environ)  # what every child gets, whichever way it starts
    context = _forkserver() if jobs else None
    total = len(jobs)
    stopped = False
    shown = _ArrayProgress(total)
    with _terminate_as_interrupt(), _closing(shown):
        try:
            while (queue and not stopped) or running:
                while queue and len(running) < max(1, parallel) and not stopped:
                    index = queue.popleft()
                    child = _spawn(jobs[index], environment, context)
                    running[index] = (child, time.monotonic())
                    shown.line(f"[{index + 1}/{total}] {jobs[index].experiment}_V{jobs[index].version}: running (pid {child.pid})")
                ended = {i: code for i, (child, _) in running.items() if (code := child.poll()) is not None}
                for index, code in ended.items():
                    child, started = running.pop(index)
                    child.close()
                    state, error = _state(jobs[index], code)
                    handles[index] = JobHandle(
                        launcher=LAUNCHER_NAME, state=state,
                        info={"exit_code": code, "error": error, "record": {"launcher": LAUNCHER_NAME, "pid": child.pid}},
                    )
                    shown.done(state)
                    detail = f": {error}" if error else ""
                    shown.line(f"[{index + 1}/{total}] {jobs[index].experiment}_V{jobs[index].version}: {state} in {time.monotonic() - started:.1f} s{detail}")
                    if state == "failed":
                        shown.line(f"    log: {Path(jobs[index].version_dir) / JOB_LOG}")
                    if fail_fast and state == "failed" and not stopped:
                        stopped = True
                        shown.line(f"--fail-fast: stopping after the first failure; {len(queue)} job(s) not started")
                        _stop(running)
                if not ended:
                    shown.tick(len(running))
                    time.sleep(POLL_S)
        except KeyboardInterrupt:
            shown.line(f"interrupted; stopping {len(running)} running job(s)")
            _stop(running)
            for index in running:
                write_status(Path(jobs[index].version_dir), "interrupted", reason="the array was interrupted")
            raise
    for index in queue:
        handles[index] = JobHandle(launcher=LAUNCHER_NAME, state=NOT_STARTED, info={"error": "not started (--fail-fast)"})
    return [h for h in handles if h is not None]


@hookimpl
def launch_array(jobs: list, launcher: str, folder: str) -> list | None:
    if launcher != LAUNCHER_NAME:
        return None
    if any(job.dry_run for job in jobs):
        for job in jobs:
            run_in_process(job)
        return [JobHandle(launcher=LAUNCHER_NAME, state="dry-run") for _ in jobs]
    first = jobs[0].resources if jobs else {}
    return run_array(list(jobs), parallel=int(first.get("parallel", 1)), fail_fast=bool(first.get("fail_fast", False)))
