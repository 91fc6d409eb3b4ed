"""``datasets`` map and filter transforms run as shards (``setup_kwargs._shards``), on local Arrow files."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from runway.cli.main import cli
from runway.pipeline.cache import CacheStore, node_folder_name
from runway.pipeline.formats import format_registry
from runway.pipeline.transform import forget_project_transforms
from runway_hf.functions import forget_hf_function

pytestmark = pytest.mark.slow

# Each batch appends "<first id>-<last id>" to $SHARD_TEST_LOG; a batch holding the id in
# $SHARD_TEST_KILL_ID kills its process. Environment variables, not fn_kwargs: they must
# not change the cache key that the sharded and the unsharded runs share.
FUNCTIONS = '''
import os
import signal

import runway_hf


@runway_hf.register_hf_function
def square(batch):
    ids = batch["id"]
    log = os.environ.get("SHARD_TEST_LOG")
    if log and ids:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(f"{ids[0]}-{ids[-1]}\\n")
    kill = os.environ.get("SHARD_TEST_KILL_ID")
    if kill and int(kill) in ids:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"square": [i * i for i in ids], "shout": [t.upper() for t in batch["text"]]}


@runway_hf.register_hf_function
def not_third(example):
    return example["id"] % 3 != 0
'''

TRAIN, TEST = 400, 37  # the test split's ids start at 1000


def config(map_shards: int | None, filter_shards: int | None, **map_kwargs: object) -> dict:
    def kwargs(shards: int | None, **rest: object) -> dict:
        return {**rest, **({"_shards": shards} if shards else {})}

    return {
        "data_pipeline": {
            "transforms": {
                "input:Load": {"transform_name": "LoadHFDataset", "setup_kwargs": {"load_from_disk": "data/rows"}},
                "process:Square": {
                    "transform_name": "HFDatasetMap",
                    "input_node": "input:Load",
                    "setup_kwargs": kwargs(map_shards, function_name="square", batched=True, **map_kwargs),
                },
                "output:Filter": {
                    "transform_name": "HFDatasetFilter",
                    "input_node": "process:Square",
                    "setup_kwargs": kwargs(filter_shards, function_name="not_third"),
                },
            }
        }
    }


@pytest.fixture
def hf_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runway_plugins) -> Iterator[Path]:
    from datasets import Dataset, DatasetDict

    root = tmp_path / "project"
    (root / "data_processing").mkdir(parents=True)
    (root / "configs" / "experiments").mkdir(parents=True)
    (root / "runway.toml").write_text('data_code_dirs = ["data_processing"]\n', encoding="utf-8")
    (root / "data_processing" / "functions.py").write_text(FUNCTIONS, encoding="utf-8")
    DatasetDict(
        {
            "train": Dataset.from_dict({"id": list(range(TRAIN)), "text": [f"row {i}" for i in range(TRAIN)]}),
            "test": Dataset.from_dict({"id": list(range(1000, 1000 + TEST)), "text": [f"t {i}" for i in range(TEST)]}),
        }
    ).save_to_disk(str(root / "data" / "rows"))
    monkeypatch.chdir(root)
    monkeypatch.setenv("SHARD_TEST_LOG", str(root / "batches.log"))
    yield root
    forget_project_transforms("data_processing")
    for name in ("square", "not_third"):
        forget_hf_function(name)
    for module in [m for m in sys.modules if m == "data_processing" or m.startswith("data_processing.")]:
        del sys.modules[module]


def write(root: Path, data: dict) -> None:
    (root / "configs" / "experiments" / "shards.jsonnet").write_text(json.dumps(data), encoding="utf-8")


def prepare(*args: str):
    return CliRunner().invoke(cli, ["prepare", "shards", *args])


def batches(root: Path) -> list[str]:
    log = root / "batches.log"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return sorted(lines, key=lambda s: int(s.split("-")[0]))


def latest(root: Path, node: str, cache: str, plugins) -> tuple[str, dict, dict]:
    """(key, {split: rows}, {split: features}) of a node's latest entry."""
    folder = root / cache
    key = json.loads((folder / node_folder_name(node) / "latest.json").read_text())["key"]
    store = CacheStore(folder, format_registry(plugins))
    with store.lock(node, key):
        data, meta = store.load(node, key)
    assert meta["format"] == "arrow"
    return key, {s: data[s].to_dict() for s in data}, {s: data[s].features for s in data}


def shard_spans(n: int, first: int, length: int) -> list[str]:
    return [f"{first + length * i // n}-{first + length * (i + 1) // n - 1}" for i in range(n)]


def test_eight_shards_give_the_unsharded_entry_row_for_row(hf_project: Path, runway_plugins) -> None:
    write(hf_project, config(None, None))
    plain = prepare()
    assert plain.exit_code == 0, plain.output
    assert batches(hf_project) == ["0-399", "1000-1036"]
    plain_entries = {node: latest(hf_project, node, "local_cache", runway_plugins) for node in ("process:Square", "output:Filter")}

    (hf_project / "runway.toml").write_text('data_code_dirs = ["data_processing"]\ncache_dir = "sharded_cache"\n')
    write(hf_project, config(8, 2))
    sharded = prepare()
    assert sharded.exit_code == 0, sharded.output
    assert "process:Square: 8 shards; running 8 as local processes" in sharded.output
    assert "output:Filter: 2 shards; running 2 as local processes" in sharded.output
    # each shard's process mapped its own contiguous rows of each split, once
    assert batches(hf_project) == shard_spans(8, 0, TRAIN) + shard_spans(8, 1000, TEST)

    for node, (key, rows, features) in plain_entries.items():
        sharded_key, sharded_rows, sharded_features = latest(hf_project, node, "sharded_cache", runway_plugins)
        assert sharded_key == key, node
        assert sharded_rows == rows, node
        assert sharded_features == features, node
    _, rows, _ = plain_entries["output:Filter"]
    assert rows["train"]["id"] == [i for i in range(TRAIN) if i % 3] and rows["test"]["square"][0] == 1000**2


def test_a_killed_shard_is_the_only_one_the_next_prepare_computes(
    hf_project: Path, runway_plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(hf_project, config(8, None, _shard_retries=0))
    monkeypatch.setenv("SHARD_TEST_KILL_ID", "212")  # a row of shard 4 (train rows 200-249)
    failed = prepare()
    assert failed.exit_code == 1, failed.output
    assert "'process:Square': 1 of 8 shards failed" in failed.output
    assert "shard 4 of 8: killed by SIGKILL after 1 attempt(s)" in failed.output and "Traceback" not in failed.output
    first = batches(hf_project)
    assert "200-249" in first and len(first) == 8 + 7  # 7 shards mapped both splits, shard 4 died in train

    monkeypatch.delenv("SHARD_TEST_KILL_ID")
    again = prepare()
    assert again.exit_code == 0, again.output
    assert "8 shards, 7 reused from an earlier run; running 1 as local processes" in again.output
    assert batches(hf_project) == ["200-249", "1018-1022"]  # shard 4 of each split, nothing else

    key, rows, _ = latest(hf_project, "process:Square", "local_cache", runway_plugins)
    assert rows["train"]["square"] == [i * i for i in range(TRAIN)]
    assert rows["test"]["shout"] == [f"T {i}" for i in range(TEST)]
    from runway.pipeline import plan_pipeline

    assert plan_pipeline(config(None, None), hf_project, plugins=runway_plugins).keys["process:Square"] == key


def test_tokenizing_in_two_shards_gives_the_unsharded_entry(hf_project: Path, runway_plugins, tokenizer_dir: Path) -> None:
    def tokenize(shards: int | None) -> dict:
        kwargs = {"tokenize_fields_list": "text", "tokenizer_path": str(tokenizer_dir), **({"_shards": shards} if shards else {})}
        return {
            "data_pipeline": {
                "transforms": {
                    "input:Load": {"transform_name": "LoadHFDataset", "setup_kwargs": {"load_from_disk": "data/rows"}},
                    "output:Tokenize": {"transform_name": "HFDatasetTokenizeTransform", "input_node": "input:Load", "setup_kwargs": kwargs},
                }
            }
        }

    write(hf_project, tokenize(None))
    assert prepare().exit_code == 0
    plain = latest(hf_project, "output:Tokenize", "local_cache", runway_plugins)
    (hf_project / "runway.toml").write_text('data_code_dirs = ["data_processing"]\ncache_dir = "sharded_cache"\n')
    write(hf_project, tokenize(2))
    result = prepare()
    assert result.exit_code == 0, result.output
    assert "output:Tokenize: 2 shards; running 2 as local processes" in result.output
    sharded = latest(hf_project, "output:Tokenize", "sharded_cache", runway_plugins)
    assert sharded == plain
    assert "text_input_ids" in plain[1]["train"] and len(plain[1]["train"]["text_input_ids"]) == TRAIN
