"""Trained projects shared by the tests whose subject is not the training itself.

Training the tiny template in every test that only needs *a* trained
version (to infer from, evaluate, rerun, compare) is most of the suite's
time. ``trained_once(key, make, commands)`` trains once per session (in a
process state of its own: plugins, the project's modules and ``sys.path``
are restored afterwards) and returns the trained project's folder; ``trained_copy(...)`` (same
arguments) gives a test its own copy of it as the current folder, so each
one may change what it likes.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pytest


def _train(root: Path, make: Callable[[Path], Path], commands: Iterable[Sequence[str]], builtins_only: bool) -> Path:
    from click.testing import CliRunner

    from runway.cli.main import cli
    from runway.plugins.manager import make_plugin_manager, set_plugins
    from runway.testing import forget_project_code

    saved_path, saved_cwd = list(sys.path), os.getcwd()
    forget_project_code()
    old = set_plugins(make_plugin_manager(builtins_only=builtins_only, allow=None, block=None, trace=False))
    try:
        make(root)
        os.chdir(root)
        runner = CliRunner()
        for args in commands:
            result = runner.invoke(cli, list(args), catch_exceptions=False)
            assert result.exit_code == 0, f"runway {' '.join(args)}: {result.output}"
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        set_plugins(old)
        forget_project_code()
    return root


@pytest.fixture(scope="session")
def trained_once(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``trained_once(key, make, commands, builtins_only=True)``: the folder of a project
    made by ``make(root)`` and taken through ``commands`` (CLI argument lists), once per key."""
    made: dict[str, Path] = {}

    def trained(
        key: str, make: Callable[[Path], Path], commands: Iterable[Sequence[str]], *, builtins_only: bool = True
    ) -> Path:
        if key not in made:
            made[key] = _train(tmp_path_factory.mktemp(f"trained-{key}") / "proj", make, commands, builtins_only)
        return made[key]

    return trained


@pytest.fixture
def trained_copy(trained_once: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """``trained_copy(key, make, commands)``: this test's copy of ``trained_once(...)``, as cwd."""

    def copy(*args: object, **kwargs: object) -> Path:
        root = copy_project(trained_once(*args, **kwargs), tmp_path / "proj")
        monkeypatch.chdir(root)
        return root

    return copy


def copy_project(source: Path, target: Path) -> Path:
    """A copy of a trained project at ``target``; its records name the copy's folder, not the original's."""
    shutil.copytree(source, target, symlinks=True)
    old, new = str(source), str(target)
    for record in (target / "experiments").rglob("*.json"):
        text = record.read_text(encoding="utf-8")
        if old in text:
            record.write_text(text.replace(old, new), encoding="utf-8")
    return target
