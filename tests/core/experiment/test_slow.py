"""The full example, and DDP with two CPU processes (slow: real training)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runway.experiment.store import ExperimentStore

pytestmark = pytest.mark.slow


def test_the_example_reaches_90_percent_test_accuracy(project, invoke):
    result = invoke("run", "example")
    assert result.exit_code == 0, result.output
    metrics = ExperimentStore(project / "experiments").get("example").metrics("test")
    assert metrics["accuracy"] > 0.9


def test_ddp_with_two_cpu_processes_shares_one_version(project):
    env = {**os.environ, "RUNWAY_PLUGINS_BUILTIN_ONLY": "1", "PYTHONHASHSEED": "0"}
    env.pop("RUNWAY_EXPERIMENT_VERSION", None)
    runway = Path(sys.executable).with_name("runway")
    done = subprocess.run(
        [str(runway), "train", "tiny", "--opts", "train.trainer_paras.devices=2", "+train.trainer_paras.strategy=ddp"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # both ranks ran, and neither printed Lightning's start-up lines (each rank is a `runway execute`)
    noise = ("Initializing distributed", "Starting with 2 processes", "GPU available", "LOCAL_RANK", "LeafSpec")
    assert not [line for line in (done.stdout + done.stderr).splitlines() if any(word in line for word in noise)]
    store = ExperimentStore(project / "experiments")
    assert store.versions("tiny") == [1]
    version = store.get("tiny")
    assert version.status["state"] == "completed"
    assert {p.name for p in version.checkpoints()} == {"best.ckpt", "last.ckpt"}
    provenance = json.loads((version.path / "provenance.json").read_text())
    assert provenance["data"] and provenance["world_size"] == 2
