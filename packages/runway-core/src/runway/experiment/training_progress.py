"""Training's progress where Lightning draws no bar: a line every so often in the log.

On a terminal Lightning's own bar shows the epochs and batches. Anywhere
else (a log file, a sweep point's ``logs/output.log``, a SLURM job's output)
it is off, and :func:`training_lines` (a callback) says the same through
:mod:`runway.support.progress`: at most every ``LOG_INTERVAL_S`` seconds, the
epochs done, the batch in the current epoch and the last validation metrics
(``train example_V1: 3/10 epochs (30%), 12.0 s, 4.0 s per epoch  epoch 4,
batch 20/42, val/accuracy=0.9100``), and the final count when it ends.
Rank zero only; nothing with ``runway -q``.
"""

from __future__ import annotations

from typing import Any


def training_lines(label: str, *, enabled: bool) -> list[Any]:
    """``[callback]`` when ``enabled`` (Lightning's bar is off) and not quiet, else ``[]``."""
    from runway.support.verbosity import is_quiet

    if not enabled or is_quiet():
        return []
    import lightning.pytorch as pl

    from runway.support.progress import progress

    class TrainingLines(pl.Callback):
        def __init__(self) -> None:
            self.bar: Any = None
            self.scores = ""

        def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
            if trainer.is_global_zero:
                total = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else None
                self.bar = progress(f"train {label}", total, unit="epochs", terminal=False)

        def _note(self, trainer: Any, batch: int | None = None) -> str:
            batches = trainer.num_training_batches
            where = f"epoch {trainer.current_epoch + 1}"
            if batch is not None:
                where += f", batch {batch + 1}" + (f"/{batches}" if isinstance(batches, int) else "")
            return f"{where}{', ' + self.scores if self.scores else ''}"

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            if self.bar is not None:
                self.bar.update(note=self._note(trainer, batch_idx))

        def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
            if self.bar is None or trainer.sanity_checking:
                return
            shown = []
            for key, value in trainer.callback_metrics.items():
                if str(key).startswith("val"):
                    try:
                        shown.append(f"{key}={float(value):.4f}")
                    except (TypeError, ValueError):
                        continue
            self.scores = " ".join(shown[:4])

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            if self.bar is not None:
                self.bar.update(completed=trainer.current_epoch + 1, note=self._note(trainer))

        def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
            self._close()

        def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
            self._close()

        def _close(self) -> None:
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    return [TrainingLines()]
