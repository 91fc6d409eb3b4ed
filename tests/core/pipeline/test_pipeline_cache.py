"""Runs through the Python API: what recomputes, what loads, and what is never loaded."""

from __future__ import annotations

import copy
import io
import json
import os

import pytest

import runway
from pipeline_helpers import pipeline_config
from runway.pipeline import Progress, run_pipeline
from runway.pipeline.cache import COMPLETE_MARKER, DATA_DIR, LATEST_FILE, node_folder_name
from runway.project import Project


def _run(project, config, **kwargs):
    stream = io.StringIO()
    run = run_pipeline(config, Project.find(project.root), progress=Progress(stream), **kwargs)
    return run, stream.getvalue()


def _with_x(config: dict, x: int) -> dict:
    changed = copy.deepcopy(config)
    changed["transforms"]["input:A"]["setup_kwargs"]["x"] = x
    return changed


def test_flip_back_recomputes_only_the_uncached_node(project):
    seen = project.root / "seen.jsonl"
    config = pipeline_config()
    config["transforms"]["output:C"]["setup_kwargs"]["_seen"] = str(seen)

    first, _ = _run(project, _with_x(config, 1))
    assert project.calls() == {"input:A": 1, "process:B": 1, "output:C": 1}
    _run(project, _with_x(config, 2))
    assert project.calls() == {"input:A": 2, "process:B": 2, "output:C": 2}

    project.reset_calls()
    back, _ = _run(project, _with_x(config, 1))
    assert project.calls() == {"output:C": 1}
    assert back.actions == {"input:A": "SKIP", "process:B": "LOAD", "output:C": "RUN"}
    assert back.keys == first.keys
    received = [json.loads(line) for line in seen.read_text().splitlines()]
    assert [r["x"] for r in received] == [10, 20, 10]
    assert back.outputs["output:C"] == {"report": {"x": 10, "values": [0, 10, 20, 30, 40]}}


def test_editing_a_file_input_reruns_that_node_and_its_descendants_only(project):
    (project.root / "data").mkdir()
    (project.root / "data" / "train.csv").write_text("a,b\n1,2\n")
    log = "calls.txt"
    config = {
        "transforms": {
            "input:Text": {"transform_name": "ReadText", "setup_kwargs": {"path": "data/train.csv", "_log": log}},
            "input:A": {"transform_name": "Numbers", "setup_kwargs": {"_log": log}},
            "process:Merge": {
                "transform_name": "merge",
                "input_node": ["input:Text", "input:A"],
                "setup_kwargs": {"_log": log},
            },
            "output:Report": {"transform_name": "Report", "input_node": "process:Merge", "setup_kwargs": {"_log": log}},
            "output:Other": {"transform_name": "Scale", "input_node": "input:A", "setup_kwargs": {"_log": log}},
        }
    }
    first, _ = _run(project, config)
    assert project.calls() == {"input:Text": 1, "input:A": 1, "merge": 1, "output:Report": 1, "output:Other": 1}
    assert first.outputs["output:Report"]["report"]["parts"][0] == "a,b\n1,2\n"

    project.reset_calls()
    unchanged, _ = _run(project, config)
    assert project.calls() == {}
    assert set(unchanged.actions.values()) <= {"LOAD", "SKIP"}

    (project.root / "data" / "train.csv").write_text("a,b\n1,2\n3,4\n")
    second, _ = _run(project, config)
    assert project.calls() == {"input:Text": 1, "merge": 1, "output:Report": 1}
    assert second.actions["input:A"] == "LOAD"  # read by the merge, from the cache
    assert second.keys["output:Other"] == first.keys["output:Other"]
    assert second.keys["output:Report"] != first.keys["output:Report"]
    assert second.outputs["output:Report"]["report"]["parts"][0].endswith("3,4\n")


def _entry(project, node: str, key: str):
    return project.cache_dir / node_folder_name(node) / key


def test_entry_without_completion_marker_is_recomputed_with_a_warning(project):
    config = pipeline_config()
    first, _ = _run(project, config)
    (_entry(project, "process:B", first.keys["process:B"]) / COMPLETE_MARKER).unlink()

    project.reset_calls()
    again, progress = _run(project, config)
    assert project.calls() == {"process:B": 1, "output:C": 1}
    assert any("no completion marker" in w for w in again.warnings)
    assert "warning: cache entry of process:B" in progress
    assert again.outputs == first.outputs
    assert (_entry(project, "process:B", first.keys["process:B"]) / COMPLETE_MARKER).is_file()


def test_corrupted_data_file_is_never_loaded(project):
    config = pipeline_config()
    first, _ = _run(project, config)
    data_file = _entry(project, "process:B", first.keys["process:B"]) / DATA_DIR / "data.json"
    data_file.write_text(json.dumps({"x": 999, "values": []}))

    project.reset_calls()
    again, progress = _run(project, config)
    assert any("checksum mismatch" in w for w in again.warnings)
    assert project.calls() == {"process:B": 1, "output:C": 1}  # input:A loaded from its own entry
    assert again.actions["input:A"] == "LOAD"
    assert again.outputs["output:C"] == {"report": {"x": 10, "values": [0, 10, 20, 30, 40]}}


def test_node_with_cache_false_is_not_stored(project):
    run, _ = _run(project, pipeline_config())
    assert not (project.cache_dir / node_folder_name("output:C")).exists()
    assert _entry(project, "process:B", run.keys["process:B"]).is_dir()
    latest = json.loads((project.cache_dir / node_folder_name("process:B") / LATEST_FILE).read_text())
    assert latest["key"] == run.keys["process:B"] and latest["parts"]["transform"] == "Scale"


def test_meta_records_key_parts_and_underscore_kwargs_do_not_join_the_key(project):
    config = pipeline_config()
    first, _ = _run(project, config)
    meta = json.loads((_entry(project, "input:A", first.keys["input:A"]) / "meta.json").read_text())
    assert meta["parts"]["setup_kwargs"] == {"x": 1}
    assert meta["format"] == "json" and meta["size"] > 0 and len(meta["checksum"]) == 64
    assert set(meta["parts"]) == {"transform", "version", "source", "setup_kwargs", "inputs", "files", "dummy"}

    relogged = pipeline_config(log="other.txt")
    second, _ = _run(project, relogged)
    assert second.keys == first.keys


def test_dummy_data_is_a_separate_cache_namespace(project):
    config = pipeline_config()
    real, _ = _run(project, config)
    dummy, _ = _run(project, config, dummy=True)
    assert dummy.keys["input:A"] != real.keys["input:A"]
    assert dummy.outputs["output:C"]["report"]["values"] == [0, 10]
    from_meta, _ = _run(project, {"data_pipeline": config, "meta": {"use_dummy_data": True}})
    assert from_meta.keys == dummy.keys
    assert from_meta.actions["process:B"] == "LOAD"


@pytest.mark.parametrize(
    "how",
    ["argument", "node flag", "pipeline flag"],
)
def test_regenerate_recomputes_the_node_and_what_reads_it(project, how):
    config = pipeline_config()
    config["transforms"]["output:C"]["cache"] = True
    _run(project, config)
    project.reset_calls()
    kwargs = {}
    if how == "argument":
        kwargs["regenerate"] = ["process:B"]
        expected = {"process:B": 1, "output:C": 1}
    elif how == "node flag":
        config["transforms"]["process:B"]["regenerate"] = True
        expected = {"process:B": 1, "output:C": 1}
    else:
        config["regenerate"] = True
        expected = {"input:A": 1, "process:B": 1, "output:C": 1}
    run, _ = _run(project, config, **kwargs)
    assert project.calls() == expected


def test_only_the_requested_nodes_run(project):
    run, _ = _run(project, pipeline_config(), nodes=["process:B"])
    assert project.calls() == {"input:A": 1, "process:B": 1}
    assert list(run.outputs) == ["process:B"]
    assert set(run.keys) == {"input:A", "process:B"}


def test_inspect_prints_summaries_before_and_after(project, register_plugin_on_default):
    class Summaries:
        @runway.hookimpl
        def summarize_data(self, data):
            return {"kind": "mine", "keys": sorted(data) if isinstance(data, dict) else None}

    register_plugin_on_default(Summaries(), "summaries")
    config = pipeline_config()
    config["transforms"]["process:B"]["inspect"] = True
    _, progress = _run(project, config)
    assert "inspect process:B input:" in progress and "inspect process:B output:" in progress
    assert "kind: mine" in progress and "keys: ['values', 'x']" in progress


def test_same_size_rewrite_is_caught_by_the_checksum(project):
    """A rewrite that keeps the size still changes the mtime, which forces the full hash."""
    config = pipeline_config()
    first, _ = _run(project, config)
    data_file = _entry(project, "process:B", first.keys["process:B"]) / DATA_DIR / "data.json"
    original = data_file.read_bytes()
    tampered = original.replace(b"1", b"7", 1)
    assert len(tampered) == len(original) and tampered != original
    data_file.write_bytes(tampered)

    project.reset_calls()
    again, _ = _run(project, config)
    assert any("checksum mismatch" in w for w in again.warnings)
    assert project.calls() == {"process:B": 1, "output:C": 1}


def test_touched_but_unchanged_entry_is_still_loaded(project):
    config = pipeline_config()
    first, _ = _run(project, config)
    data_file = _entry(project, "process:B", first.keys["process:B"]) / DATA_DIR / "data.json"
    os.utime(data_file, ns=(1, 1))  # metadata differs, contents do not: the hash decides

    project.reset_calls()
    again, _ = _run(project, config)
    assert not any("checksum" in w for w in again.warnings)
    assert project.calls() == {"output:C": 1}
