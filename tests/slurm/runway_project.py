"""A project made by `runway init`, for jobs that run the runway CLI on the cluster."""

from __future__ import annotations

import sys
from pathlib import Path

from runway.cli.init_cmd import create_project

PROJECT_PACKAGES = ("data_processing", "executors", "modeling", "metrics")

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


def forget_project_code() -> None:
    """Drop the previous project's modules and registrations (same package names)."""
    from runway.experiment.registry import forget_project_code as forget_executors
    from runway.pipeline.transform import forget_project_transforms

    for name in list(sys.modules):
        if name.split(".")[0] in PROJECT_PACKAGES:
            del sys.modules[name]
    for package in PROJECT_PACKAGES:
        forget_project_transforms(package)
        forget_executors(package)


def make_project(root: Path) -> Path:
    create_project(root)
    (root / "executors" / "slow.py").write_text(SLOW_EXECUTOR, encoding="utf-8")
    return root
