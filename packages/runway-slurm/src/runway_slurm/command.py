"""The callable that a SLURM job runs: one version folder's job, in-process.

This module imports submitit at the top (the class derives from
``Checkpointable``); import it only where a job is built or run.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from submitit.helpers import Checkpointable, DelayedSubmission

from runway_slurm.errors import SlurmJobFailed

#: what each task calls with the version folder: the job executor every launcher uses
RUNWAY_EXECUTE = "runway.job.execute:execute"
# SLURM counts the restarts of a requeued job in this variable.
RESTART_COUNT_VARIABLE = "SLURM_RESTART_COUNT"


def resolve_entry(entry: str) -> Callable[..., Any]:
    """``"package.module:function"`` -> the function."""
    from runway.support.imports import import_object

    if ":" not in entry:
        raise ValueError(f"entry {entry!r} is not 'module:function'")
    return import_object(entry, "slurm job entry")


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
    """Execute the job of ``version_dir`` on a SLURM node.

    Every task of the job (one per rank) calls ``entry(version_dir, *args,
    requeued=...)`` (by default :func:`runway.job.execute.execute`; ``args``
    is empty but for a shard of a pipeline node, its index) with ``env``
    applied and the project root as working folder. A failed job
    raises :class:`SlurmJobFailed`, so that SLURM records it as failed.

    Preemption contract: when SLURM warns the job (USR2 before the time
    limit, or a preemption), training saves ``last.ckpt`` of its current
    state and stops (``runway.launch.preemption``); then submitit calls
    :meth:`checkpoint` and requeues the job. The requeued run, and a job
    that SLURM requeues by itself (``scontrol requeue``, a node failure),
    runs with ``requeued=True``: it continues from the version's
    ``last.ckpt`` when there is one (a requeue before the first checkpoint
    starts over). Lightning's own SLURM auto-requeue is off in these jobs,
    so the job is requeued once, by submitit.
    """

    def __init__(
        self,
        version_dir: str | os.PathLike[str],
        *,
        env: dict[str, str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        entry: str = RUNWAY_EXECUTE,
        requeued: bool = False,
        args: tuple[Any, ...] = (),
    ) -> None:
        self.version_dir = str(version_dir)
        self.args = tuple(args)
        self.env = dict(env or {})
        self.workdir = str(workdir) if workdir is not None else None
        self.entry = entry
        self.requeued = requeued

    def __repr__(self) -> str:
        args = f", args={self.args!r}" if self.args else ""
        return f"RunwayCommand({self.version_dir!r}, entry={self.entry!r}{args})"

    def restarted(self) -> bool:
        """Whether this run continues a requeued job (submitit's requeue, or SLURM's own)."""
        restarts = os.environ.get(RESTART_COUNT_VARIABLE, "0")
        return self.requeued or (restarts.isdigit() and int(restarts) > 0)

    def __call__(self) -> int:
        from runway.errors import RunFailed, RunwayError
        from runway.launch import preemption

        from runway_slurm.nodes import record_node, set_master_address

        os.environ.update(self.env)
        # the ranks of a multi-node job meet at the first node's SLURM address
        set_master_address()
        record_node()
        if self.workdir is not None and Path(self.workdir).is_dir():
            os.chdir(self.workdir)
        run = resolve_entry(self.entry)
        warned, submitit_handler, signum = _install_warning_handler()
        if submitit_handler is not None:
            preemption.set_requeue_owner("slurm")
            # a warning that came after training's last batch: requeue now
            preemption.set_unguarded_stop_handler(lambda reason: submitit_handler(signum, None))
        what = f"the job of {self.version_dir}"
        try:
            run(self.version_dir, *getattr(self, "args", ()), requeued=self.restarted())
        except preemption.Preempted as stopped:
            print(f"runway: {stopped}; requeueing", file=sys.stderr, flush=True)
            if submitit_handler is not None:
                # rank zero: checkpoint() and `scontrol requeue`, then exit
                submitit_handler(signum, None)
            # other ranks end here; the requeue stops the job as a whole
            raise SystemExit(-1) from None
        except (RunFailed, RunwayError) as exc:
            from runway.job.execute import report_failure

            if isinstance(exc, RunFailed):
                report_failure(exc)
            else:
                print(f"Error: {exc}", file=sys.stderr, flush=True)
            raise SlurmJobFailed(f"{what} failed: {exc}") from exc
        except SystemExit as exc:
            # submitit leaves through SystemExit once it has requeued the job;
            # that exit must stay an exit, not become a failed result.
            if warned.is_set():
                raise
            code = exc.code
            if code not in (None, 0):
                raise SlurmJobFailed(f"{what} exited with status {code}") from exc
        return 0

    def checkpoint(self, *args: Any, **kwargs: Any) -> DelayedSubmission:
        """What submitit requeues on preemption or time-out: this job, marked requeued."""
        resumed = RunwayCommand(
            self.version_dir, env=self.env, workdir=self.workdir, entry=self.entry, requeued=True, args=getattr(self, "args", ())
        )
        return DelayedSubmission(resumed, *args, **kwargs)
