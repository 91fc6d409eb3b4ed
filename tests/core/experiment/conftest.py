"""A tiny project made from the `runway init` template, and a clean process around it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from experiment_project import TINY_CONFIG


@pytest.fixture
def project(runway_project: Callable[..., Path], runway_builtin_plugins) -> Path:
    """A fresh project (the init template plus configs/experiments/tiny.jsonnet), as cwd."""
    return runway_project({"tiny": TINY_CONFIG})


@pytest.fixture
def trained(trained_copy: Callable[..., Path], runway_clean_process: None, runway_builtin_plugins) -> Path:
    """The project of ``project`` with ``tiny`` trained once (version 1, no test run yet), as cwd.

    For tests whose subject comes after the training; the training is shared.
    """
    from runway.testing import make_project

    return trained_copy("experiment-tiny", lambda root: make_project(root, configs={"tiny": TINY_CONFIG}), [["train", "tiny"]])


@pytest.fixture
def invoke(runway_cli: Callable[..., Result]) -> Callable[..., Result]:
    """``invoke("run", "tiny", ...)``: the CLI in-process; exceptions stay raised."""
    return runway_cli
