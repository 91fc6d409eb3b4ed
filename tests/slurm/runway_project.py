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


def small_opts(partition: str) -> list[str]:
    """The example, cut down (200 samples, 1 epoch, a narrow network), on ``partition``."""
    return [
        "data_pipeline.transforms.input:digits.setup_kwargs.limit=200",
        "train.epochs=1",
        "executor.model.init_args.hidden=[16]",
        f"+launcher.slurm.partition={partition}",
        "+launcher.slurm.time=10",
    ]

