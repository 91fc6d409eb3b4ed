"""A clean transform registry per test, and a tiny project in tmp_path."""

from __future__ import annotations

import pytest

from pipeline_helpers import TinyProject, forget_project_code
from runway.plugins import get_plugins, make_plugin_manager, set_plugins


@pytest.fixture(autouse=True)
def clean_registry():
    """Every test starts with built-in plugins only and no project transforms."""
    forget_project_code()
    old = set_plugins(make_plugin_manager(builtins_only=True, allow=None, block=None, trace=False))
    yield
    set_plugins(old)
    forget_project_code()


@pytest.fixture
def project(tmp_path, monkeypatch) -> TinyProject:
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.syspath_prepend(str(root))
    return TinyProject(root)


@pytest.fixture
def register_plugin_on_default():
    """register(obj, name) on the test's process-wide plugin manager."""
    plugins = get_plugins()

    def register(obj, name):
        plugins.pm.register(obj, name=name)
        plugins.reset_caches()
        return obj

    return register
