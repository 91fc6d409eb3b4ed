"""A tiny project from the `runway init` template, as the current folder."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from runway.cli.main import cli
from sweep_project import make_project

PROJECT_PACKAGES = ("data_processing", "executors", "modeling", "metrics")


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
    """A fresh project with configs/experiments/tiny.jsonnet, as the current folder."""
    root = make_project(tmp_path / "proj")
    monkeypatch.chdir(root)
    monkeypatch.delenv("RUNWAY_EXPERIMENT_VERSION", raising=False)
    _forget_project_code()
    saved = list(sys.path)
    yield root
    sys.path[:] = saved
    _forget_project_code()


@pytest.fixture
def invoke() -> Callable[..., Result]:
    """``invoke("sweep", "tiny", ...)``: the CLI in-process; exceptions stay raised."""
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run
