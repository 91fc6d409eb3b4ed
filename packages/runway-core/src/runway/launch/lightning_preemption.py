"""The Lightning side of preemption: a checkpoint of the current state, then a stop.

Imports Lightning at the top: only training code imports this module.

One handler per signal, decided here: when a launcher has declared that it
requeues the job (:func:`runway.launch.preemption.set_requeue_owner`, the
``slurm`` plugin does), Lightning's own SLURM auto-requeue is switched off
(``SLURMEnvironment(auto_requeue=False)``), so that only the launcher's
warning handler acts and the job is requeued once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback

from runway.launch import preemption
from runway.support.files import temporary_path


class PreemptionCheckpoint(Callback):
    """Save ``checkpoint_path`` and stop when a stop is requested.

    At every training batch end (after the optimizer step) the ranks agree
    whether any of them was asked to stop (:func:`preemption.request_stop`);
    if so, all of them write the checkpoint together (rank zero to a
    temporary file, renamed into place, so a kill mid-write never leaves a
    torn ``last.ckpt``) and :class:`preemption.Preempted` leaves training.

    A single process also saves on SIGTERM (``scancel``, ``scontrol
    requeue``) before Lightning stops on it, so that a requeued or cancelled
    run can be resumed from where it was.
    """

    def __init__(self, checkpoint_path: Path | str) -> None:
        super().__init__()
        self.checkpoint_path = Path(checkpoint_path)
        self._guarded = False

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._guarded:
            preemption.enter_guard()
            self._guarded = True

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._release()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self._release()

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._release()

    def _release(self) -> None:
        if self._guarded:
            preemption.exit_guard()
            self._guarded = False

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        reason = preemption.stop_requested()
        if trainer.world_size > 1:
            # every rank must take the same decision at the same step: saving is collective
            stop = bool(trainer.strategy.reduce_boolean_decision(reason is not None, all=False))
            reason = reason or "a stop requested on another rank"
        else:
            sigterm = bool(getattr(trainer, "received_sigterm", False))
            stop = reason is not None or sigterm
            if reason is None and sigterm:
                # Lightning raises its own SIGTERMException right after this hook
                self.save(trainer)
                return
        if not stop:
            return
        saved = self.save(trainer)
        preemption.clear_stop_request()
        raise preemption.Preempted(saved, int(trainer.global_step), str(reason))

    def save(self, trainer: pl.Trainer) -> Path:
        """Write the trainer's full state to ``checkpoint_path`` atomically."""
        target = self.checkpoint_path
        target.parent.mkdir(parents=True, exist_ok=True)
        # not random: every rank passes the same path to save_checkpoint
        temporary = temporary_path(target, token="preempted")
        trainer.save_checkpoint(str(temporary))  # every rank calls it; rank zero writes
        if trainer.is_global_zero:
            os.replace(temporary, target)
        return target


def add_launch_support(kwargs: dict[str, Any], checkpoint_path: Path | str) -> dict[str, Any]:
    """Add the preemption callback to Trainer ``kwargs`` and, when a
    launcher requeues this SLURM job, turn Lightning's auto-requeue off and
    let an absent ``num_nodes`` follow the job's nodes (``launcher.slurm.nodes``)."""
    kwargs["callbacks"] = [*list(kwargs.get("callbacks") or []), PreemptionCheckpoint(checkpoint_path)]
    if preemption.requeue_owner() is not None:
        from lightning.fabric.plugins.environments import ClusterEnvironment, SLURMEnvironment

        plugins = kwargs.get("plugins")
        plugins = [] if plugins is None else (list(plugins) if isinstance(plugins, (list, tuple)) else [plugins])
        if SLURMEnvironment.detect() and not any(isinstance(p, ClusterEnvironment) for p in plugins):
            kwargs["plugins"] = [*plugins, SLURMEnvironment(auto_requeue=False)]
        job_nodes = os.environ.get("SLURM_JOB_NUM_NODES") or os.environ.get("SLURM_NNODES") or ""
        if "num_nodes" not in kwargs and job_nodes.isdigit() and int(job_nodes) > 1:
            kwargs["num_nodes"] = int(job_nodes)
    return kwargs
