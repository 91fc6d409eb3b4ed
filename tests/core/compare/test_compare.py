"""``runway compare``, ``runway plot`` and ``pipeline show --format png`` on versions written here.

The versions are plain folders with the files that train, infer and eval
write (their real production is covered by tests/core/sweep); this keeps the
cases small and exact.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from runway.project.scaffold import create_project
from runway.cli.main import cli
from runway.experiment.status import write_status


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _version(root: Path, label: str, config: dict, *, curve: list[float], tests: dict[str, dict] | None = None, state="completed"):
    folder = root / "experiments" / label
    (folder / "train" / "logs").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    write_status(folder, state)
    rows = ["step,metric,value,time"]
    for step, value in enumerate(curve):
        rows += [f"{step * 10},val/loss,{value},0", f"{step * 10},epoch,{step},0"]
    (folder / "train" / "logs" / "metrics.csv").write_text("\n".join(rows) + "\n")
    for suffix, test in (tests or {}).items():
        test_dir = folder / f"test-{suffix}"
        test_dir.mkdir()
        (test_dir / "metrics.json").write_text(json.dumps(test["metrics"]))
        (test_dir / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test["records"]))
        (test_dir / "summary.json").write_text(json.dumps({"data": test.get("data", {"output": "k1"})}))
    return folder


def _records(predictions, targets, ids=None):
    return [
        {"index": i, **({"id": ids[i]} if ids else {}), "prediction": p, "target": t}
        for i, (p, t) in enumerate(zip(predictions, targets))
    ]


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    create_project(root)
    monkeypatch.chdir(root)
    base = {"train": {"lr": 0.1, "epochs": 2}, "meta": {"seed": 1}}
    targets = [0, 1, 2, 3]
    _version(root, "exp_V1", base, curve=[1.0, 0.5], tests={"test": {"metrics": {"accuracy": 0.5}, "records": _records([0, 1, 0, 0], targets)}})
    _version(root, "exp_V2", {**base, "train": {"lr": 0.01, "epochs": 2}}, curve=[1.0, 0.8, 0.6],
             tests={"test": {"metrics": {"accuracy": 0.75}, "records": _records([0, 1, 2, 1], targets)}})
    _version(root, "other_V1", {**base, "extra": True}, curve=[0.9], state="failed",
             tests={"test": {"metrics": {"accuracy": 0.25}, "records": _records([0, 1, 0, 0], targets), "data": {"output": "k2"}}})
    return root


def test_compare_shows_differing_keys_and_metrics_per_version(project):
    # other_V1 tested other data: shown side by side only with --force
    result = _invoke("compare", "exp", "other:1", "--force")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["VERSION", "STATE", "extra", "train.lr", "test:accuracy", "last:val/loss"]
    assert lines[1].split() == ["exp_V1", "completed", "-", "0.1", "0.5", "0.5"]
    assert lines[2].split() == ["exp_V2", "completed", "-", "0.01", "0.75", "0.6"]
    assert lines[3].split() == ["other_V1", "failed", "true", "0.1", "0.25", "0.9"]
    assert "predictions" not in result.output  # three versions: no pairwise diff

    only = _invoke("compare", "exp", "--metric", "test:*", "--transpose").output.split("\n\n")[0].splitlines()
    assert only[0].split() == ["exp_V1", "exp_V2"]
    assert [line.split()[0] for line in only[1:]] == ["STATE", "train.lr", "test:accuracy"]


def test_two_test_runs_list_the_samples_predicted_differently(project):
    result = _invoke("compare", "exp:1:test", "exp:V2")
    assert result.exit_code == 0, result.output
    assert "predictions exp_V1:test vs exp_V2:test: 2 of 4 samples differ (matched by index)" in result.output
    assert "right only in exp_V1:test: 0, only in exp_V2:test: 1" in result.output
    table = result.output.split("samples differ")[1].splitlines()[2:]
    assert [line.split() for line in table] == [["2", "2", "0", "2"], ["3", "3", "0", "1"]]

    data = json.loads(_invoke("compare", "exp:1", "exp:2", "--json").output)
    assert [row["id"] for row in data["predictions"]["differing"]] == [2, 3]


def test_samples_are_matched_by_id_when_records_have_one(project):
    shuffled = project / "experiments" / "exp_V2" / "test-test" / "records.jsonl"
    records = [json.loads(line) for line in shuffled.read_text().splitlines()]
    ids = ["a", "b", "c", "d"]
    for record, sample_id in zip(records, ids):
        record["id"] = sample_id
    shuffled.write_text("".join(json.dumps(r) + "\n" for r in reversed(records)))
    first = project / "experiments" / "exp_V1" / "test-test" / "records.jsonl"
    first.write_text("".join(json.dumps(r) + "\n" for r in _records([0, 1, 0, 0], [0, 1, 2, 3], ids)))

    data = json.loads(_invoke("compare", "exp:1", "exp:2", "--json").output)
    assert data["predictions"]["id_field"] == "id"
    assert [row["id"] for row in data["predictions"]["differing"]] == ["c", "d"]


def test_predictions_of_different_test_data_are_not_compared(project):
    refused = _invoke("compare", "exp:1", "other:1")
    assert refused.exit_code == 2
    assert "read different data (node output)" in refused.output and "--force" in refused.output
    result = _invoke("compare", "exp:1", "other:1", "--force")
    assert result.exit_code == 0, result.output
    assert "tested different data (node output has another cache key)" in result.output


def test_test_runs_of_different_splits_are_refused_and_never_matched_by_index(project):
    summary = project / "experiments" / "exp_V2" / "test-test" / "summary.json"
    summary.write_text(json.dumps({"data": {"output": "k1"}, "split": "valid"}))
    (project / "experiments" / "exp_V1" / "test-test" / "summary.json").write_text(json.dumps({"data": {"output": "k1"}, "split": "test"}))
    refused = _invoke("compare", "exp:1", "exp:2")
    assert refused.exit_code == 2
    assert "predicted different splits (exp_V1: test, exp_V2: valid)" in refused.output
    forced = _invoke("compare", "exp:1", "exp:2", "--force")
    assert forced.exit_code == 0, forced.output
    assert "predicted split 'test'" in forced.output and "samples differ" not in forced.output


def test_a_dummy_version_is_marked_and_not_compared_with_a_real_one(project):
    folder = project / "experiments" / "exp_V2"
    (folder / "job.json").write_text(json.dumps({"dummy": True}))
    refused = _invoke("compare", "exp:1", "exp:2")
    assert refused.exit_code == 2 and "exp_V2 ran on dummy data" in refused.output
    forced = _invoke("compare", "exp:1", "exp:2", "--force")
    assert "completed (dummy)" in forced.output


def test_bad_selections_name_what_exists(project):
    assert "has no version 9; it has 1, 2" in _invoke("compare", "exp:9").output
    assert "has no test run 'valid'" in _invoke("compare", "exp:1:valid").output
    missing = _invoke("compare", "nope")
    assert missing.exit_code == 2 and "Experiments with versions: exp, other" in missing.output
    assert _invoke("compare", "exp:x").exit_code == 2


def test_plot_draws_learning_curves_into_a_png(project, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image

    out = tmp_path / "pics" / "curves.png"
    result = _invoke("plot", "exp", "other", "--metric", "val_loss", "-o", str(out))
    assert result.exit_code == 0, result.output
    pixels = matplotlib.image.imread(str(out))
    assert pixels.shape[0] > 200 and pixels.shape[1] > 400
    assert pixels.std() > 0.01  # not a blank canvas

    unknown = _invoke("plot", "exp", "--metric", "val/acc", "-o", str(out))
    assert unknown.exit_code == 2 and "no version logged it. Metrics logged: val/loss" in unknown.output


def test_plot_without_matplotlib_names_the_extra(project, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what an uninstalled package looks like to import
    result = _invoke("plot", "exp", "--metric", "val/loss", "-o", str(tmp_path / "x.png"))
    assert result.exit_code == 2
    assert "needs matplotlib" in result.output and "pip install 'runway-core[plot]'" in result.output


def _example(project_root: Path) -> None:
    (project_root / "configs" / "experiments" / "tiny.jsonnet").write_text("import 'experiments/example.jsonnet'")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_pipeline_png_is_drawn_by_graphviz(project, tmp_path):
    _example(project)
    out = tmp_path / "dag.png"
    result = _invoke("pipeline", "show", "tiny", "--format", "png", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 1000


def test_pipeline_png_without_dot_says_so(project, tmp_path, monkeypatch):
    _example(project)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = _invoke("pipeline", "show", "tiny", "--format", "png", "-o", str(tmp_path / "dag.png"))
    assert result.exit_code == 2 and "needs Graphviz's `dot` program on PATH" in result.output
    assert "-o FILE.png" in _invoke("pipeline", "show", "tiny", "--format", "png").output


def test_versions_trained_on_different_data_get_a_note(project):
    for label, key in (("exp_V1", "k1"), ("exp_V2", "k9")):
        (project / "experiments" / label / "provenance.json").write_text(json.dumps({"data": {"output": key}}))
    result = _invoke("compare", "exp:1", "exp:2")
    assert result.exit_code == 0, result.output
    assert "exp_V1 and exp_V2 trained on different data (node output)" in result.output
