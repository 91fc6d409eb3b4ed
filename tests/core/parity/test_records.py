"""Rich per-sample records: tensors, images beside the records, merging runs, validation epochs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from runway.experiment.executor import Executor, ExecutorContext
from runway.experiment.records import JSON_COLUMNS_KEY, export_jsonl, merge_records, read_records, write_records

FORMATS = pytest.mark.parametrize("name", ["records.parquet", "records.jsonl"])


def _image(colour: tuple[int, int, int], size: tuple[int, int] = (4, 3)):
    Image = pytest.importorskip("PIL.Image", reason="Pillow is a test dependency (runway-core[test])")
    return Image.new("RGB", size, colour)


@FORMATS
def test_tensors_become_lists_and_numbers(tmp_path: Path, name: str) -> None:
    path = write_records(tmp_path / name, [
        {"index": 0, "prediction": torch.tensor(3), "target": np.int64(2),
         "scores": torch.tensor([[0.5, 0.25], [1.0, 2.0]]), "extra": {"mask": np.array([1, 0])}},
    ])
    assert read_records(path) == [
        {"index": 0, "prediction": 3, "target": 2, "scores": [[0.5, 0.25], [1.0, 2.0]], "extra": {"mask": [1, 0]}}
    ]


@FORMATS
def test_images_are_saved_as_png_and_referenced_by_relative_path(tmp_path: Path, name: str) -> None:
    red, green, blue = _image((255, 0, 0)), _image((0, 255, 0)), _image((0, 0, 255))
    from PIL import Image
    out = tmp_path / "test-x"
    write_records(out / name, [
        {"index": 0, "id": "a/1", "prediction": red, "target": 1},
        {"index": 1, "id": "b", "prediction": [green, blue], "target": 0},
    ])
    records = read_records(out)
    assert records[0]["prediction"] == "images/a_1-prediction.png"
    assert records[1]["prediction"] == ["images/b-prediction-0.png", "images/b-prediction-1.png"]
    with Image.open(out / records[1]["prediction"][1]) as saved:
        assert saved.format == "PNG" and saved.getpixel((0, 0)) == (0, 0, 255) and saved.size == (4, 3)
    # a second write of the same folder leaves no stale image behind
    write_records(out / name, [{"index": 0, "id": "b", "prediction": red}])
    assert sorted(p.name for p in (out / "images").iterdir()) == ["b-prediction.png"]
    assert not list(out.glob(".*.tmp")) and not list((out / "images").glob(".*.tmp"))


class _ImageExecutor(Executor):
    """Predicts an image per sample (a real executor, tiny)."""

    def build_model(self, model_config):
        return torch.nn.Linear(2, 2)

    def step(self, batch):
        return {"loss": torch.tensor(0.0), "predictions": [_image((int(v), 0, 0)) for v in batch["x"][:, 0]],
                "targets": batch["y"]}


def test_an_executor_can_predict_images(tmp_path: Path) -> None:
    context = ExecutorContext(experiment="e", version=1, version_dir=tmp_path)
    executor = _ImageExecutor({"executor": {}}, context)
    batch = {"x": torch.tensor([[10.0, 1.0], [20.0, 2.0]]), "y": torch.tensor([1, 0])}
    records = [{"index": i, **r} for i, r in enumerate(executor.predict_step(batch, 0))]
    write_records(tmp_path / "test-img" / "records.parquet", records)
    saved = read_records(tmp_path / "test-img")
    assert [r["prediction"] for r in saved] == ["images/0-prediction.png", "images/1-prediction.png"]
    assert [r["target"] for r in saved] == [1, 0]
    assert saved[0]["input"] == {"x": [10.0, 1.0]}


def test_merge_by_sample_id() -> None:
    beam = [{"id": "s1", "input": "a", "target": 1, "prediction": 1}, {"id": "s2", "input": "b", "target": 0, "prediction": 1}]
    greedy = [{"id": "s2", "input": "b", "target": 0, "prediction": 0}, {"id": "s3", "input": "c", "target": 1, "prediction": 1}]
    merged = merge_records([beam, greedy], labels=["beam", "greedy"])
    assert merged == [
        {"id": "s1", "input": "a", "target": 1, "prediction": 1, "runs": {"beam": {}}},
        {"id": "s2", "input": "b", "target": 0, "runs": {"beam": {"prediction": 1}, "greedy": {"prediction": 0}}},
        {"id": "s3", "input": "c", "target": 1, "prediction": 1, "runs": {"greedy": {}}},
    ]
    with pytest.raises(ValueError, match="two records with id 's1'"):
        merge_records([beam + beam[:1]])
    with pytest.raises(ValueError, match="labels must differ"):
        merge_records([beam, greedy], labels=["x", "x"])


def test_infer_twice_then_merge_and_validation_epochs(trained: Path, invoke) -> None:
    project = trained
    assert invoke("infer", "tiny", "last", "--checkpoint", "last").exit_code == 0
    version = project / "experiments" / "tiny_V1"
    merged = merge_records([version / "test-test", version / "test-last"])
    best, last = read_records(version / "test-test"), read_records(version / "test-last")
    assert len(merged) == len(best) == len(last) == 40
    assert all("target" in r and "input" in r for r in merged)  # the same data in both runs: shared fields
    assert all(set(r["runs"]) == {"test", "last"} for r in merged)
    for record, b, l in zip(merged, best, last):
        assert record["index"] == b["index"]
        assert record.get("prediction", record["runs"]["test"].get("prediction")) == b["prediction"]
        assert record.get("prediction", record["runs"]["last"].get("prediction")) == l["prediction"]

    folder = version / "train" / "validation"
    assert sorted(p.name for p in folder.iterdir()) == ["epoch-0.parquet", "epoch-1.parquet"]  # no sanity-check file
    epochs = [read_records(folder / f"epoch-{n}.parquet") for n in (0, 1)]
    assert [len(e) for e in epochs] == [30, 30]  # the validation split: 15% of 200
    assert [r["index"] for r in epochs[1]] == list(range(30))
    assert all(isinstance(r["prediction"], int) and isinstance(r["target"], int) for r in epochs[1])
    assert [r["target"] for r in epochs[0]] == [r["target"] for r in epochs[1]]
    metrics = json.loads((version / "test-test" / "metrics.json").read_text())
    assert "accuracy" in metrics

    # the JSON-lines view, for grep
    shown = invoke("show", "tiny", "--records", "test")
    assert shown.exit_code == 0, shown.output
    assert [json.loads(line) for line in shown.output.splitlines()] == best
    epoch = invoke("show", "tiny", "--validation-epoch", "1")
    assert [json.loads(line) for line in epoch.output.splitlines()] == epochs[1]
    assert invoke("show", "tiny", "--records", "nope").exit_code == 2


def test_validation_records_can_be_turned_off(project: Path, invoke) -> None:
    assert invoke("train", "tiny", "--opts", "+train.validation_records=false").exit_code == 0
    assert not (project / "experiments" / "tiny_V1" / "train" / "validation").exists()


def test_parquet_records_read_back_exactly_as_written(tmp_path: Path) -> None:
    records = [
        {"index": 0, "prediction": 1, "score": 0.5, "label": "cat", "ok": True, "maybe": None, "mixed": 1,
         "big": 2**70, "nested": {"b": [1, 2], "a": None}},
        {"index": 1, "prediction": 2, "score": float("inf"), "label": "dog", "ok": False, "maybe": 3, "mixed": "x",
         "big": 1, "only_here": [1.5]},
        {"index": 2, "prediction": 3, "score": 1.0, "label": "", "ok": True, "maybe": None, "mixed": 2.5, "big": 0},
    ]
    path = write_records(tmp_path / "records.parquet", records)
    assert read_records(path) == records
    assert read_records(tmp_path) == records
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    assert str(schema.field("prediction").type) == "int64"  # plain columns are native, for any Parquet reader
    assert str(schema.field("score").type) == "double"
    assert set(json.loads(schema.metadata[JSON_COLUMNS_KEY])) == {"mixed", "big", "nested", "only_here"}
    assert list(export_jsonl(records[:1])) == [json.dumps(records[0], sort_keys=True)]
    # the grep view is strict JSON: an infinite score is null there (and stays infinite in the file)
    assert json.loads(list(export_jsonl(records[1:2]))[0], parse_constant=pytest.fail)["score"] is None


def test_no_records_and_empty_records(tmp_path: Path) -> None:
    assert read_records(write_records(tmp_path / "a.parquet", [])) == []
    assert read_records(write_records(tmp_path / "b.parquet", [{}, {}])) == [{}, {}]


def test_records_of_older_versions_are_still_read(tmp_path: Path) -> None:
    (tmp_path / "records.jsonl").write_text('{"index": 0, "prediction": 1}\n')
    assert read_records(tmp_path) == [{"index": 0, "prediction": 1}]
