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

``launch_array`` (a sweep) executes the jobs as child processes
(``python -m runway execute DIR``, the output of each in its version's
``logs/output.log``), ``parallel`` at a time (the
``launcher.local.parallel`` resource of the first job, default 1), and
returns when all have ended, or, with ``fail_fast``, after the first
failure (the handles of the jobs it did not start read ``not-started``;
their folders are as submitted). Ctrl-C or
SIGTERM stops the running children (SIGINT: they record themselves
interrupted).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
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


def _spawn(job: Job) -> tuple[subprocess.Popen, Any]:
    log = open(log_header(job), "ab")  # noqa: SIM115 (closed when the job ends)
    process = subprocess.Popen(
        [sys.executable, "-m", "runway", *job.argv],
        cwd=str(job.project_root),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    return process, log


def _stop(running: dict[int, tuple[subprocess.Popen, Any, float]]) -> None:
    for process, _, _ in running.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_S
    for process, log, _ in running.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


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
    running: dict[int, tuple[subprocess.Popen, Any, float]] = {}
    total = len(jobs)
    stopped = False
    shown = _ArrayProgress(total)
    with _terminate_as_interrupt(), _closing(shown):
        try:
            while (queue and not stopped) or running:
                while queue and len(running) < max(1, parallel) and not stopped:
                    index = queue.popleft()
                    process, log = _spawn(jobs[index])
                    running[index] = (process, log, time.monotonic())
                    shown.line(f"[{index + 1}/{total}] {jobs[index].experiment}_V{jobs[index].version}: running (pid {process.pid})")
                done = [i for i, (process, _, _) in running.items() if process.poll() is not None]
                for index in done:
                    process, log, started = running.pop(index)
                    log.close()
                    state, error = _state(jobs[index], process.returncode)
                    handles[index] = JobHandle(
                        launcher=LAUNCHER_NAME, state=state,
                        info={"exit_code": process.returncode, "error": error, "record": {"launcher": LAUNCHER_NAME, "pid": process.pid}},
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
                if not done:
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
