"""A tiny project from the `runway init` template (the example, cut down), as cwd."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from runway.cli.init_cmd import create_project
from runway.cli.main import cli

PROJECT_PACKAGES = ("data_processing", "executors", "modeling", "metrics")

# the example, cut down through --opts: 200 samples, a narrow network, 2 epochs at a constant rate
TINY_OPTS = (
    "data_pipeline.transforms.input:digits.setup_kwargs.limit=200",
    "executor.model.init_args.hidden=[16]",
    "executor.optimizer.lr=0.01",
    'executor.scheduler={"name":"constant"}',
    "train.epochs=2",
    "train.batch_size=32",
)


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
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runway_plugins) -> Iterator[Path]:
    """A fresh project made by `runway init`, with configs/experiments/tiny.jsonnet = example + TINY_OPTS."""
    root = tmp_path / "proj"
    create_project(root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("RUNWAY_EXPERIMENT_VERSION", raising=False)
    _forget_project_code()
    saved_path = list(sys.path)
    result = CliRunner().invoke(cli, ["experiment", "tiny", "--from", "example", "--opts", *TINY_OPTS], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    yield root
    sys.path[:] = saved_path
    _forget_project_code()


@pytest.fixture
def invoke() -> Callable[..., Result]:
    """``invoke("run", "tiny", ...)``: the CLI in-process; exceptions stay raised."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run
