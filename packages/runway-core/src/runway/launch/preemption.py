"""Preemption: a launcher's warning becomes a checkpoint, then a clean stop.

A cluster warns a job before it takes the node away (SLURM: ``USR2`` some
seconds before the time limit or a preemption). The launcher's signal
handler calls :func:`request_stop`; while training runs, the
``PreemptionCheckpoint`` callback (:mod:`runway.launch.lightning_preemption`)
sees the request at the next batch end, on every rank at the same step,
writes ``train/checkpoints/last.ckpt`` of the current state (to a temporary
name, then renamed) and raises :class:`Preempted`. The launcher then
requeues the job, and the requeued job continues with ``--resume`` from
that checkpoint, in the same experiment version folder and the same
logger run.

Outside training (data preparation, inference) nothing can be saved
mid-way: :func:`training_is_guarded` is false, and the launcher requeues at
once. This module is light (no Lightning); it holds per-process state only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# checkpoint name of the state to continue from, in train/checkpoints/
RESUME_CHECKPOINT = "last.ckpt"
# the runway commands that accept --resume
RESUMABLE_COMMANDS = ("train", "run")

_lock = threading.Lock()
_stop_reason: str | None = None
_guards = 0
_requeue_owner: str | None = None
_unguarded_stop_handler: Callable[[str], None] | None = None


class Preempted(BaseException):
    """Training stopped because its launcher asked it to, after saving
    ``checkpoint`` at ``global_step``.

    A ``BaseException`` (like ``KeyboardInterrupt``): it is not a failure of
    the run, and no ``except Exception`` on the way may swallow it. The
    version's status reads ``interrupted``; the launcher that asked requeues.
    """

    def __init__(self, checkpoint: Path | None, global_step: int, reason: str) -> None:
        self.checkpoint = checkpoint
        self.global_step = global_step
        self.reason = reason
        where = f"saved {checkpoint}" if checkpoint else "no checkpoint written"
        super().__init__(f"preempted at global step {global_step} ({reason}); {where}")


def request_stop(reason: str) -> None:
    """Ask the training of this process to checkpoint and stop at the next
    batch end. Safe to call from a signal handler."""
    global _stop_reason
    _stop_reason = reason  # one assignment: no lock, a signal may interrupt a holder


def stop_requested() -> str | None:
    """The reason given to :func:`request_stop`, or ``None``."""
    return _stop_reason


def clear_stop_request() -> None:
    global _stop_reason
    _stop_reason = None


@contextmanager
def guarding_training() -> Iterator[None]:
    """Mark the span in which a ``PreemptionCheckpoint`` callback watches
    for stop requests (from the start of training to its end)."""
    enter_guard()
    try:
        yield
    finally:
        exit_guard()


def enter_guard() -> None:
    global _guards
    with _lock:
        _guards += 1


def exit_guard() -> None:
    """Leave a guarded span. A stop request that training did not get to
    (it arrived after the last batch) goes to the unguarded-stop handler."""
    global _guards
    with _lock:
        _guards = max(0, _guards - 1)
        left = _guards
    reason = _stop_reason
    if left == 0 and reason is not None and _unguarded_stop_handler is not None:
        clear_stop_request()
        _unguarded_stop_handler(reason)


def set_unguarded_stop_handler(handler: Callable[[str], None] | None) -> None:
    """What to do with a stop request once no training guards it any more
    (the launcher's own requeue). ``None`` keeps the request pending."""
    global _unguarded_stop_handler
    _unguarded_stop_handler = handler


def training_is_guarded() -> bool:
    """Whether a stop request will be honoured with a checkpoint soon."""
    return _guards > 0


def set_requeue_owner(launcher: str | None) -> None:
    """Declare that ``launcher`` requeues this process's job on preemption,
    so that Lightning's own SLURM auto-requeue stays off (one handler only)."""
    global _requeue_owner
    _requeue_owner = launcher


def requeue_owner() -> str | None:
    """The launcher that requeues this job, or ``None`` (Lightning's defaults apply)."""
    return _requeue_owner


def resume_checkpoint(version_dir: Path | str) -> Path | None:
    """The checkpoint a requeued ``train``/``run`` of this version continues
    from (``train/checkpoints/last.ckpt``), or ``None`` when there is none yet."""
    from runway.experiment.store import Version

    # name and number do not matter for the layout of the folder
    path = Version("", 0, Path(version_dir)).checkpoints_dir / RESUME_CHECKPOINT
    return path if path.is_file() else None
