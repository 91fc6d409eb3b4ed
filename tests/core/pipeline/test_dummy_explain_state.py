"""Dummy and real runs keep apart the state `pipeline explain` compares with (latest.json / latest-dummy.json)."""

from __future__ import annotations

from click.testing import CliRunner
from pipeline_helpers import explain_line, pipeline_config
from runway.cli.main import cli
from runway.pipeline.cache import LATEST_DUMMY_FILE, LATEST_FILE


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_a_dummy_run_does_not_change_what_a_real_run_is_explained_against(project):
    project.write_config("p", pipeline_config())
    assert invoke("prepare", "p").exit_code == 0
    assert invoke("prepare", "p", "--dummy").exit_code == 0
    # the real config changes after the dummy run: the reason is that change, not "dummy data on -> off"
    config = pipeline_config()
    config["transforms"]["input:A"]["setup_kwargs"]["x"] = 7
    project.write_config("p", config)
    line = explain_line(invoke("pipeline", "explain", "p").output, "input:A")
    assert line.startswith("RUN") and "x" in line, line
    assert "dummy" not in line, line
    # a dummy explain compares with the last dummy run
    dummy_line = explain_line(invoke("pipeline", "explain", "p", "--dummy").output, "input:A")
    assert dummy_line.startswith("RUN") and "dummy data" not in dummy_line, dummy_line


def test_a_first_dummy_run_is_explained_against_the_real_one(project):
    project.write_config("p", pipeline_config())
    invoke("prepare", "p")
    line = explain_line(invoke("pipeline", "explain", "p", "--dummy").output, "input:A")
    assert "dummy data off -> on" in line


def test_both_latest_files_are_kept_by_gc(project):
    project.write_config("p", pipeline_config())
    invoke("prepare", "p")
    invoke("prepare", "p", "--dummy")
    names = sorted(p.name for p in (project.root / "local_cache").rglob("latest*.json"))
    assert LATEST_FILE in names and LATEST_DUMMY_FILE in names
    assert invoke("cache", "gc").exit_code == 0
    assert explain_line(invoke("pipeline", "explain", "p", "--dummy").output, "process:B").startswith("LOAD")
    assert explain_line(invoke("pipeline", "explain", "p").output, "process:B").startswith("LOAD")
