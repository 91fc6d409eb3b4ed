"""The ``arrow`` cache format and the dataset summary, through the plugin's hooks."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from datasets import Dataset, DatasetDict

from runway.pipeline.cache import CacheStore
from runway.pipeline.formats import format_registry
from runway_hf.arrow_format import ArrowFormat


def sample() -> DatasetDict:
    return DatasetDict(
        {
            "train": Dataset.from_dict({"text": ["a", "b", "c"], "ids": [[1, 2], [3], []]}),
            "test": Dataset.from_dict({"text": ["d"], "ids": [[4]]}),
        }
    )


def test_datasets_go_to_arrow_and_everything_else_elsewhere(runway_plugins) -> None:
    formats = format_registry(runway_plugins)
    assert formats.names().index("arrow") < formats.names().index("json")
    assert formats.for_object(sample()).name == "arrow"
    assert formats.for_object(sample()["train"]).name == "arrow"
    assert formats.for_object({"a": [1]}).name == "json"


def test_an_entry_written_in_a_temporary_folder_loads_from_its_final_path(tmp_path: Path) -> None:
    fmt = ArrowFormat()
    tmp = tmp_path / ".tmp-entry" / "data"
    tmp.mkdir(parents=True)
    fmt.save(sample(), tmp)
    final = tmp_path / "entry"
    os.rename(tmp.parent, final)
    loaded = fmt.load(final / "data")
    assert isinstance(loaded, DatasetDict)
    assert loaded["train"]["ids"] == [[1, 2], [3], []] and loaded["test"]["text"] == ["d"]
    files = [Path(f["filename"]) for split in loaded.values() for f in split.cache_files]
    assert files and all(f.is_relative_to(final) for f in files)  # memory-mapped from the final path
    assert not (tmp_path / ".tmp-entry").exists()


def test_a_single_dataset_round_trips(tmp_path: Path) -> None:
    fmt = ArrowFormat()
    fmt.save(sample()["train"], tmp_path)
    loaded = fmt.load(tmp_path)
    assert isinstance(loaded, Dataset) and loaded["text"] == ["a", "b", "c"]


def test_the_pipeline_cache_stores_and_verifies_arrow_entries(tmp_path: Path, runway_plugins) -> None:
    store = CacheStore(tmp_path / "cache", format_registry(runway_plugins))
    key = "ab" * 32
    meta = store.save("output:Tokens", key, {"transform": "X"}, sample(), duration_s=0.1)
    assert meta["format"] == "arrow"
    data, loaded_meta = store.load("output:Tokens", key)
    assert loaded_meta["checksum"] == meta["checksum"]
    assert data["train"]["text"] == ["a", "b", "c"]


def test_pickle_of_a_loaded_dataset_refers_to_its_files(tmp_path: Path) -> None:
    # what crosses to a data-loader worker is the file reference, not the rows
    fmt = ArrowFormat()
    big = Dataset.from_dict({"text": ["x" * 1000] * 2000})
    fmt.save(big, tmp_path)
    loaded = fmt.load(tmp_path)
    assert len(pickle.dumps(loaded)) < 100_000 < len(pickle.dumps(big))


def test_summarize_data_describes_splits_features_and_rows(runway_plugins) -> None:
    summary = runway_plugins.hook.summarize_data(data=sample())
    assert summary["type"] == "datasets.DatasetDict"
    assert summary["splits"] == {"train": 3, "test": 1}
    assert summary["fields"]["train"] == ["text", "ids"]
    assert "int64" in summary["features"]["train"]["ids"]
    assert summary["rows"]["test"] == [{"text": "d", "ids": "[4]"}]
    single = runway_plugins.hook.summarize_data(data=sample()["train"])
    assert single["length"] == 3 and single["type"] == "datasets.Dataset"
    assert runway_plugins.hook.summarize_data(data=[1, 2])["type"] == "builtins.list"  # not ours: core's
