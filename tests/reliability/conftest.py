"""Fixtures of the reliability suite: light projects, a clean process around each test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from reliability_helpers import LightProject

from runway.cli.main import cli

@pytest.fixture
def clean_process(runway_builtin_plugins, runway_clean_process) -> None:
    """Built-in plugins only, no project code imported, no inherited version."""


@pytest.fixture
def light(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_process) -> LightProject:
    """A torch-free project with the light pipeline as experiment ``light``, as cwd."""
    project = LightProject(tmp_path / "proj")
    project.write_config("light")
    monkeypatch.chdir(project.root)
    return project


@pytest.fixture
def invoke() -> Callable[..., Result]:
    """``invoke("prepare", "light")``: the CLI in-process; unexpected exceptions are kept in the result."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli, list(args))

    return run


