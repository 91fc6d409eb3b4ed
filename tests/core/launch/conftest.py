"""A tiny project from the `runway init` template, as the working folder."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from runway.cli.init_cmd import create_project
from runway.cli.main import cli
from runway.launch import preemption

PROJECT_PACKAGES = ("data_processing", "executors", "modeling", "metrics")

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


def _forget_project_code() -> None:
    from runway.experiment.registry import forget_project_code
    from runway.pipeline.transform import forget_project_transforms

    for name in list(sys.modules):
        if name.split(".")[0] in PROJECT_PACKAGES:
            del sys.modules[name]
    for package in PROJECT_PACKAGES:
        forget_project_transforms(package)
        forget_project_code(package)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "proj"
    create_project(root)
    (root / "configs" / "experiments" / "tiny.jsonnet").write_text(TINY_CONFIG, encoding="utf-8")
    (root / "executors" / "stopping.py").write_text(STOPPING_EXECUTOR, encoding="utf-8")
    (root / "executors" / "sigterm.py").write_text(SIGTERM_EXECUTOR, encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.delenv("RUNWAY_EXPERIMENT_VERSION", raising=False)
    _forget_project_code()
    saved_path = list(sys.path)
    yield root
    sys.path[:] = saved_path
    _forget_project_code()
    preemption.clear_stop_request()
    preemption.set_requeue_owner(None)


@pytest.fixture
def invoke() -> Callable[..., Result]:
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run
