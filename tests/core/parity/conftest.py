"""A tiny project from the `runway init` template (the example, cut down), as cwd."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

# the example, cut down through --opts: 200 samples, a narrow network, 2 epochs at a constant rate
TINY_OPTS = (
    "data_pipeline.transforms.input:digits.setup_kwargs.limit=200",
    "executor.model.init_args.hidden=[16]",
    "executor.optimizer.lr=0.01",
    'executor.scheduler={"name":"constant"}',
    "train.epochs=2",
    "train.batch_size=32",
)


@pytest.fixture
def project(runway_project: Callable[..., Path], runway_plugins, runway_cli: Callable[..., Result]) -> Path:
    """A fresh project made by `runway init`, with configs/experiments/tiny.jsonnet = example + TINY_OPTS."""
    root = runway_project()
    result = runway_cli("experiment", "tiny", "--from", "example", "--opts", *TINY_OPTS)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def trained(trained_copy: Callable[..., Path], runway_clean_process: None, runway_plugins) -> Path:
    """The project of ``project`` after ``runway run tiny`` (version 1 trained, tested on
    ``test`` and evaluated), as cwd; the run is shared by the tests that use it."""
    from runway.testing import make_project

    return trained_copy(
        "parity-tiny-run",
        make_project,
        [["experiment", "tiny", "--from", "example", "--opts", *TINY_OPTS], ["run", "tiny"]],
        builtins_only=False,
    )


@pytest.fixture
def invoke(runway_cli: Callable[..., Result]) -> Callable[..., Result]:
    """``invoke("run", "tiny", ...)``: the CLI in-process; exceptions stay raised."""
    return runway_cli
