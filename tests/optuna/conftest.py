"""The optuna sweeper's tests run the tiny project of the core sweep tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "sweep"))
from sweep_project import TINY  # noqa: E402

pytest.importorskip("runway_optuna", reason="runway-optuna is not installed (tox's `all` environment installs it)")


@pytest.fixture
def project(runway_project):
    return runway_project({"tiny": TINY})


@pytest.fixture
def invoke(runway_cli):
    return runway_cli
