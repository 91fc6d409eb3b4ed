"""The offline text-classification example, end to end through ``runway run``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runway.cli.main import cli
from runway_hf.examples.text_classification import EXPERIMENT_NAME, write_example


@pytest.mark.timeout(300)
def test_the_example_trains_infers_and_evaluates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runway_plugins) -> None:
    root = tmp_path / "project"
    write_example(root, epochs=2)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, ["run", EXPERIMENT_NAME])
    assert result.exit_code == 0, result.output + repr(result.exception)
    metrics_files = list((root / "experiments").glob(f"{EXPERIMENT_NAME}_V1/test-*/metrics.json"))
    assert len(metrics_files) == 1
    metrics = json.loads(metrics_files[0].read_text())
    # two classes that differ in every adjective: a tiny model separates them
    assert metrics["accuracy"] >= 0.8
    from runway.experiment.records import read_records

    records = read_records(metrics_files[0].parent)
    assert len(records) == 80 and "text" in records[0]["input"]
    cached = {json.loads(p.read_text())["format"] for p in (root / "local_cache").rglob("meta.json")}
    assert cached == {"arrow"}
