"""Built-in plugin ``local``: run a job in this process.

The job's command runs in-process with the job's environment (notably
``RUNWAY_EXPERIMENT_VERSION``) applied, so the command finds the version
that was allocated for it instead of allocating another. Multi-device
training needs nothing more: Lightning's ``ddp`` strategy starts the other
ranks itself, and they inherit that environment.

The handle's ``state`` is ``completed`` when the command returned normally,
``failed`` (with ``info["exit_code"]``) when it exited non-zero; the error
itself was already printed by the command. ``job.wait`` changes nothing
(the command always runs to its end here); ``job.dry_run`` prints the
command instead of running it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from runway.hookspecs import hookimpl
from runway.launch.job import Job, JobHandle

LAUNCHER_NAME = "local"


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` for the duration, then restore."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def run_in_process(job: Job) -> JobHandle:
    """Run ``job.argv`` through the ``runway`` command group, here and now."""
    from runway.cli.main import cli

    if job.dry_run:
        import shlex

        settings = " ".join(f"{k}={shlex.quote(str(v))}" for k, v in sorted(job.env.items()))
        print(f"# dry run: nothing runs; the local launcher would run, in this process:\n"
              f"{settings} runway {shlex.join(job.argv)}", flush=True)
        return JobHandle(launcher=LAUNCHER_NAME, state="dry-run", info={"argv": job.argv})
    with environment(job.env):
        outcome: Any = cli.main(args=list(job.argv), prog_name="runway", standalone_mode=False)
    if isinstance(outcome, int) and not isinstance(outcome, bool) and outcome != 0:
        return JobHandle(launcher=LAUNCHER_NAME, state="failed", info={"exit_code": outcome})
    return JobHandle(launcher=LAUNCHER_NAME, state="completed", result=outcome, info={"exit_code": 0})


@hookimpl
def launch_job(job: Job, launcher: str) -> JobHandle | None:
    if launcher != LAUNCHER_NAME:
        return None
    return run_in_process(job)
