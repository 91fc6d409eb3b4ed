"""The Lightning logger that forwards training metrics to a :class:`LoggerSet`.

Only training code imports this module (it imports Lightning).
"""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities import rank_zero_only

from runway.logging.loggers import LoggerSet


class RunwayLightningLogger(Logger):
    """Lightning's ``log_metrics(metrics, step)`` into Runway's enabled loggers.

    Name and version come from the ``Run``. Hyperparameters are not sent again
    (the config went to every backend when the run started). Only rank zero
    logs. ``finalize`` leaves the :class:`LoggerSet` open: whoever opened it
    finishes it with the run's real status (training may be followed by
    evaluation in the same process).
    """

    def __init__(self, loggers: LoggerSet) -> None:
        super().__init__()
        self.loggers = loggers

    @property
    def name(self) -> str:
        return self.loggers.run.experiment

    @property
    def version(self) -> int:
        return self.loggers.run.version

    @property
    def log_dir(self) -> str:
        return str(Path(self.loggers.run.log_dir))

    @property
    def experiment(self) -> LoggerSet:
        return self.loggers

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.loggers.log_metrics({key: float(value) for key, value in metrics.items()}, step)

    @rank_zero_only
    def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        """Nothing to do: the resolved config was sent when the run started."""
