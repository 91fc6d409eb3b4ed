"""The trial's side: report the validation metric each epoch, stop when the pruner says so, tell the result.

Lightning adds :class:`TrialPruning` to every Trainer of a Runway job
(``runway.job.execute.JOB_ENV`` set; a Trainer a user builds elsewhere gets
nothing) through the ``lightning.pytorch.callbacks_factory`` entry point of
this distribution:
the spec and the config of a version are frozen when it is submitted, so
what the job needs is put there then, and read here at fit time. The
callback looks at the version the Trainer fits (Runway sets
``default_root_dir`` to ``<version>/train``); its ``provenance.json``
records ``sweep.trial`` with the trial's number and the sweep folder whose
``optuna.json`` says how to open the study. Any other fit (not a trial,
not rank zero, not ``fit``) leaves the callback idle.

Each validation epoch reports the metric to the trial; when the study's
pruner says the trial is doing worse than the others, the version is
marked pruned (:func:`runway.experiment.status.mark_pruned`, so it reads
``pruned``) and training stops after that epoch. When the fit ends the
study is told the best value over the epochs, or that the trial was pruned.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from lightning.pytorch import Callback


def callbacks() -> list[Callback]:
    """The ``lightning.pytorch.callbacks_factory`` entry point: the callback in a Runway job's process only."""
    import os

    from runway.job.execute import JOB_ENV

    return [TrialPruning()] if os.environ.get(JOB_ENV) else []


def trial_of(version_dir: Path) -> dict[str, Any] | None:
    """The optuna trial that the version at ``version_dir`` runs, from its provenance, or ``None``."""
    try:
        provenance = json.loads((Path(version_dir) / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    trial = (provenance.get("sweep") or {}).get("trial") if isinstance(provenance, dict) else None
    if not isinstance(trial, dict) or trial.get("sweeper") != "optuna" or "trial" not in trial:
        return None
    return trial


class TrialPruning(Callback):
    """Report, prune and tell for the optuna trial that this fit runs (idle otherwise)."""

    def __init__(self) -> None:
        self.trial: Any = None
        self.study: Any = None
        self.number: int | None = None
        self.values: list[float] = []
        self.pruned = False

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if stage != "fit" or trainer.global_rank != 0 or not trainer.default_root_dir:
            return
        self.version_dir = Path(trainer.default_root_dir).parent
        found = trial_of(self.version_dir)
        if found is None:
            return
        import optuna

        from runway_optuna.study import open_study, read_settings

        self.settings = read_settings(Path(found["folder"]))
        self.study = open_study(self.settings)
        self.number = int(found["trial"])
        # optuna has no public way from a trial number to its Trial object
        storage = self.study._storage
        trial_id = storage.get_trial_id_from_study_id_trial_number(self.study._study_id, self.number)
        self.trial = optuna.trial.Trial(self.study, trial_id)

    def _metric(self, trainer: Any) -> float | None:
        from runway.compare.plot import match_metric

        metrics = trainer.callback_metrics
        name = match_metric(self.settings["metric"], sorted(metrics))
        if name is None:
            return None
        value = float(metrics[name])
        return value if math.isfinite(value) else None

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if self.trial is None or trainer.sanity_checking or self.pruned:
            return
        value = self._metric(trainer)
        if value is None:
            return
        epoch = int(trainer.current_epoch)
        self.values.append(value)
        self.trial.report(value, epoch)
        if self.trial.should_prune():
            from runway.experiment.status import mark_pruned

            self.pruned = True
            reason = f"pruned by optuna at epoch {epoch}: {self.settings['metric']}={value:.4g}"
            mark_pruned(self.version_dir, reason, trial=self.number, epoch=epoch, value=value)
            trainer.should_stop = True

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        if self.trial is None:
            return
        from optuna.trial import TrialState

        if self.study.get_trials(deepcopy=False)[self.number].state != TrialState.RUNNING:
            return  # a rerun of a finished trial's version: its result stands
        if self.pruned:
            self.study.tell(self.number, state=TrialState.PRUNED)
        elif self.values:
            best = max(self.values) if self.settings["direction"] == "max" else min(self.values)
            self.study.tell(self.number, best)
