"""The callable that a SLURM job runs: one runway command, in-process.

This module imports submitit at the top (the class derives from
``Checkpointable``); import it only where a job is built or run.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
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


def _install_warning_handler() -> tuple[threading.Event, Callable[[int, Any], None] | None, int | None]:
    """Take over SLURM's warning signal (USR2) from submitit's handler.

    While training runs (a ``PreemptionCheckpoint`` callback guards it), the
    warning only asks training to save a checkpoint and stop at the next
    batch end (:func:`runway.launch.preemption.request_stop`); the command
    then leaves with ``Preempted`` and :meth:`RunwayCommand.__call__` hands
    over to submitit's handler, which calls :meth:`RunwayCommand.checkpoint`,
    requeues the job and exits. Outside training, submitit's handler acts at
    once. Returns the event set on a warning, submitit's handler and the
    signal number (``None`` outside a submitit job).
    """
    from runway.launch import preemption

    warned = threading.Event()
    try:
        from submitit.core.job_environment import JobEnvironment

        signum = JobEnvironment._usr_sig()
    except Exception:  # not inside a submitit job: nothing to take over
        return warned, None, None
    submitit_handler = signal.getsignal(signum)
    if not callable(submitit_handler):
        return warned, None, None

    def on_warning(number: int, frame: Any) -> None:
        warned.set()
        if preemption.training_is_guarded():
            preemption.request_stop(f"SLURM sent {signal.Signals(number).name}")
            return
        submitit_handler(number, frame)

    signal.signal(signum, on_warning)
    return warned, submitit_handler, signum


class RunwayCommand(Checkpointable):
    """Run ``entry(argv)`` (by default the runway CLI) on a SLURM node.

    Every task of the job (one per rank) runs it with ``env`` applied and
    the project root as working folder. A non-zero ``SystemExit`` becomes
    :class:`SlurmJobFailed`, so that SLURM records the job as failed.

    Preemption contract: when SLURM warns the job (USR2 before the time
    limit, or a preemption), a training command saves ``last.ckpt`` of its
    current state and stops (``runway.launch.preemption``); then submitit
    calls :meth:`checkpoint` and requeues the job. The requeued run, and a
    job that SLURM requeues by itself (``scontrol requeue``, a node failure),
    adds ``--resume`` when it restarts, and continues from that checkpoint.
    With ``version_dir`` set, ``--resume`` is added only once the version has
    a checkpoint to resume from (a requeue before the first one starts over).
    Lightning's own SLURM auto-requeue is off in these jobs, so the job is
    requeued once, by submitit.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        entry: str = RUNWAY_MAIN,
        resume_flag: str | None = RESUME_FLAG,
        version_dir: str | os.PathLike[str] | None = None,
        requeued: bool = False,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env or {})
        self.workdir = str(workdir) if workdir is not None else None
        self.entry = entry
        self.resume_flag = resume_flag
        self.version_dir = str(version_dir) if version_dir is not None else None
        self.requeued = requeued

    def __repr__(self) -> str:
        return f"RunwayCommand({self.argv!r}, entry={self.entry!r})"

    def resumed_argv(self) -> list[str]:
        """``argv`` with the resume flag, added once."""
        if self.resume_flag is None or self.resume_flag in self.argv:
            return list(self.argv)
        return [*self.argv, self.resume_flag]

    def can_resume(self) -> bool:
        """Whether there is something to resume from (always, when the
        command's version folder is not known)."""
        if self.version_dir is None:
            return True
        from runway.launch.preemption import resume_checkpoint

        return resume_checkpoint(self.version_dir) is not None

    def argv_for_this_run(self) -> list[str]:
        restarts = os.environ.get(RESTART_COUNT_VARIABLE, "0")
        restarted = self.requeued or (restarts.isdigit() and int(restarts) > 0)
        if restarted and self.can_resume():
            return self.resumed_argv()
        return list(self.argv)

    def __call__(self) -> int:
        from runway.launch import preemption

        os.environ.update(self.env)
        if self.workdir is not None and Path(self.workdir).is_dir():
            os.chdir(self.workdir)
        argv = self.argv_for_this_run()
        main = resolve_entry(self.entry)
        warned, submitit_handler, signum = _install_warning_handler()
        if submitit_handler is not None:
            preemption.set_requeue_owner("slurm")
            # a warning that came after training's last batch: requeue now
            preemption.set_unguarded_stop_handler(lambda reason: submitit_handler(signum, None))
        try:
            main(argv)
        except preemption.Preempted as stopped:
            print(f"runway: {stopped}; requeueing", file=sys.stderr, flush=True)
            if submitit_handler is not None:
                # rank zero: checkpoint() and `scontrol requeue`, then exit
                submitit_handler(signum, None)
            # other ranks end here; the requeue stops the job as a whole
            raise SystemExit(-1) from None
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
            self.argv,
            env=self.env,
            workdir=self.workdir,
            entry=self.entry,
            resume_flag=self.resume_flag,
            version_dir=self.version_dir,
            requeued=True,
        )
        return DelayedSubmission(resumed, *args, **kwargs)
