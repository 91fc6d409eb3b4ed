"""The seed's pipeline shape in jsonnet, run with ``runway prepare`` and cached as Arrow."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from runway.cli.main import cli
from runway.pipeline.cache import META_FILE, node_folder_name
from runway.pipeline.transform import forget_project_transforms
from runway_hf.functions import forget_hf_function

from hf_seed_project import DATA_FILES_BY_SPLIT, write_seed_config, write_seed_project

NODES = ("input:LoadSGDData", "process:Linearize", "process:DropEmpty", "output:T5-Tokenize")


@pytest.fixture
def seed_project(tmp_path: Path, tokenizer_dir: Path, monkeypatch: pytest.MonkeyPatch, runway_plugins) -> Iterator[Path]:
    root = write_seed_project(tmp_path / "project", tokenizer_dir)
    monkeypatch.chdir(root)
    yield root
    # the project's modules are imported by name; the next test's project has the same names
    forget_project_transforms("data_processing")
    forget_hf_function("has_acts")
    for name in [m for m in sys.modules if m == "data_processing" or m.startswith("data_processing.")]:
        del sys.modules[name]


def prepare(*args: str) -> str:
    result = CliRunner().invoke(cli, ["prepare", "sgd", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def entry_meta(root: Path, node: str) -> dict:
    latest = json.loads((root / "local_cache" / node_folder_name(node) / "latest.json").read_text())
    return json.loads((root / "local_cache" / node_folder_name(node) / latest["key"] / META_FILE).read_text())


def calls(root: Path) -> int:
    log = root / "calls.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_second_prepare_loads_every_node_from_the_arrow_cache(seed_project: Path) -> None:
    first = prepare()
    assert calls(seed_project) == 1
    assert "inspect process:Linearize output" in first and "datasets.DatasetDict" in first
    metas = {node: entry_meta(seed_project, node) for node in NODES}
    assert {node: m["format"] for node, m in metas.items()} == {node: "arrow" for node in NODES}

    second = prepare()
    assert calls(seed_project) == 1  # the project's transform did not run again
    assert "LOAD output:T5-Tokenize" in second and "RUN " not in second
    assert {node: entry_meta(seed_project, node)["key"] for node in NODES} == {n: m["key"] for n, m in metas.items()}


def test_the_output_is_tokenized_filtered_and_memory_mapped(seed_project: Path, runway_plugins) -> None:
    from datasets import DatasetDict

    from runway.config import load_config
    from runway.pipeline import run_pipeline

    prepare()
    config = load_config(seed_project / "configs" / "experiments" / "sgd.jsonnet")
    config = getattr(config, "config", config)
    out = run_pipeline(config, seed_project, plugins=runway_plugins).outputs["output:T5-Tokenize"]
    assert isinstance(out, DatasetDict)
    train = out["train"]
    assert len(train) == 12  # 15 dialogues, the 3 without acts filtered out
    assert {"input_ids", "attention_mask", "labels", "output_mask"} <= set(train.column_names)
    entry = seed_project / "local_cache" / node_folder_name("output:T5-Tokenize")
    assert all(Path(f["filename"]).is_relative_to(entry) for f in train.cache_files)  # read from the entry, mapped


def test_a_downstream_change_reruns_only_downstream_and_keeps_entries_clean(seed_project: Path, tokenizer_dir: Path) -> None:
    prepare()
    write_seed_config(seed_project, tokenizer_dir, max_length=8)
    output = prepare()
    assert calls(seed_project) == 1  # the tokenizer ran on the loaded (mapped) entry of the filter
    assert "RUN  output:T5-Tokenize" in output and "LOAD process:DropEmpty" in output
    # running on a loaded entry left no stray datasets cache files in it, so it still verifies
    stray = list((seed_project / "local_cache").rglob("cache-*.arrow"))
    assert stray == []
    third = prepare()
    assert "not used" not in third and "RUN " not in third


def test_editing_a_data_file_reruns_from_the_loader(seed_project: Path) -> None:
    prepare()
    train = seed_project / "data" / "sgd" / "train.jsonl"
    train.write_text(train.read_text() + json.dumps({"acts": ["thank you"], "target": "ok"}) + "\n")
    output = prepare()
    assert "RUN  input:LoadSGDData" in output
    assert calls(seed_project) == 2


def test_a_missing_data_file_is_a_user_error_naming_it(seed_project: Path) -> None:
    (seed_project / "data" / "sgd" / "test.jsonl").unlink()
    result = CliRunner().invoke(cli, ["prepare", "sgd"])
    assert result.exit_code == 2
    assert "data/sgd/test.jsonl" in result.output and "does not exist" in result.output
    assert "Traceback" not in result.output


def test_data_files_by_split(seed_project: Path, tokenizer_dir: Path) -> None:
    write_seed_config(seed_project, tokenizer_dir, data_files=DATA_FILES_BY_SPLIT)
    prepare()
    assert entry_meta(seed_project, "output:T5-Tokenize")["format"] == "arrow"
