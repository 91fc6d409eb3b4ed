"""Built-in plugin ``local``: execute a job on this machine.

``launch_job`` executes the version folder in this process
(:func:`runway.job.execute.execute`); multi-device training needs nothing
more, as Lightning's ``ddp`` strategy starts the other ranks itself and
they execute the same folder. The handle's ``state`` is ``completed`` with
the job's result; a failure raises (the command reports it). ``job.wait``
changes nothing here (the job always runs to its end); ``job.dry_run``
prints what would run.

``launch_array`` (a sweep) executes the jobs as child processes
(``python -m runway execute DIR``), ``parallel`` at a time (the
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
#: each child job's output, in its version folder
JOB_LOG = "job.log"
POLL_S = 0.2
# how long stopped children get to record that they were interrupted
STOP_GRACE_S = 30.0


def _print(line: str) -> None:
    print(line, flush=True)


def run_in_process(job: Job) -> JobHandle:
    """Execute ``job``'s version folder here and now."""
    if job.dry_run:
        _print(f"# dry run: nothing runs; the local launcher would execute, in this process:\n"
               f"runway {' '.join(job.argv)}")
        return JobHandle(launcher=LAUNCHER_NAME, state="dry-run", info={"argv": job.argv})
    from runway.job.execute import execute

    result = execute(job.version_dir)
    return JobHandle(launcher=LAUNCHER_NAME, state="completed", result=result, info={"exit_code": 0})


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
    log = open(Path(job.version_dir) / JOB_LOG, "ab")  # noqa: SIM115 (closed when the job ends)
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


def run_array(jobs: list[Job], *, parallel: int = 1, fail_fast: bool = False) -> list[JobHandle]:
    """Execute ``jobs`` as child processes, ``parallel`` at a time; one handle each, in order."""
    from runway.experiment.status import write_status

    handles: list[JobHandle | None] = [None] * len(jobs)
    queue = deque(range(len(jobs)))
    running: dict[int, tuple[subprocess.Popen, Any, float]] = {}
    total = len(jobs)
    stopped = False
    with _terminate_as_interrupt():
        try:
            while (queue and not stopped) or running:
                while queue and len(running) < max(1, parallel) and not stopped:
                    index = queue.popleft()
                    process, log = _spawn(jobs[index])
                    running[index] = (process, log, time.monotonic())
                    _print(f"[{index + 1}/{total}] {jobs[index].experiment}_V{jobs[index].version}: running (pid {process.pid})")
                done = [i for i, (process, _, _) in running.items() if process.poll() is not None]
                for index in done:
                    process, log, started = running.pop(index)
                    log.close()
                    state, error = _state(jobs[index], process.returncode)
                    handles[index] = JobHandle(
                        launcher=LAUNCHER_NAME, state=state,
                        info={"exit_code": process.returncode, "error": error, "record": {"launcher": LAUNCHER_NAME, "pid": process.pid}},
                    )
                    detail = f": {error}" if error else ""
                    _print(f"[{index + 1}/{total}] {jobs[index].experiment}_V{jobs[index].version}: {state} in {time.monotonic() - started:.1f} s{detail}")
                    if state == "failed":
                        _print(f"    log: {Path(jobs[index].version_dir) / JOB_LOG}")
                    if fail_fast and state == "failed" and not stopped:
                        stopped = True
                        _print(f"--fail-fast: stopping after the first failure; {len(queue)} job(s) not started")
                        _stop(running)
                if not done:
                    time.sleep(POLL_S)
        except KeyboardInterrupt:
            _print(f"interrupted; stopping {len(running)} running job(s)")
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
