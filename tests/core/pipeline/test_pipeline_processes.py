"""Across processes: concurrent `runway prepare` runs, and runs killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from pipeline_helpers import pipeline_config
from runway.pipeline.cache import COMPLETE_MARKER, TMP_PREFIX, node_folder_name

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and flock semantics are POSIX")


def _wait_for(predicate, what: str, limit_s: float = 120.0) -> None:
    """Poll until ``predicate()``; the limit only stops a hung test, it asserts no timing."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_concurrent_prepares_compute_the_slow_node_once(project):
    config = pipeline_config()
    config["transforms"]["process:B"]["setup_kwargs"]["_sleep"] = 2
    config["transforms"]["output:C"]["cache"] = True
    project.write_config("p", config)

    procs = [project.run_cli("prepare", "p") for _ in range(4)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    for code, out, err in results:
        assert code == 0, err
        assert out.startswith("output:C")
    assert project.calls() == {"input:A": 1, "process:B": 1, "output:C": 1}
    keys = {out.split()[1] for _, out, _ in results}
    assert len(keys) == 1


def _entries(project, node: str) -> list[Path]:
    folder = project.cache_dir / node_folder_name(node)
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_killed_while_the_node_runs_then_the_next_run_recomputes_it(project):
    config = pipeline_config()
    config["transforms"]["process:B"]["setup_kwargs"]["_sleep"] = 600
    project.write_config("p", config)

    victim = project.run_cli("prepare", "p")
    _wait_for(lambda: project.calls()["process:B"] == 1, "process:B to start")
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    victim.communicate()
    assert not any(p.name != "latest.json" and (p / COMPLETE_MARKER).exists() for p in _entries(project, "process:B"))

    # _sleep starts with "_": not part of the key, so this is the same entry
    after = project.run_cli("prepare", "p", "--opts", "data_pipeline.transforms.process:B.setup_kwargs._sleep=0")
    code = after.wait(timeout=300)
    out, err = after.communicate()
    assert code == 0, err
    assert project.calls() == {"input:A": 1, "process:B": 2, "output:C": 1}
    assert "input:A" in err and "LOAD" in err


def test_killed_while_the_entry_is_written_leaves_nothing_loadable(project, tmp_path):
    flag = tmp_path / "writing"
    project.write_config(
        "p",
        {
            "transforms": {
                "input:A": {"transform_name": "Numbers", "setup_kwargs": {"_log": "calls.txt"}},
                "output:Obj": {"transform_name": "MakeObject", "input_node": "input:A", "setup_kwargs": {"_log": "calls.txt"}},
            }
        },
    )
    victim = project.run_cli("prepare", "p", env={"RUNWAY_TEST_SLOW_WRITE": str(flag)})
    _wait_for(flag.exists, "the pickle format to start writing")
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    victim.communicate()
    leftovers = [p for p in _entries(project, "output:Obj") if p.name.startswith(TMP_PREFIX)]
    assert leftovers, "the killed writer was inside its temporary folder"
    assert not [p for p in _entries(project, "output:Obj") if not p.name.startswith(".") and p.is_dir()]

    after = project.run_cli("prepare", "p")
    code = after.wait(timeout=300)
    out, err = after.communicate()
    assert code == 0, err
    assert project.calls()["output:Obj"] == 2
    entries = [p for p in _entries(project, "output:Obj") if p.is_dir()]
    assert len(entries) == 1 and (entries[0] / COMPLETE_MARKER).is_file()  # leftovers of that key were removed

    again = project.run_cli("prepare", "p")
    assert again.wait(timeout=300) == 0
    assert project.calls()["output:Obj"] == 2  # loaded from the complete entry
