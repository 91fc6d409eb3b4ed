"""Discovery of really installed distributions through the `runway` entry-point group."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

FIRST_PARTY = {"hf": "runway-hf", "slurm": "runway-slurm", "wandb": "runway-wandb", "mlflow": "runway-mlflow"}


def _plugins(env: dict[str, str] | None = None) -> dict[str, dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "runway", "plugins", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr
    return {row["name"]: row for row in json.loads(proc.stdout)}


def test_all_five_distributions_and_a_third_party_plugin_are_listed():
    pytest.importorskip("runway_shout", reason="the `all` environment installs the test plugin runway-shout")
    rows = _plugins()
    for name, dist in FIRST_PARTY.items():
        assert rows[name]["distribution"] == dist, rows[name]
        assert rows[name]["version"] == "0.1.0"
        assert rows[name]["error"] is None and rows[name]["hooks"], rows[name]
    assert "register_transforms" in rows["hf"]["hooks"]
    assert "launch_job" in rows["slurm"]["hooks"]
    assert "log_metrics" in rows["wandb"]["hooks"] and "log_metrics" in rows["mlflow"]["hooks"]
    shout = rows["shout"]
    assert (shout["distribution"], shout["version"], shout["hooks"]) == ("runway-shout", "0.3.1", ["register_transforms"])
    assert rows["local"]["builtin"] and rows["csv"]["builtin"]


def test_builtin_only_switch_hides_installed_plugins():
    rows = _plugins({"RUNWAY_PLUGINS_BUILTIN_ONLY": "1"})
    assert rows and all(row["builtin"] for row in rows.values())
    assert not set(FIRST_PARTY) & set(rows)


def test_a_broken_installed_plugin_is_reported_and_the_others_load(tmp_path):
    (tmp_path / "broken_tracker.py").write_text("raise RuntimeError('backend library missing')\n")
    info = tmp_path / "runway_broken_tracker-2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: runway-broken-tracker\nVersion: 2.0\n")
    (info / "entry_points.txt").write_text("[runway]\nbrokentracker = broken_tracker\n")
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    rows = _plugins(env)
    broken = rows["brokentracker"]
    assert (broken["distribution"], broken["version"]) == ("runway-broken-tracker", "2.0")
    assert "RuntimeError: backend library missing" in broken["error"]
    assert rows["csv"]["error"] is None

    proc = subprocess.run(
        [sys.executable, "-m", "runway", "plugins"], capture_output=True, text=True, env={**os.environ, **env}
    )
    assert "brokentracker  runway-broken-tracker 2.0" in proc.stdout
    assert "FAILED TO LOAD: RuntimeError: backend library missing" in proc.stdout
    assert "1 plugin(s) failed to load" in proc.stdout
