"""Each transform of the hf plugin on small, real datasets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import Dataset, DatasetDict

import runway_hf
from runway.errors import PipelineError
from runway_hf.functions import forget_hf_function
from runway_hf.transforms import (
    HFDatasetFilter,
    HFDatasetMap,
    HFDatasetRemoveColumns,
    HFDatasetRenameColumns,
    HFDatasetSelectColumns,
    HFDatasetSelectRange,
    HFDatasetShuffle,
    HFDatasetTokenizeTransform,
    HFDatasetTransform,
    LoadHFDataset,
    HFDatasetSplit,
    SplitHFDatasetToTrainTestValidation,
)


def numbers(n: int = 20) -> Dataset:
    return Dataset.from_dict({"id": list(range(n)), "text": [f"row {i}" for i in range(n)], "label": [i % 2 for i in range(n)]})


def two_splits() -> DatasetDict:
    return DatasetDict({"train": numbers(20), "test": numbers(6)})


# ------------------------------------------------------------------ loading


def test_load_csv_relative_to_the_project(make_transform, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.csv").write_text("text,label\nhello,1\nbye,0\n", encoding="utf-8")
    loader = make_transform(LoadHFDataset, dataset_path="csv", data_files="data/rows.csv")
    loaded = loader(None)
    assert isinstance(loaded, DatasetDict)
    assert loaded["train"]["text"] == ["hello", "bye"]


def test_load_json_per_split_and_one_split(make_transform, tmp_path: Path) -> None:
    for split, rows in (("train", [{"a": 1}, {"a": 2}]), ("test", [{"a": 3}])):
        (tmp_path / f"{split}.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    files = {"train": "train.jsonl", "test": "test.jsonl"}
    both = make_transform(LoadHFDataset, dataset_path="json", data_files=files)(None)
    assert {name: ds["a"] for name, ds in both.items()} == {"train": [1, 2], "test": [3]}
    only_test = make_transform(LoadHFDataset, dataset_path="json", data_files=files, split="test")(None)
    assert isinstance(only_test, Dataset) and only_test["a"] == [3]


def test_load_names_a_missing_data_file(make_transform, tmp_path: Path) -> None:
    loader = make_transform(LoadHFDataset, dataset_path="csv", data_files=["data/absent.csv"])
    with pytest.raises(PipelineError, match=r"data_files: file 'data/absent.csv' does not exist \(looked at .*absent.csv\)"):
        loader(None)


def test_load_from_disk_and_dummy_rows(make_transform, tmp_path: Path) -> None:
    DatasetDict({"train": numbers(150)}).save_to_disk(str(tmp_path / "saved"))
    loader = make_transform(LoadHFDataset, load_from_disk="saved", split="train")
    assert len(loader(None)) == 150
    loader.use_dummy_data = True
    assert len(loader(None)) == 100


def test_load_needs_exactly_one_source(make_transform) -> None:
    with pytest.raises(PipelineError, match="exactly one of setup_kwargs.dataset_name"):
        make_transform(LoadHFDataset)
    with pytest.raises(PipelineError, match="exactly one of"):
        make_transform(LoadHFDataset, dataset_path="csv", load_from_disk="x")


def test_loader_keys_its_files() -> None:
    assert set(LoadHFDataset.file_inputs) == {"data_files", "load_from_disk"}
    assert HFDatasetTokenizeTransform.file_inputs == ("tokenizer_path",)


# ---------------------------------------------------------------- tokenize


def test_tokenize_prefixes_outputs_with_the_field_and_renames(make_transform, tokenizer_dir: Path) -> None:
    data = DatasetDict({"train": Dataset.from_dict({"_linearized": ["inform restaurant name"], "target": ["hello"]})})
    tokenize = make_transform(
        HFDatasetTokenizeTransform,
        tokenizer_config={"tokenizer_path": str(tokenizer_dir), "tokenizer_class": "PreTrainedTokenizerFast"},
        tokenize_fields_list=["target", "_linearized"],
        rename_col_dict={
            "target_input_ids": "labels",
            "target_attention_mask": "output_mask",
            "_linearized_input_ids": "input_ids",
            "_linearized_attention_mask": "attention_mask",
        },
    )
    out = tokenize(data)["train"]
    assert {"labels", "output_mask", "input_ids", "attention_mask", "_linearized", "target"} <= set(out.column_names)
    row = out[0]
    assert len(row["input_ids"]) == len(row["attention_mask"]) > 2
    assert tokenize.tokenizer.decode(row["input_ids"], skip_special_tokens=True) == "inform restaurant name"


def test_tokenize_max_length_and_padding(make_transform, tokenizer_dir: Path) -> None:
    data = Dataset.from_dict({"text": ["hello", "the film was wonderful and great overall"]})
    tokenize = make_transform(
        HFDatasetTokenizeTransform,
        tokenizer_path=str(tokenizer_dir),
        tokenize_fields_list="text",
        max_length=6,
        padding="max_length",
    )
    out = tokenize(data)
    assert [len(ids) for ids in out["text_input_ids"]] == [6, 6]
    assert out["text_attention_mask"][0][-1] == 0


def test_tokenize_names_a_missing_column_and_folder(make_transform, tokenizer_dir: Path) -> None:
    tokenize = make_transform(HFDatasetTokenizeTransform, tokenizer_path=str(tokenizer_dir), tokenize_fields_list=["body"])
    with pytest.raises(PipelineError, match="no column 'body'; columns: text"):
        tokenize(Dataset.from_dict({"text": ["a"]}))
    with pytest.raises(PipelineError, match="tokenizer_path: folder 'nowhere' does not exist"):
        make_transform(HFDatasetTokenizeTransform, tokenizer_path="nowhere", tokenize_fields_list=["text"])


# ------------------------------------------------------------------- split


def test_split_fractions_are_seeded_and_disjoint(make_transform) -> None:
    split = make_transform(HFDatasetSplit, test_size=0.2, valid_size=0.1, seed=3)
    first = split(DatasetDict({"train": numbers(100)}))
    again = split(DatasetDict({"train": numbers(100)}))
    assert {name: len(ds) for name, ds in first.items()} == {"train": 70, "test": 20, "validation": 10}
    assert first["test"]["id"] == again["test"]["id"]
    ids = [set(ds["id"]) for ds in first.values()]
    assert set.union(*ids) == set(range(100)) and sum(map(len, ids)) == 100


def test_split_row_counts_and_other_splits_pass_through(make_transform) -> None:
    data = DatasetDict({"train": numbers(30), "extra": numbers(4)})
    out = make_transform(HFDatasetSplit, test_size=5, valid_size=3)(data)
    assert {name: len(ds) for name, ds in out.items()} == {"extra": 4, "train": 22, "test": 5, "validation": 3}


def test_split_errors(make_transform) -> None:
    with pytest.raises(PipelineError, match="both be fractions or both row counts"):
        make_transform(HFDatasetSplit, test_size=0.2, valid_size=3)
    split = make_transform(HFDatasetSplit, test_size=0.2)
    with pytest.raises(PipelineError, match="already has split\\(s\\) 'test'"):
        split(two_splits())


def test_seed_split_keeps_runway_for_mls_meaning(make_transform) -> None:
    data = DatasetDict({"train": numbers(100), "test": numbers(7), "extra": numbers(3)})
    split = make_transform(
        SplitHFDatasetToTrainTestValidation, test_size=0.2, valid_size=0.1, train_test_split_kwargs={"seed": 5}
    )
    first, again = split(data), split(data)
    # the input's own test and extra splits are dropped, as runway_for_ml did; its
    # sizes too: 0.2 + 0.1 is 0.30000000000000004 of 100 rows, which datasets rounds up
    assert {name: len(ds) for name, ds in first.items()} == {"train": 69, "test": 20, "validation": 11}
    assert first["validation"]["id"] == again["validation"]["id"]
    ids = [set(ds["id"]) for ds in first.values()]
    assert set.union(*ids) == set(range(100)) and sum(map(len, ids)) == 100
    two = make_transform(SplitHFDatasetToTrainTestValidation, test_size=4)(data)
    assert {name: len(ds) for name, ds in two.items()} == {"train": 96, "test": 4}
    with pytest.raises(PipelineError, match="splits the input's 'train' split"):
        make_transform(SplitHFDatasetToTrainTestValidation, test_size=2)(DatasetDict({"valid": numbers(9)}))


# ----------------------------------------------------------------- columns


def test_column_operations(make_transform) -> None:
    data = two_splits()
    renamed = make_transform(HFDatasetRenameColumns, rename_col_dict={"text": "sentence"})(data)
    assert renamed["train"].column_names == ["id", "sentence", "label"]
    selected = make_transform(HFDatasetSelectColumns, columns=["label", "id"])(data)
    assert selected["test"].column_names == ["label", "id"]
    removed = make_transform(HFDatasetRemoveColumns, columns="text", splits_to_process=["train"])(data)
    assert removed["train"].column_names == ["id", "label"]
    assert removed["test"].column_names == ["id", "text", "label"]  # not processed


def test_column_errors_name_the_columns(make_transform) -> None:
    with pytest.raises(PipelineError, match="no column 'nope' in split 'train'; columns: id, text, label"):
        make_transform(HFDatasetSelectColumns, columns=["nope"])(two_splits())
    with pytest.raises(PipelineError, match="splits_to_process: no split 'dev' in the input; it has 'train', 'test'"):
        make_transform(HFDatasetRemoveColumns, columns="text", splits_to_process="dev")(two_splits())
    kept = make_transform(HFDatasetRemoveColumns, columns=["nope", "text"], missing_ok=True)(numbers(3))
    assert kept.column_names == ["id", "label"]


# -------------------------------------------------------------------- rows


@pytest.fixture
def registered_functions():
    @runway_hf.register_hf_function
    def is_even(example, field="id"):
        return example[field] % 2 == 0

    @runway_hf.register_hf_function(name="add_length")
    def length_of(example):
        return {"length": len(example["text"])}

    yield
    forget_hf_function("is_even")
    forget_hf_function("add_length")


def test_filter_and_map_by_registered_name(make_transform, registered_functions) -> None:
    kept = make_transform(HFDatasetFilter, function_name="is_even", fn_kwargs={"field": "label"})(numbers(10))
    assert kept["label"] == [0] * 5
    mapped = make_transform(HFDatasetMap, function_name="add_length", remove_columns="label", num_proc=2)(numbers(10))
    assert mapped.column_names == ["id", "text", "length"]
    assert mapped["length"][:2] == [5, 5]


def test_unknown_function_lists_the_registered_ones(make_transform, registered_functions) -> None:
    with pytest.raises(PipelineError, match=r"unknown hf function 'is_odd'\..*Registered: .*add_length.*is_even"):
        make_transform(HFDatasetFilter, function_name="is_odd")


def test_a_function_name_is_owned_by_one_module() -> None:
    def clash(example):
        return True

    clash.__module__ = "elsewhere"
    runway_hf.register_hf_function(clash, name="owned_once")
    try:
        other = lambda example: True  # noqa: E731
        with pytest.raises(PipelineError, match="registered twice: by module 'elsewhere' and by module"):
            runway_hf.register_hf_function(other, name="owned_once")
    finally:
        forget_hf_function("owned_once")


def test_shuffle_is_seeded_and_select_range_clips(make_transform) -> None:
    one = make_transform(HFDatasetShuffle, seed=7)(numbers(50))["id"]
    two = make_transform(HFDatasetShuffle, seed=7)(numbers(50))["id"]
    other = make_transform(HFDatasetShuffle, seed=8)(numbers(50))["id"]
    assert one == two != other and sorted(one) == list(range(50))
    sliced = make_transform(HFDatasetSelectRange, start=5, stop=1000)(two_splits())
    assert sliced["train"]["id"] == list(range(5, 20)) and sliced["test"]["id"] == [5]
    with pytest.raises(PipelineError, match="stop: 2 is before start 3"):
        make_transform(HFDatasetSelectRange, start=3, stop=2)


def test_num_proc_must_be_positive(make_transform, registered_functions) -> None:
    with pytest.raises(PipelineError, match="num_proc: expected a positive integer, got 0"):
        make_transform(HFDatasetFilter, function_name="is_even", _num_proc=0)


# -------------------------------------------------------------- the base


class Upper(HFDatasetTransform):
    def setup(self, field: str = "text", splits_to_process=None) -> None:
        super().setup(splits_to_process=splits_to_process)
        self.field = field

    def _call_split(self, dataset, split):
        return self.map(dataset, lambda row: {self.field: row[self.field].upper()})


def test_a_project_transform_on_a_dict_of_datasets_and_a_wrong_input(make_transform) -> None:
    upper = make_transform(Upper, splits_to_process=["test"])
    out = upper({"train": numbers(2), "test": numbers(2)})  # a plain dict becomes a DatasetDict
    assert isinstance(out, DatasetDict)
    assert out["test"]["text"] == ["ROW 0", "ROW 1"] and out["train"]["text"] == ["row 0", "row 1"]
    with pytest.raises(PipelineError, match="expects a datasets.Dataset or DatasetDict, got a builtins.list"):
        upper([{"text": "a"}])


def test_apply_mapping_renames_and_keeps_only_mapped_columns(make_transform) -> None:
    upper = make_transform(Upper)
    mapped = upper._apply_mapping(two_splits(), {"text": "sentence", "label": "label"})
    assert mapped["train"].column_names == ["sentence", "label"]
    assert upper._apply_mapping([{"a": 1, "b": 2}], {"a": "x"}) == [{"x": 1}]  # rows: core's behaviour
