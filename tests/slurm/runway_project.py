"""A project made by `runway init`, for jobs that run the runway CLI on the cluster."""

from __future__ import annotations


# sleeps in every training step, so that a test can signal the job mid-training
SLOW_EXECUTOR = """
import time

import runway
from executors.classifier import DigitsClassifier


@runway.register_executor("slow_classifier")
class SlowClassifier(DigitsClassifier):
    def training_step(self, batch, batch_idx):
        time.sleep(0.2)
        return super().training_step(batch, batch_idx)
"""


# each rank writes what Lightning made of it, where the test can read it
RANKS_EXECUTOR = """
import json
import os
import socket
from pathlib import Path

import runway
from executors.classifier import DigitsClassifier


@runway.register_executor("rank_classifier")
class RankClassifier(DigitsClassifier):
    def on_fit_start(self):
        super().on_fit_start()
        folder = Path(os.environ["RUNWAY_TEST_RANKS"])
        folder.mkdir(parents=True, exist_ok=True)
        trainer = self.trainer
        seen = {"global_rank": trainer.global_rank, "world_size": trainer.world_size, "node_rank": trainer.node_rank,
                "local_rank": trainer.local_rank, "hostname": socket.gethostname(),
                "backend": str(trainer.strategy.process_group_backend)}
        (folder / f"{trainer.global_rank}.json").write_text(json.dumps(seen))
"""


def small_opts(partition: str) -> list[str]:
    """The example, cut down (200 samples, 1 epoch, a narrow network), on ``partition``."""
    return [
        "data_pipeline.transforms.input:digits.setup_kwargs.limit=200",
        "train.epochs=1",
        "executor.model.init_args.hidden=[16]",
        f"+launcher.slurm.partition={partition}",
        "+launcher.slurm.time=10",
    ]

