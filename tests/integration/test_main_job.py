"""The product's main job from a shell: `runway init`, then `runway run example`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _runway(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "RUNWAY_EXPERIMENT_VERSION"}
    runway = Path(sys.executable).with_name("runway")
    return subprocess.run([str(runway), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_init_then_run_example_end_to_end(tmp_path):
    created = _runway("init", "project", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    root = tmp_path / "project"
    assert (root / "runway.toml").is_file()

    ran = _runway("run", "example", cwd=root)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    version = root / "experiments" / "example_V1"
    assert json.loads((version / "status.json").read_text())["state"] == "completed"
    metrics = json.loads((version / "test-test" / "metrics.json").read_text())
    assert metrics["accuracy"] > 0.9
    provenance = json.loads((version / "provenance.json").read_text())
    assert provenance["command"][1:] == ["run", "example"] and provenance["data"]

    listed = _runway("list", cwd=root)
    assert listed.returncode == 0 and "example" in listed.stdout and "completed" in listed.stdout
    again = _runway("init", cwd=root)
    assert again.returncode == 2 and "Error:" in again.stderr
