"""Lightning's advertisements and its srun hint are silenced; its information lines stay."""

from __future__ import annotations

import logging

from runway.experiment.lightning_noise import quiet_lightning


def test_tips_are_dropped_and_other_information_kept(caplog):
    quiet_lightning()
    quiet_lightning()  # idempotent: one filter, not two
    logger = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    assert len(logger.filters) == 1
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("\N{ELECTRIC LIGHT BULB} Tip: install something")
        logger.info("GPU available: False, used: False")
    assert [r.getMessage() for r in caplog.records] == ["GPU available: False, used: False"]
