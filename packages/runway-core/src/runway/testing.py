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
``runway_project_packages``
    the top-level packages of the project code under test (the ``runway init``
    template's by default); override it in a conftest to add your own.
``runway_clean_process``
    a process without the project's code around the test: those packages are
    unimported and their registered transforms, executors and metrics
    forgotten before and after it, and ``sys.path`` is restored afterwards.
``runway_project``
    ``runway_project(configs={"tiny": TEXT}, files={"executors/mine.py": CODE})``
    creates a project from the ``runway init`` template under ``tmp_path``,
    writes ``configs/experiments/<name>.jsonnet`` and the extra files, makes it
    the current folder and returns its root; the project's code is forgotten
    afterwards (it uses ``runway_clean_process``).
``runway_cli``
    ``runway_cli("train", "tiny", "--opts", ...)`` runs the ``runway`` CLI
    in-process with click's ``CliRunner`` and returns its ``Result``;
    exceptions other than exits stay raised, so a failing test shows them.

:func:`make_project` and :func:`forget_project_code` are the same steps as
plain functions, for helpers that build projects outside a fixture.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Callable

import pytest

from runway.plugins.manager import Plugins, PluginInfo, make_plugin_manager, set_plugins

#: The top-level packages of a project made by ``runway init``.
TEMPLATE_PACKAGES = ("data_processing", "executors", "modeling", "metrics")


def forget_project_code(packages: Iterable[str] = TEMPLATE_PACKAGES) -> None:
    """Unimport ``packages`` and forget the transforms, executors and metrics they registered.

    Tests that create one project after another reuse the same package names;
    without this the second project would run the first one's modules.
    """
    from runway.experiment.registry import forget_project_code as forget_executors_and_metrics
    from runway.pipeline.transform import forget_project_transforms

    packages = tuple(packages)
    for name in list(sys.modules):
        if name.split(".")[0] in packages:
            del sys.modules[name]
    for package in packages:
        forget_project_transforms(package)
        forget_executors_and_metrics(package)


def make_project(
    root: Path, *, configs: Mapping[str, str] | None = None, files: Mapping[str, str] | None = None
) -> Path:
    """Create a project from the ``runway init`` template in ``root``; returns ``root``.

    ``configs`` maps experiment names to jsonnet written to
    ``configs/experiments/<name>.jsonnet``; ``files`` maps paths relative to
    ``root`` to text written there (e.g. an extra executor module).
    """
    from runway.project.scaffold import create_project

    create_project(root)
    for name, text in (configs or {}).items():
        (root / "configs" / "experiments" / f"{name}.jsonnet").write_text(text, encoding="utf-8")
    for relative, text in (files or {}).items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


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


@pytest.fixture
def runway_project_packages() -> tuple[str, ...]:
    return TEMPLATE_PACKAGES


@pytest.fixture
def runway_clean_process(monkeypatch: pytest.MonkeyPatch, runway_project_packages: tuple[str, ...]) -> Iterator[None]:
    forget_project_code(runway_project_packages)
    saved_path = list(sys.path)
    yield
    sys.path[:] = saved_path
    forget_project_code(runway_project_packages)


@pytest.fixture
def runway_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runway_clean_process: None) -> Callable[..., Path]:
    def make(
        configs: Mapping[str, str] | None = None, *, files: Mapping[str, str] | None = None, name: str = "proj"
    ) -> Path:
        root = make_project(tmp_path / name, configs=configs, files=files)
        monkeypatch.chdir(root)
        return root

    return make


@pytest.fixture
def runway_cli() -> Callable[..., Any]:
    from click.testing import CliRunner

    from runway.cli.main import cli

    runner = CliRunner()
    # `runway -q`/`-v`/`--traceback` set these for the processes a command starts; one test's
    # choice is undone when its command returns
    from runway.support.verbosity import ENV, TRACEBACK_ENV

    isolated = {name: os.environ.get(name) for name in (ENV, TRACEBACK_ENV, "HF_DATASETS_DISABLE_PROGRESS_BARS")}

    def invoke(*args: str) -> Any:
        return runner.invoke(cli, list(args), catch_exceptions=False, env=isolated)

    return invoke
