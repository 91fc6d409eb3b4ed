"""Fixtures for the compat tests: a seed-shaped project as the current folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def seed_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runway_builtin_plugins, runway_clean_process) -> Path:
    """The seed-shaped project of ``seed_project.py`` as cwd; returns its root."""
    from seed_project import write_seed_project

    root = tmp_path / "seedproj"
    write_seed_project(root)
    monkeypatch.chdir(root)
    return root
