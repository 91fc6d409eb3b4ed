"""Plugins whose hooks are recorded are registered as stand-ins and imported on their first hook call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runway.errors import PluginError
from runway.plugins import lazy
from runway.plugins.manager import make_plugin_manager

MODULE = "lazyplug_mod"

PLUGIN = """
import runway

LOADS = 0

@runway.hookimpl
def register_transforms(register):
    register("lazy_transform", object)

@runway.hookimpl(tryfirst=True)
def launch_job(job, launcher):
    return ("launched", job, launcher) if launcher == "lazy" else None

@runway.hookimpl(wrapper=True)
def summarize_data(data):
    result = yield
    return {"wrapped": True, **(result or {})}
"""


def _install(site, source: str = PLUGIN, *, name: str = "lazyplug", module: str = MODULE):
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"runway_{name}-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: runway-{name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[runway]\n{name} = {module}\n")


def _touch_later(path) -> None:
    """A change the record must see even within the file system's timestamp granularity."""
    later = path.stat().st_mtime_ns + 10**9
    os.utime(path, ns=(later, later))


def _manager():
    return make_plugin_manager(builtins_only=False, allow=["lazyplug"], block=None, trace=False)


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("RUNWAY_CACHE_HOME", raising=False)
    monkeypatch.delenv("RUNWAY_PLUGIN_CACHE", raising=False)
    folder = tmp_path / "site"
    _install(folder)
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    sys.modules.pop(MODULE, None)


def test_a_recorded_plugin_is_imported_only_when_a_hook_calls_it(site):
    first = _manager()
    assert first.info["lazyplug"].error is None
    assert MODULE in sys.modules and not isinstance(first.info["lazyplug"].plugin, lazy.StandIn)
    assert Path(lazy.record_file()).is_file()
    del sys.modules[MODULE]

    plugins = _manager()
    stand_in = plugins.info["lazyplug"].plugin
    assert isinstance(stand_in, lazy.StandIn)
    assert MODULE not in sys.modules  # registered, listed, not imported
    assert plugins.hooks_of("lazyplug") == first.hooks_of("lazyplug") == ["launch_job", "register_transforms", "summarize_data"]
    assert plugins.info["lazyplug"].error is None

    # a firstresult hook, with pluggy's options (tryfirst) and argument names kept
    assert plugins.hook.launch_job(job="J", launcher="lazy") == ("launched", "J", "lazy")
    assert MODULE in sys.modules
    # a new-style wrapper stays a wrapper around the other implementations
    assert plugins.hook.summarize_data(data=object())["wrapped"] is True
    # attributes other than hooks come from the module, once imported
    assert stand_in.LOADS == 0
    assert stand_in.__file__ == str(site / f"{MODULE}.py")


def test_editing_a_plugin_file_imports_it_again_and_sees_its_new_hooks(site):
    _manager()
    del sys.modules[MODULE]
    (site / f"{MODULE}.py").write_text("import runway\n\n@runway.hookimpl\ndef log_metrics(run, metrics, step):\n    pass\n")
    _touch_later(site / f"{MODULE}.py")
    plugins = _manager()
    assert not isinstance(plugins.info["lazyplug"].plugin, lazy.StandIn)
    assert plugins.hooks_of("lazyplug") == ["log_metrics"]


def test_a_plugin_that_failed_to_import_is_imported_again_by_every_command(site):
    (site / f"{MODULE}.py").write_text("raise RuntimeError('broken on purpose')\n")
    for _ in range(2):
        assert "broken on purpose" in _manager().info["lazyplug"].error
    # the failing module left nothing in sys.modules that the record could watch: it is not recorded
    assert "lazyplug" not in json.loads(Path(lazy.record_file()).read_text())["plugins"]
    (site / f"{MODULE}.py").write_text(textwrap.dedent(PLUGIN))
    assert _manager().info["lazyplug"].error is None


def test_a_record_that_names_no_hook_is_refused_at_the_call_and_dropped(site):
    _manager()
    del sys.modules[MODULE]
    record = json.loads(Path(lazy.record_file()).read_text())
    hooks = record["plugins"]["lazyplug"]["hooks"]
    # a hostile or stale record: claim that the module's plain value LOADS implements log_metrics
    hooks.append({"attr": "LOADS", "opts": {"specname": "log_metrics"}, "args": ["run", "metrics", "step"], "kwargs": [], "generator": False})
    Path(lazy.record_file()).write_text(json.dumps(record))
    plugins = _manager()
    assert isinstance(plugins.info["lazyplug"].plugin, lazy.StandIn)
    with pytest.raises(PluginError, match="(?s)lazyplug.*LOADS"):
        plugins.hook.log_metrics(run=None, metrics={}, step=0)
    assert not Path(lazy.record_file()).exists()
    assert "no longer has: LOADS" in plugins.info["lazyplug"].error


def test_a_stand_in_whose_import_now_fails_names_the_plugin(site):
    _manager()
    del sys.modules[MODULE]
    plugins = _manager()
    # changed after the record was checked (as a file outside the record could change)
    (site / f"{MODULE}.py").write_text("raise ImportError('gone since')\n")
    with pytest.raises(PluginError, match=r"plugin 'lazyplug' from runway-lazyplug 1.0 failed to import(.|\n)*gone since"):
        plugins.hook.launch_job(job="J", launcher="lazy")
    assert not Path(lazy.record_file()).exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r["plugins"]["lazyplug"]["hooks"][0].update(attr="os.system"),
        lambda r: r["plugins"]["lazyplug"]["hooks"][0].update(args=["a b"]),
        lambda r: r["plugins"]["lazyplug"]["hooks"][0]["opts"].update(evil=True),
        lambda r: r.update(files="everything"),
    ],
    ids=["attribute", "argument", "option", "files"],
)
def test_a_malformed_record_is_not_believed(site, damage):
    _manager()
    del sys.modules[MODULE]
    record = json.loads(Path(lazy.record_file()).read_text())
    damage(record)
    Path(lazy.record_file()).write_text(json.dumps(record))
    plugins = _manager()
    assert not isinstance(plugins.info["lazyplug"].plugin, lazy.StandIn)  # imported for real
    assert MODULE in sys.modules


def test_damaged_or_switched_off_the_record_costs_only_imports(site, monkeypatch):
    _manager()
    Path(lazy.record_file()).write_text("{not json")
    del sys.modules[MODULE]
    assert not isinstance(_manager().info["lazyplug"].plugin, lazy.StandIn)
    del sys.modules[MODULE]
    monkeypatch.setenv("RUNWAY_PLUGIN_CACHE", "0")
    assert not isinstance(_manager().info["lazyplug"].plugin, lazy.StandIn)


@pytest.mark.slow
def test_runway_plugins_says_the_same_from_the_record_as_from_imports(tmp_path):
    """The installed plugins, in fresh interpreters: once recording, once from the record, once with it off."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("RUNWAY_CACHE_HOME", None)

    def plugins(**extra):
        done = subprocess.run([sys.executable, "-m", "runway", "plugins", "--json"], env={**env, **extra}, capture_output=True, text=True, check=True)
        return json.loads(done.stdout)

    recorded, from_record, off = plugins(), plugins(), plugins(RUNWAY_PLUGIN_CACHE="0")
    assert recorded == from_record == off
    assert {row["name"] for row in from_record} >= {"local", "csv", "core-executor"}
    probe = (
        "import sys, runway.plugins as p; found = p.get_plugins(); "
        "print(sorted(m for m in ('runway.launch.local', 'runway.logging.csv_logger', 'runway.sweep.sweepers') if m in sys.modules))"
    )
    imported = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert imported.stdout.strip() == "[]"
