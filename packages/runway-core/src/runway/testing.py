"""Pytest fixtures for plugin authors (loaded through the ``pytest11`` entry point).

``runway_plugins``
    a fresh plugin manager with core's built-ins and the installed plugins,
    installed as the process-wide one for the duration of the test.
``runway_builtin_plugins``
    the same with built-ins only: no installed plugin is loaded.
``register_plugin``
    ``register_plugin(obj, name="mine")`` registers an inline plugin (a class
    instance or module with ``@runway.hookimpl`` methods) on the test's plugin
    manager and unregisters it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable

import pytest

from runway.plugins.manager import Plugins, PluginInfo, make_plugin_manager, set_plugins


def _install(plugins: Plugins) -> Iterator[Plugins]:
    old = set_plugins(plugins)
    try:
        yield plugins
    finally:
        set_plugins(old)


@pytest.fixture
def runway_plugins() -> Iterator[Plugins]:
    yield from _install(make_plugin_manager(builtins_only=False, allow=None, block=None, trace=False))


@pytest.fixture
def runway_builtin_plugins() -> Iterator[Plugins]:
    yield from _install(make_plugin_manager(builtins_only=True, allow=None, block=None, trace=False))


@pytest.fixture
def register_plugin(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    if "runway_plugins" in request.fixturenames or "runway_builtin_plugins" not in request.fixturenames:
        plugins: Plugins = request.getfixturevalue("runway_plugins")
    else:
        plugins = request.getfixturevalue("runway_builtin_plugins")
    added: list[Any] = []

    def register(plugin: Any, name: str | None = None) -> Any:
        name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        plugins.pm.register(plugin, name=name)
        plugins.info[name] = PluginInfo(name=name, module=type(plugin).__module__, plugin=plugin)
        added.append(name)
        plugins.reset_caches()
        return plugin

    yield register
    for name in added:
        plugins.pm.unregister(name=name)
        plugins.info.pop(name, None)
    plugins.reset_caches()
