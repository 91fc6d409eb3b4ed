"""The callable that a SLURM job runs: one runway command, in-process.

This module imports submitit at the top (the class derives from
``Checkpointable``); import it only where a job is built or run.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from submitit.helpers import Checkpointable, DelayedSubmission

from runway_slurm.errors import SlurmJobFailed

RUNWAY_MAIN = "runway.cli.main:main"
RESUME_FLAG = "--resume"
# SLURM counts the restarts of a requeued job in this variable.
RESTART_COUNT_VARIABLE = "SLURM_RESTART_COUNT"


def resolve_entry(entry: str) -> Callable[[list[str]], Any]:
    """``"package.module:function"`` -> the function."""
    module_name, _, attribute = entry.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"entry {entry!r} is not 'module:function'")
    return getattr(importlib.import_module(module_name), attribute)


def _watch_preemption_signal() -> threading.Event:
    """An event set when SLURM's warning signal arrives, before submitit's
    own handler (checkpoint, requeue, exit) runs."""
    warned = threading.Event()
    try:
        from submitit.core.job_environment import JobEnvironment

        signum = JobEnvironment._usr_sig()
    except Exception:  # not inside a submitit job: nothing to watch
        return warned
    previous = signal.getsignal(signum)
    if not callable(previous):
        return warned

    def note_then_handle(number: int, frame: Any) -> None:
        warned.set()
        previous(number, frame)

    signal.signal(signum, note_then_handle)
    return warned


class RunwayCommand(Checkpointable):
    """Run ``entry(argv)`` (by default the runway CLI) on a SLURM node.

    Every task of the job (one per rank) runs it with ``env`` applied and
    the project root as working folder. A non-zero ``SystemExit`` becomes
    :class:`SlurmJobFailed`, so that SLURM records the job as failed.

    Preemption contract: when SLURM warns the job (USR2 before the time limit,
    or a preemption), submitit calls :meth:`checkpoint`, which requeues the
    same command with ``--resume`` added; a job that SLURM requeues by itself
    (``scontrol requeue``, a node failure) adds ``--resume`` when it restarts.
    The command is expected to continue from its last checkpoint then.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        entry: str = RUNWAY_MAIN,
        resume_flag: str | None = RESUME_FLAG,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env or {})
        self.workdir = str(workdir) if workdir is not None else None
        self.entry = entry
        self.resume_flag = resume_flag

    def __repr__(self) -> str:
        return f"RunwayCommand({self.argv!r}, entry={self.entry!r})"

    def resumed_argv(self) -> list[str]:
        """``argv`` with the resume flag, added once."""
        if self.resume_flag is None or self.resume_flag in self.argv:
            return list(self.argv)
        return [*self.argv, self.resume_flag]

    def argv_for_this_run(self) -> list[str]:
        restarts = os.environ.get(RESTART_COUNT_VARIABLE, "0")
        if restarts.isdigit() and int(restarts) > 0:
            return self.resumed_argv()
        return list(self.argv)

    def __call__(self) -> int:
        os.environ.update(self.env)
        if self.workdir is not None and Path(self.workdir).is_dir():
            os.chdir(self.workdir)
        argv = self.argv_for_this_run()
        main = resolve_entry(self.entry)
        warned = _watch_preemption_signal()
        try:
            main(argv)
        except SystemExit as exc:
            # submitit leaves through SystemExit once it has requeued the job;
            # that exit must stay an exit, not become a failed result.
            if warned.is_set():
                raise
            code = exc.code
            if code not in (None, 0):
                raise SlurmJobFailed(f"`runway {' '.join(argv)}` exited with status {code}") from exc
        return 0

    def checkpoint(self, *args: Any, **kwargs: Any) -> DelayedSubmission:
        """What submitit requeues on preemption or time-out: this command
        with the resume flag."""
        resumed = RunwayCommand(
            self.resumed_argv(),
            env=self.env,
            workdir=self.workdir,
            entry=self.entry,
            resume_flag=self.resume_flag,
        )
        return DelayedSubmission(resumed, *args, **kwargs)
