"""Silence the parts of Lightning's start-up output that mislead Runway's users.

Runway picks the launcher itself, so Lightning's hint to prepend ``srun``
(printed whenever SLURM's client is installed) is wrong advice here, and its
advertisements for hosted loggers and model registries are noise in every run.
Its information lines (devices found, epochs reached) show only with
``runway -v`` (:mod:`runway.support.verbosity`).
"""

from __future__ import annotations

import logging
import warnings

# every rank_zero_info of lightning.pytorch goes through this one logger
_RANK_ZERO_LOGGER = "lightning.pytorch.utilities.rank_zero"


class _DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("\N{ELECTRIC LIGHT BULB} Tip:")


_FILTER = _DropTips()


def quiet_lightning() -> None:
    """Idempotent; call before building a ``Trainer``."""
    from runway.support.verbosity import quiet_third_party

    quiet_third_party()
    logger = logging.getLogger(_RANK_ZERO_LOGGER)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    warnings.filterwarnings("ignore", message=r"The `srun` command is available on your system")
