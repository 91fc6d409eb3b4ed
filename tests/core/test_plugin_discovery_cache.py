"""Installed plugins are read once per environment and again when distributions change."""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path

import pytest

from runway.plugins import discovery_cache
from runway.plugins.manager import make_plugin_manager


@pytest.fixture
def scans(tmp_path, monkeypatch) -> list[str]:
    """The cache in tmp_path; each read of the installed metadata is counted."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(discovery_cache.SWITCH, raising=False)
    counted: list[str] = []
    real = metadata.entry_points

    def counting(**kwargs):
        counted.append(kwargs.get("group"))
        return real(**kwargs)

    monkeypatch.setattr(metadata, "entry_points", counting)
    return counted


def _install(folder: Path, *, plugin: str, version: str = "1.0", module_text: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{plugin}_mod.py").write_text(module_text)
    info = folder / f"runway_{plugin}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: runway-{plugin}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[runway]\n{plugin} = {plugin}_mod\n")
    return info


def test_a_second_discovery_reads_no_metadata(scans):
    first = discovery_cache.entry_points("runway")
    again = discovery_cache.entry_points("runway")
    assert scans == ["runway"]
    assert [(e.name, e.value, e.dist) for e in again] == [(e.name, e.value, e.dist) for e in first]
    assert Path(discovery_cache.cache_file()).is_file()


def test_a_distribution_installed_on_the_path_is_found(scans, tmp_path, monkeypatch):
    discovery_cache.entry_points("runway")
    site = tmp_path / "site"
    _install(site, plugin="fresh", module_text="VALUE = 1\n")
    monkeypatch.syspath_prepend(str(site))
    found = {e.name: e for e in discovery_cache.entry_points("runway")}
    assert scans == ["runway", "runway"]
    assert found["fresh"].dist.metadata["Name"] == "runway-fresh" and found["fresh"].dist.version == "1.0"
    assert found["fresh"].load().VALUE == 1

    # removed again: found no more
    import shutil

    shutil.rmtree(site / "runway_fresh-1.0.dist-info")
    assert "fresh" not in {e.name for e in discovery_cache.entry_points("runway")}


def test_a_reinstall_in_place_is_seen(scans, tmp_path, monkeypatch):
    site = tmp_path / "site"
    info = _install(site, plugin="moved")
    monkeypatch.syspath_prepend(str(site))
    assert {e.name: e.value for e in discovery_cache.entry_points("runway")}["moved"] == "moved_mod"
    (info / "entry_points.txt").write_text("[runway]\nmoved = elsewhere_mod\n")
    later = (info / "entry_points.txt").stat().st_mtime_ns + 10**9
    os.utime(info / "entry_points.txt", ns=(later, later))
    assert {e.name: e.value for e in discovery_cache.entry_points("runway")}["moved"] == "elsewhere_mod"


def test_running_from_another_folder_keeps_the_cache(scans, tmp_path, monkeypatch):
    discovery_cache.entry_points("runway")
    elsewhere = tmp_path / "project"
    elsewhere.mkdir()
    monkeypatch.syspath_prepend(str(elsewhere))
    discovery_cache.entry_points("runway")
    assert scans == ["runway"]


def test_switched_off_or_damaged_the_metadata_is_read(scans, monkeypatch):
    discovery_cache.entry_points("runway")
    Path(discovery_cache.cache_file()).write_text("{not json")
    discovery_cache.entry_points("runway")
    monkeypatch.setenv(discovery_cache.SWITCH, "0")
    discovery_cache.entry_points("runway")
    assert scans == ["runway"] * 3


def test_the_plugin_manager_reports_cached_plugins_as_before(scans, tmp_path, monkeypatch):
    site = tmp_path / "site"
    _install(site, plugin="cachedplug", module_text="import runway\n\n@runway.hookimpl\ndef register_transforms(register):\n    pass\n")
    monkeypatch.syspath_prepend(str(site))
    for _ in range(2):
        plugins = make_plugin_manager(builtins_only=False, allow=["cachedplug"], block=None, trace=False)
        info = plugins.info["cachedplug"]
        assert (info.distribution, info.version, info.error) == ("runway-cachedplug", "1.0", None)
        assert plugins.pm.get_plugin("cachedplug") is not None
    assert scans == ["runway"]
    sys.modules.pop("cachedplug_mod", None)
