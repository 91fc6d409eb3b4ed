"""Fixtures of the reliability suite: light projects, a clean process around each test."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from reliability_helpers import LightProject

from runway.cli.main import cli

PROJECT_PACKAGES = ("data_processing", "executors", "modeling", "metrics")


def forget_project_code() -> None:
    """Unimport every project's code and its registrations (tests switch projects)."""
    from runway.experiment.registry import forget_project_code as forget_executors
    from runway.pipeline.transform import forget_project_transforms

    for name in list(sys.modules):
        if name.split(".")[0] in PROJECT_PACKAGES:
            del sys.modules[name]
    for package in PROJECT_PACKAGES:
        forget_project_transforms(package)
        forget_executors(package)


@pytest.fixture
def clean_process(monkeypatch: pytest.MonkeyPatch, runway_builtin_plugins) -> Iterator[None]:
    """Built-in plugins only, no project code imported, no inherited version."""
    monkeypatch.delenv("RUNWAY_EXPERIMENT_VERSION", raising=False)
    forget_project_code()
    saved_path = list(sys.path)
    yield
    sys.path[:] = saved_path
    forget_project_code()


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


def assert_clean_failure(result: Result, fragment: str, code: int = 2) -> None:
    """Exit ``code``, ``Error: ...`` naming ``fragment``, and no Python traceback."""
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"unhandled {result.exception!r}:\n{output}"
    )
    assert result.exit_code == code, f"exit {result.exit_code}, expected {code}:\n{output}"
    assert "Traceback (most recent call last)" not in output, output
    assert "Error:" in output, output
    assert fragment in output, f"{fragment!r} not in:\n{output}"
