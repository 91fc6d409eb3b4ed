"""A tiny project from the `runway init` template, as the working folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from runway.launch import preemption

# the example, cut down: 200 samples, a narrow network, batches of 16
TINY_CONFIG = """
local example = import 'experiments/example.jsonnet';

example + {
  data_pipeline+: { transforms+: { 'input:digits'+: { setup_kwargs+: { limit: 200 } } } },
  executor+: { model+: { init_args+: { hidden: [16] } }, scheduler: { name: 'constant' } },
  train+: { epochs: 2, batch_size: 16, log_every_n_steps: 1 },
}
"""

# an executor that asks for a stop (as a launcher's warning would) at global step 3
STOPPING_EXECUTOR = """
from runway.launch import preemption

import runway
from executors.classifier import DigitsClassifier


@runway.register_executor("stopping_classifier")
class StoppingClassifier(DigitsClassifier):
    def training_step(self, batch, batch_idx):
        if self.global_step == 3:
            preemption.request_stop("a test warning")
        return super().training_step(batch, batch_idx)
"""


# an executor that gets SIGTERM (as `scancel` or `scontrol requeue` send) at global step 3
SIGTERM_EXECUTOR = """
import os
import signal

import runway
from executors.classifier import DigitsClassifier


@runway.register_executor("sigterm_classifier")
class SigtermClassifier(DigitsClassifier):
    def training_step(self, batch, batch_idx):
        if self.global_step == 3:
            os.kill(os.getpid(), signal.SIGTERM)
        return super().training_step(batch, batch_idx)
"""


@pytest.fixture
def project(runway_project: Callable[..., Path]) -> Iterator[Path]:
    yield runway_project(
        {"tiny": TINY_CONFIG},
        files={"executors/stopping.py": STOPPING_EXECUTOR, "executors/sigterm.py": SIGTERM_EXECUTOR},
    )
    preemption.clear_stop_request()
    preemption.set_requeue_owner(None)


@pytest.fixture
def invoke(runway_cli: Callable[..., Result]) -> Callable[..., Result]:
    return runway_cli
