"""A tiny project from the `runway init` template, as the current folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from sweep_project import TINY


@pytest.fixture
def project(runway_project: Callable[..., Path]) -> Path:
    """A fresh project with configs/experiments/tiny.jsonnet, as the current folder."""
    return runway_project({"tiny": TINY})


@pytest.fixture
def invoke(runway_cli: Callable[..., Result]) -> Callable[..., Result]:
    """``invoke("sweep", "tiny", ...)``: the CLI in-process; exceptions stay raised."""
    return runway_cli
