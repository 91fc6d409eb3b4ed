"""`runway prepare`, `runway pipeline show|explain` and `runway cache ...` in-process."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from pipeline_helpers import explain_line, pipeline_config
from runway.cli.main import cli
from runway.pipeline.cache import node_folder_name


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def tokenized(project):
    """input:A (Numbers) -> process:Linearize (Scale) -> output:Tokenize (Tokenize)."""
    project.write_config(
        "p",
        {
            "name": "p",
            "transforms": {
                "input:A": {"transform_name": "Numbers", "setup_kwargs": {"x": 1, "_log": "calls.txt"}},
                "process:Linearize": {"transform_name": "Scale", "input_node": "input:A", "setup_kwargs": {"factor": 2}},
                "output:Tokenize": {
                    "transform_name": "Tokenize",
                    "input_node": "process:Linearize",
                    "setup_kwargs": {"max_len": 128},
                },
            },
        },
    )
    return project


def test_prepare_then_explain_says_load(tokenized):
    result = invoke("prepare", "p")
    assert result.exit_code == 0, result.output
    assert re.search(r"output:Tokenize\s+[0-9a-f]{12}\s+RUN", result.stdout)
    explained = invoke("pipeline", "explain", "p").output
    assert explain_line(explained, "output:Tokenize").startswith("LOAD")
    assert "not needed" in explain_line(explained, "input:A")
    again = invoke("prepare", "p")
    assert re.search(r"output:Tokenize\s+[0-9a-f]{12}\s+LOAD", again.stdout)
    assert tokenized.calls() == {"input:A": 1}


def test_explain_no_entry(tokenized):
    result = invoke("pipeline", "explain", "p")
    assert result.exit_code == 0
    for node in ("input:A", "process:Linearize", "output:Tokenize"):
        assert explain_line(result.output, node).startswith("RUN")
        assert explain_line(result.output, node).endswith("no entry")
    assert "3 to run, 0 to load" in result.output


def test_explain_names_the_changed_setup_kwarg_and_the_changed_input(tokenized):
    invoke("prepare", "p")
    result = invoke("pipeline", "explain", "p", "--opts", "data_pipeline.transforms.output:Tokenize.setup_kwargs.max_len=256")
    assert "setup_kwargs.max_len 128 -> 256" in explain_line(result.output, "output:Tokenize")
    assert explain_line(result.output, "process:Linearize").startswith("LOAD")
    assert explain_line(result.output, "input:A").endswith("not needed: process:Linearize loads from cache")

    result = invoke("pipeline", "explain", "p", "--opts", "data_pipeline.transforms.process:Linearize.setup_kwargs.factor=3")
    assert "setup_kwargs.factor 2 -> 3" in explain_line(result.output, "process:Linearize")
    assert "input process:Linearize changed" in explain_line(result.output, "output:Tokenize")
    assert explain_line(result.output, "input:A").startswith("LOAD")


def test_explain_file_changed(project):
    (project.root / "data").mkdir()
    (project.root / "data" / "train.csv").write_text("1\n")
    project.write_config(
        "p", {"transforms": {"output:Text": {"transform_name": "ReadText", "setup_kwargs": {"path": "data/train.csv"}}}}
    )
    invoke("prepare", "p")
    (project.root / "data" / "train.csv").write_text("2\n")
    result = invoke("pipeline", "explain", "p")
    assert explain_line(result.output, "output:Text").endswith("file data/train.csv changed")


def test_explain_transform_source_and_version_changed(tokenized):
    invoke("prepare", "p")
    tokenized.edit_transforms(
        'return {"tokens": data["values"][: self.max_len], "max_len": self.max_len}',
        'return {"tokens": data["values"][: self.max_len], "max_len": self.max_len, "kind": "source edit"}',
    )
    line = explain_line(invoke("pipeline", "explain", "p").output, "output:Tokenize")
    assert line.startswith("RUN") and "transform Tokenize source changed" in line

    tokenized.edit_transforms("    version = 1\n", "    version = 2\n")
    line = explain_line(invoke("pipeline", "explain", "p").output, "output:Tokenize")
    assert "transform version 1 -> 2" in line


def test_explain_regenerate_requested_and_cache_false(project):
    project.write_config("p", pipeline_config())
    invoke("prepare", "p")
    result = invoke("pipeline", "explain", "p", "--regenerate", "process:B")
    assert "regenerate requested" in explain_line(result.output, "process:B")
    assert explain_line(result.output, "output:C").endswith("input process:B regenerated; not cached (cache: false)")
    plain = invoke("pipeline", "explain", "p")
    assert explain_line(plain.output, "process:B").startswith("LOAD")
    assert explain_line(plain.output, "output:C") == "RUN   output:C   not cached (cache: false)"


def test_explain_with_dummy_data(project):
    project.write_config("p", pipeline_config())
    invoke("prepare", "p")
    result = invoke("pipeline", "explain", "p", "--dummy")
    assert "dummy data off -> on" in explain_line(result.output, "input:A")


# ------------------------------------------------------------------ errors


def _graph_error(project, transforms: dict) -> str:
    project.write_config("bad", {"transforms": transforms})
    result = CliRunner().invoke(cli, ["prepare", "bad"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert project.calls() == {}  # nothing ran
    return result.output


def test_unknown_transform_lists_close_names(project):
    out = _graph_error(
        project, {"output:T": {"transform_name": "Tokenise", "setup_kwargs": {"_log": "calls.txt"}}}
    )
    assert 'data_pipeline.transforms."output:T".transform_name' in out
    assert "unknown transform 'Tokenise'" in out and "Did you mean 'Tokenize'" in out


def test_unknown_transform_names_the_package_that_provides_it(project):
    out = _graph_error(
        project,
        {
            "input:A": {"transform_name": "Numbers", "setup_kwargs": {"_log": "calls.txt"}},
            "output:Split": {"transform_name": "SplitHFDatasetToTrainTestValidation", "input_node": "input:A"},
        },
    )
    assert "pip install runway-hf" in out


def test_missing_input_node(project):
    out = _graph_error(
        project,
        {
            "input:A": {"transform_name": "Numbers", "setup_kwargs": {"_log": "calls.txt"}},
            "output:B": {"transform_name": "Scale", "input_node": "input:a"},
        },
    )
    assert 'data_pipeline.transforms."output:B".input_node' in out
    assert "no node named 'input:a'" in out and "Did you mean 'input:A'" in out


def test_cycle_names_its_nodes(project):
    out = _graph_error(
        project,
        {
            "input:A": {"transform_name": "Numbers", "setup_kwargs": {"_log": "calls.txt"}},
            "process:B": {"transform_name": "merge", "input_node": ["input:A", "output:D"]},
            "process:C": {"transform_name": "Scale", "input_node": "process:B"},
            "output:D": {"transform_name": "Scale", "input_node": "process:C"},
        },
    )
    assert "cycle" in out
    for node in ("process:B", "process:C", "output:D"):
        assert node in out
    assert "'input:A'" not in out


def test_setup_kwarg_that_setup_does_not_accept(project):
    out = _graph_error(
        project,
        {"output:A": {"transform_name": "Numbers", "setup_kwargs": {"y": 2, "_log": "calls.txt"}}},
    )
    assert 'data_pipeline.transforms."output:A".setup_kwargs.y' in out
    assert "Numbers.setup() has no parameter 'y'" in out and "It accepts: x, _log" in out


def test_unknown_node_for_node_and_regenerate_options(project):
    project.write_config("p", pipeline_config())
    result = CliRunner().invoke(cli, ["prepare", "p", "--node", "output:c"])
    assert result.exit_code == 2 and "Did you mean 'output:C'" in result.output
    result = CliRunner().invoke(cli, ["pipeline", "explain", "p", "--regenerate", "procss:B"])
    assert result.exit_code == 2 and "--regenerate 'procss:B'" in result.output


# ------------------------------------------------------------------ show


def test_show_tree_mermaid_dot(project):
    config = pipeline_config()
    config["transforms"]["output:M"] = {"transform_name": "merge", "input_node": ["input:A", "process:B"]}
    project.write_config("p", config)
    tree = invoke("pipeline", "show", "p").output
    assert tree.splitlines() == [
        "input:A  [Numbers]",
        "├── process:B  [Scale]",
        "│   ├── output:C  [Report]  (cache: false)",
        "│   └── output:M  [merge]  <- input:A, process:B",
        "└── output:M  (drawn above)",
    ]
    mermaid = invoke("pipeline", "show", "p", "--format", "mermaid").output
    assert mermaid.startswith("flowchart TD") and "n0 --> n1" in mermaid
    dot = invoke("pipeline", "show", "p", "--format", "dot").output
    assert '"input:A" -> "process:B";' in dot


# ------------------------------------------------------------------ cache


def test_cache_ls_du_and_gc_keep_latest_and_what_experiments_use(project):
    project.write_config("p", pipeline_config())
    keys = {}
    for x in (1, 2, 3):
        result = invoke("prepare", "p", "--opts", f"data_pipeline.transforms.input:A.setup_kwargs.x={x}", "--node", "process:B")
        keys[x] = result.stdout.split()[1]
    listing = invoke("cache", "ls").output
    assert len([line for line in listing.splitlines() if line.startswith("process:B")]) == 3
    assert len([line for line in listing.splitlines() if "latest" in line]) == 2  # input:A and process:B
    assert "total:" in invoke("cache", "du").output

    # an experiment consumed the x=1 entry of process:B
    full_key_1 = next(p.name for p in (project.cache_dir / node_folder_name("process:B")).iterdir() if p.name.startswith(keys[1]))
    experiment = project.root / "experiments" / "exp_V1"
    experiment.mkdir(parents=True)
    (experiment / "provenance.json").write_text(json.dumps({"data": {"process:B": full_key_1}}))

    dry = invoke("cache", "gc", "--dry-run").output
    assert "would delete 3 entries" in dry  # input:A for x=1 and x=2, process:B for x=2
    remaining = {p.name[:12] for p in (project.cache_dir / node_folder_name("process:B")).iterdir() if p.is_dir()}
    assert remaining == {keys[1], keys[2], keys[3]}

    done = invoke("cache", "gc").output
    assert "deleted 3 entries" in done
    remaining = {p.name[:12] for p in (project.cache_dir / node_folder_name("process:B")).iterdir() if p.is_dir()}
    assert remaining == {keys[1], keys[3]}
    assert len([p for p in (project.cache_dir / node_folder_name("input:A")).iterdir() if p.is_dir()]) == 1


def test_gc_skips_an_entry_whose_lock_is_held(project):
    from runway.pipeline.cache import CacheStore
    from runway.pipeline.formats import format_registry

    project.write_config("p", pipeline_config())
    invoke("prepare", "p", "--opts", "data_pipeline.transforms.input:A.setup_kwargs.x=1")
    invoke("prepare", "p", "--opts", "data_pipeline.transforms.input:A.setup_kwargs.x=2")
    store = CacheStore(project.cache_dir, format_registry())
    old = [e for e in store.entries() if e.node == "process:B" and store.latest_keys()[e.folder] != e.key]
    assert len(old) == 1
    with store.lock("process:B", old[0].key):
        out = invoke("cache", "gc").output
    assert f"skipped process:B {old[0].key[:12]}" in out
    assert old[0].path.is_dir()
    assert f"deleted process:B {old[0].key[:12]}" in invoke("cache", "gc").output
    assert not old[0].path.exists()
