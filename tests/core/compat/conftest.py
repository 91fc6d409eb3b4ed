"""Fixtures for the compat tests: a seed-shaped project as the current folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PROJECT_PACKAGES = ("data_processing", "executors", "modeling", "metrics")


def forget_project_code() -> None:
    """Drop the project modules and registrations a previous test imported."""
    from runway.experiment.registry import forget_project_code as forget_executors
    from runway.pipeline.transform import forget_project_transforms

    for name in list(sys.modules):
        if name.split(".")[0] in PROJECT_PACKAGES:
            del sys.modules[name]
    for package in PROJECT_PACKAGES:
        forget_project_transforms(package)
        forget_executors(package)


@pytest.fixture
def seed_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runway_builtin_plugins) -> Path:
    """The seed-shaped project of ``seed_project.py`` as cwd; returns its root."""
    from seed_project import write_seed_project

    root = tmp_path / "seedproj"
    write_seed_project(root)
    monkeypatch.chdir(root)
    saved = list(sys.path)
    forget_project_code()
    yield root
    sys.path[:] = saved
    forget_project_code()
