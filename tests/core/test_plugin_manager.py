"""The plugin manager factory: built-ins, entry points, switches, failures."""

from __future__ import annotations

import importlib.metadata as metadata
import sys
import textwrap

import pytest

import runway
from runway.errors import PluginError
from runway.plugins import BUILTIN_PLUGINS, make_plugin_manager


def _fake_entry_point(tmp_path, name: str, module: str, source: str, dist: str = "fake-dist", version: str = "9.9"):
    """A real distribution on sys.path: a module and a .dist-info with entry_points.txt."""
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
    info = tmp_path / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[runway]\n{name} = {module}\n")
    return [ep for ep in metadata.distributions(path=[str(tmp_path)]) if ep.metadata["Name"] == dist][0]


@pytest.fixture
def on_path(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for mod in [m for m in sys.modules if m.startswith("plug_")]:
        sys.modules.pop(mod)


def test_builtins_are_registered_as_plugins():
    plugins = make_plugin_manager(builtins_only=True)
    for name in BUILTIN_PLUGINS:
        assert plugins.pm.get_plugin(name) is not None
        assert plugins.info[name].builtin


def test_entry_point_plugin_is_loaded_with_its_distribution(on_path):
    dist = _fake_entry_point(
        on_path,
        "tracker",
        "plug_tracker",
        """
        import runway

        @runway.hookimpl
        def log_metrics(run, metrics, step):
            pass
        """,
        dist="runway-tracker",
        version="1.2.3",
    )
    plugins = make_plugin_manager(builtins_only=False, entry_points=dist.entry_points)
    info = plugins.info["tracker"]
    assert (info.distribution, info.version, info.error) == ("runway-tracker", "1.2.3", None)
    assert plugins.hooks_of("tracker") == ["log_metrics"]
    assert "tracker" in plugins.implementers("log_metrics")


def test_broken_plugin_is_reported_and_others_still_load(on_path):
    broken = _fake_entry_point(on_path, "broken", "plug_broken", "raise ImportError('no such backend')", dist="runway-broken", version="0.1")
    plugins = make_plugin_manager(builtins_only=False, entry_points=broken.entry_points)
    info = plugins.info["broken"]
    assert not info.loaded
    assert "ImportError: no such backend" in info.error
    assert plugins.pm.get_plugin("core-metrics") is not None  # built-ins unaffected
    with pytest.raises(PluginError, match=r"plugin 'broken' from runway-broken 0.1 failed to import"):
        plugins.require("broken")


def test_allow_and_block_lists(on_path):
    dist = _fake_entry_point(on_path, "extra", "plug_extra", "x = 1\n", dist="runway-extra")
    assert "extra" not in make_plugin_manager(builtins_only=False, allow=["other"], entry_points=dist.entry_points).info
    assert "extra" in make_plugin_manager(builtins_only=False, allow=["extra"], entry_points=dist.entry_points).info
    blocked = make_plugin_manager(builtins_only=False, block=["extra", "core-summary"], entry_points=dist.entry_points)
    assert "extra" not in blocked.info and "core-summary" not in blocked.info
    assert "extra" not in make_plugin_manager(builtins_only=True, entry_points=dist.entry_points).info


def test_environment_switches(on_path, monkeypatch):
    dist = _fake_entry_point(on_path, "envplug", "plug_envplug", "x = 1\n", dist="runway-envplug")
    monkeypatch.setenv("RUNWAY_PLUGINS_BUILTIN_ONLY", "1")
    assert "envplug" not in make_plugin_manager(entry_points=dist.entry_points).info
    monkeypatch.delenv("RUNWAY_PLUGINS_BUILTIN_ONLY")
    monkeypatch.setenv("RUNWAY_PLUGINS_BLOCK", "envplug")
    assert "envplug" not in make_plugin_manager(entry_points=dist.entry_points).info
    monkeypatch.delenv("RUNWAY_PLUGINS_BLOCK")
    monkeypatch.setenv("RUNWAY_PLUGINS_ALLOW", "envplug")
    assert "envplug" in make_plugin_manager(entry_points=dist.entry_points).info


def test_trace_prints_hook_calls(capsys):
    plugins = make_plugin_manager(builtins_only=True, trace=True)
    plugins.hook.summarize_data(data=[1, 2])
    err = capsys.readouterr().err
    assert "[runway trace] summarize_data(data) -> ['core-summary']" in err
    assert "returned {'type': 'builtins.list'" in err


def test_unknown_component_lists_available_and_provider():
    plugins = make_plugin_manager(builtins_only=True)
    err = plugins.unknown("logger", "mlflow", ["csv"])
    assert "unknown logger 'mlflow'" in str(err)
    assert "pip install runway-mlflow" in str(err)
    assert "csv [?]" in str(err) or "csv [" in str(err)


def test_hookimpl_is_exported_from_package_root():
    assert runway.hookimpl.project_name == "runway"
