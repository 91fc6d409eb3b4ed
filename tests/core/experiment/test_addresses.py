"""One way to address a version (NAME, NAME:V, NAME:V:SUFFIX, NAME_V3), shell completion, --opts mistakes,
and results to trust: show's exact parent, dummy marks, --overwrite, rm, list --sort/--filter.

The trained project is shared (``trained_once``): ``tiny`` run once (V1, with test run ``test``),
``child`` made ``--from tiny:1`` with another learning rate, ``tiny`` trained again for one
epoch (V2, no test run), and ``child`` trained on dummy data (V1).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from runway.cli.main import cli
from runway.errors import ExperimentError
from runway.experiment.address import Address, parse_address
from runway.experiment.store import ExperimentStore

from experiment_project import TINY_CONFIG


COMMANDS = [
    ["run", "tiny"],
    ["experiment", "child", "--from", "tiny:1", "--opts", "executor.optimizer.lr=0.05"],
    ["train", "tiny", "--opts", "train.epochs=1"],
    ["train", "child", "--dummy"],
]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def ux(trained_copy, runway_clean_process, runway_builtin_plugins) -> Path:
    from runway.testing import make_project

    return trained_copy("addresses", lambda root: make_project(root, configs={"tiny": TINY_CONFIG}), COMMANDS)


def _store(root: Path) -> ExperimentStore:
    return ExperimentStore(root / "experiments")


# ------------------------------------------------------------------ the parser


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tiny", Address("tiny")),
        ("tiny:3", Address("tiny", 3)),
        ("tiny:V3", Address("tiny", 3)),
        ("tiny:latest", Address("tiny", None, latest=True)),
        ("tiny:3:test", Address("tiny", 3, "test")),
        ("tiny::test", Address("tiny", None, "test", latest=True)),
        ("a/b:2", Address("a/b", 2)),
    ],
)
def test_one_parser_reads_every_form(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["tiny:x", "tiny:1:a:b", ":1"])
def test_a_malformed_address_shows_the_forms(text):
    with pytest.raises(ExperimentError, match="NAME:VERSION"):
        parse_address(text)


def test_the_old_parsers_are_gone():
    """compare and rerun, which had parsers of their own, reach the one parser."""
    root = Path(__file__).resolve().parents[3] / "packages" / "runway-core" / "src" / "runway"
    for path in (root / "compare" / "versions.py", root / "experiment" / "rerun.py"):
        text = path.read_text(encoding="utf-8")
        assert 'split(":")' not in text and 'partition(":")' not in text and "parse_address" in text, path


# ------------------------------------------------------------------ --opts mistakes (no training)


def test_opts_key_space_value_says_the_right_form(project):
    result = invoke("train", "tiny", "--opts", "train.epochs", "3")
    assert result.exit_code == 2
    assert "write `--opts train.epochs=3`" in result.output
    assert "unexpected extra argument" not in result.output


@pytest.mark.parametrize("tokens", [["train.epochs=", "3"], ["train.epochs", "=3"], ["train.epochs", "3"]])
def test_opts_with_spaces_around_the_value_say_the_one_token_form(project, tokens):
    result = invoke("config", "show", "tiny", "--opts", *tokens)
    assert result.exit_code == 2
    assert "write `--opts train.epochs=3`" in result.output, result.output


def test_an_unquoted_list_is_refused_with_the_json_form(project):
    result = invoke("config", "show", "tiny", "--opts", "eval.metrics=[accuracy,mse]")
    assert result.exit_code == 2
    assert """eval.metrics='["accuracy","mse"]'""" in result.output
    assert "would become a string" in result.output
    # the right form works
    shown = invoke("config", "show", "tiny", "--opts", 'eval.metrics=["accuracy","mse"]')
    assert shown.exit_code == 0, shown.output
    assert '"accuracy",\n      "mse"' in shown.output


def test_runway_experiment_help_shows_a_usage_line_that_works(project):
    import sys
    from unittest import mock

    from runway.cli.main import experiment_alias

    runner = CliRunner()
    with mock.patch.object(sys, "argv", ["runway-experiment", "--help"]):
        result = runner.invoke(cli, ["experiment", "--help"], prog_name="runway")
    usage = next(line for line in result.output.splitlines() if line.startswith("Usage:"))
    assert usage.startswith("Usage: runway experiment ")
    # the alias prints the same usage, not `runway-experiment experiment ...`
    import contextlib
    import io

    out = io.StringIO()
    with mock.patch.object(sys, "argv", ["runway-experiment", "--help"]), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        experiment_alias()
    alias_usage = next(line for line in out.getvalue().splitlines() if line.startswith("Usage:"))
    assert alias_usage == usage, out.getvalue()


# ------------------------------------------------------------------ every command takes every form


@pytest.mark.slow
def test_every_command_takes_name_colon_version(ux):
    shown = {form: invoke("show", form) for form in ("tiny:1", "tiny:V1", "tiny_V1")}
    for form, result in shown.items():
        assert result.exit_code == 0, (form, result.output)
        assert result.output.startswith("tiny_V1 "), (form, result.output)
    assert invoke("show", "tiny").output.startswith("tiny_V2 ")
    assert "name different versions" in invoke("show", "tiny:1", "--version", "2").output

    config = invoke("config", "show", "tiny:1")
    assert config.exit_code == 0 and json.loads(config.output.split("\nfingerprint:")[0])["train"]["epochs"] == 2
    diff = invoke("config", "show", "tiny:2", "--diff", "tiny:1")
    assert diff.exit_code == 0, diff.output
    assert "train.epochs: 2 -> 1" in diff.output

    for command in ("status", "logs", "cancel"):
        result = invoke(command, "tiny:1")
        # each answers about tiny_V1 (a local, finished run has no job to cancel: exit 2 saying so)
        assert "tiny_V1" in result.output, (command, result.output)
        assert "invalid experiment name" not in result.output, (command, result.output)
    assert invoke("status", "tiny:1").output.startswith("tiny_V1")

    compared = invoke("compare", "tiny:1:test", "tiny_V2")
    assert compared.exit_code == 0, compared.output
    assert "tiny_V1:test" in compared.output and "tiny_V2" in compared.output

    inferred = invoke("infer", "tiny:1:again", "--no-eval")
    assert inferred.exit_code == 0, inferred.output
    assert (_store(ux).get("tiny", 1).test_dir("again") / "summary.json").is_file()
    evaluated = invoke("eval", "tiny:1:again")
    assert evaluated.exit_code == 0 and "tiny_V1 again:" in evaluated.output

    from runway.experiment.rerun import parse_target

    assert parse_target("tiny:V1") == ("tiny", 1)
    with pytest.raises(ExperimentError, match="not a test run"):
        parse_target("tiny:1:test")

    made = invoke("experiment", "grand", "--from", "child_V1")
    assert made.exit_code == 0, made.output
    grand = json.loads((ux / "configs" / "experiments" / "grand.jsonnet").read_text())
    assert grand["parent"] == "child:1"
    # from a dummy version: the new experiment is not frozen on dummy data
    assert grand["meta"]["use_dummy_data"] is False


@pytest.mark.slow
def test_show_diffs_against_the_exact_parent_version(ux):
    child = _store(ux).get("child", 1)
    assert child.provenance["parent"] == "tiny:1"
    shown = invoke("show", "child:1").output
    assert "parent: tiny:1" in shown
    assert "config diff against tiny_V1/config.json" in shown
    assert "executor.optimizer.lr: 0.01 -> 0.05" in shown
    # tiny_V2 (epochs 1) came later: it is not what child started from
    assert "train.epochs" not in shown


@pytest.mark.slow
def test_dummy_runs_are_marked_and_from_does_not_freeze_the_flag(ux):
    # child.jsonnet (JSON written by --from) says false; its --dummy run's config records true
    assert json.loads((ux / "configs" / "experiments" / "child.jsonnet").read_text())["meta"]["use_dummy_data"] is False
    child = _store(ux).get("child", 1)
    assert child.dummy and child.config["meta"]["use_dummy_data"] is True
    assert not _store(ux).get("tiny", 1).dummy

    listed = {tuple(line.split()[:2]): line for line in invoke("list").output.splitlines()[1:]}
    assert "completed (dummy)" in listed[("child", "1")]
    assert "(dummy)" not in listed[("tiny", "1")]
    assert "data: DUMMY" in invoke("show", "child:1").output
    assert "data: DUMMY" not in invoke("show", "tiny:1").output
    refused = invoke("compare", "tiny:2", "child:1")
    assert refused.exit_code == 2 and "child_V1 ran on dummy data" in refused.output
    assert "completed (dummy)" in invoke("compare", "tiny:2", "child:1", "--force").output


@pytest.mark.slow
def test_infer_into_an_existing_test_run_needs_overwrite(ux):
    before = (_store(ux).get("tiny", 1).test_dir("test") / "summary.json").read_text()
    refused = invoke("infer", "tiny:1", "test")
    assert refused.exit_code == 2
    assert "already has test run 'test'" in refused.output and "--overwrite" in refused.output
    assert (_store(ux).get("tiny", 1).test_dir("test") / "summary.json").read_text() == before
    replaced = invoke("infer", "tiny:1", "test", "--overwrite")
    assert replaced.exit_code == 0, replaced.output


@pytest.mark.slow
def test_list_shows_validation_scores_durations_and_sorts_and_filters(ux):
    rows = {(r["experiment"], r["version"]): r for r in json.loads(invoke("list", "--json").output)}
    train_only = rows[("tiny", 2)]
    assert train_only["metrics"] == {} and "val/loss" in train_only["validation"]
    assert train_only["metrics_text"].startswith("val: ")
    assert all(r["duration_s"] is not None and r["duration_s"] >= 0 for r in rows.values())

    table = invoke("list").output.splitlines()
    assert table[0].split()[:7] == ["EXPERIMENT", "VERSION", "STATUS", "CREATED", "DURATION", "TAG", "METRICS"]
    tiny2 = next(line for line in table if line.split()[:2] == ["tiny", "2"])
    assert "val: " in tiny2 and "val/loss=" in tiny2

    ordered = json.loads(invoke("list", "--json", "--sort", "val/loss").output)
    losses = [r["validation"]["val/loss"] for r in ordered]
    assert losses == sorted(losses)
    assert [r["validation"]["val/loss"] for r in json.loads(invoke("list", "--json", "--sort", "val/loss", "--reverse").output)] == sorted(losses, reverse=True)
    by_accuracy = json.loads(invoke("list", "--json", "--sort", "test:accuracy").output)
    assert (by_accuracy[0]["experiment"], by_accuracy[0]["version"]) == ("tiny", 1)  # the only tested one, first
    assert "no listed version has that metric" in invoke("list", "--sort", "nope").output

    dummy = json.loads(invoke("list", "--json", "--filter", "dummy=true").output)
    assert [(r["experiment"], r["version"]) for r in dummy] == [("child", 1)]
    epochs = json.loads(invoke("list", "--json", "--filter", "train.epochs=1").output)
    assert [(r["experiment"], r["version"]) for r in epochs] == [("tiny", 2)]
    both = json.loads(invoke("list", "--json", "--filter", "experiment=tiny", "--filter", "status=completed").output)
    assert [r["version"] for r in both] == [1, 2]
    assert invoke("list", "--filter", "oops").exit_code == 2
    assert invoke("list", "--filter", "train.epochs=9").output.strip() == "no version matches --filter train.epochs=9"


# ------------------------------------------------------------------ rm


@pytest.mark.slow
def test_rm_removes_a_version_and_says_what_cache_gc_can_free(ux):
    store = _store(ux)
    dry = invoke("rm", "child:1", "--dry-run")
    assert dry.exit_code == 0 and "would remove child_V1 (completed)" in dry.output
    assert store.versions("child") == [1]
    # child_V1's dummy data is its nodes' latest dummy entry: gc keeps that, and rm says so
    assert "nothing for `runway cache gc` to free" in dry.output and "kept as their node's latest entry" in dry.output
    # once another dummy run is the latest (here: its record gone), only child_V1 kept them
    for latest in (ux / "local_cache").rglob("latest-dummy.json"):
        latest.unlink()
    removed = invoke("rm", "child:1")
    assert removed.exit_code == 0, removed.output
    assert "removed child_V1 (completed)" in removed.output
    freed = int(removed.output.split("cache: ")[1].split()[0])
    assert freed > 0 and "are unreferenced now: `runway cache gc` frees them" in removed.output
    assert store.versions("child") == []
    assert not [p for p in (ux / "experiments").iterdir() if p.name.startswith(".removing-")]
    gc = invoke("cache", "gc")
    assert gc.exit_code == 0, gc.output
    # tiny's versions share their data: removing one frees nothing
    again = invoke("rm", "tiny_V2")
    assert again.exit_code == 0, again.output
    assert "still used by other versions" in again.output and "nothing for `runway cache gc` to free" in again.output
    assert store.versions("tiny") == [1]


@pytest.mark.slow
def test_rm_never_removes_a_running_version(ux):
    from runway.experiment.status import write_status
    from runway.job.lease import holding

    store = _store(ux)
    version = store.get("tiny", 2)
    with holding(version.path, version.label):
        refused = invoke("rm", "tiny:2")
    assert refused.exit_code == 2
    assert "not removed" in refused.output and "tiny_V2 is running" in refused.output
    assert store.versions("tiny") == [1, 2]

    write_status(version.path, "running")  # this process: alive
    refused = invoke("rm", "tiny:2", "tiny:1")
    assert refused.exit_code == 2
    assert "tiny_V2 is running: cancel it first (`runway cancel tiny:2`)" in refused.output
    assert "removed tiny_V1" in refused.output  # the others still go
    assert store.versions("tiny") == [2]


@pytest.mark.slow
def test_rm_failed_and_rm_needs_a_version(ux):
    from runway.experiment.status import write_status

    store = _store(ux)
    assert "names no single version" in invoke("rm", "tiny").output
    assert invoke("rm").exit_code == 2
    assert invoke("rm", "--failed").output.strip() == "no failed versions"
    write_status(store.get("tiny", 2).path, "failed", error="boom")
    removed = invoke("rm", "--failed")
    assert removed.exit_code == 0 and "removed tiny_V2 (failed)" in removed.output
    assert store.versions("tiny") == [1] and store.versions("child") == [1]


# ------------------------------------------------------------------ shell completion


def _complete(args: list[str], incomplete: str) -> list[str]:
    from click.shell_completion import ShellComplete

    return [item.value for item in ShellComplete(cli, {}, "runway", "_RUNWAY_COMPLETE").get_completions(args, incomplete)]


@pytest.mark.slow
def test_shell_completion_of_commands_names_versions_and_config_keys(ux):
    assert {"show", "status"} <= set(_complete([], "s"))
    assert "rm" in _complete([], "r")
    assert _complete(["show"], "ch") == ["child"]
    assert set(_complete(["show"], "")) >= {"tiny", "child", "example"}
    assert _complete(["show"], "tiny:") == ["tiny:1", "tiny:2"]
    assert _complete(["compare", "tiny:1"], "tiny:1:") == ["tiny:1:test"]
    assert _complete(["experiment", "new", "--from"], "tiny:") == ["tiny:1", "tiny:2"]
    keys = _complete(["train", "tiny", "--opts"], "train.ep")
    assert keys == ["train.epochs="]
    assert "executor.optimizer.lr=" in _complete(["config", "show", "tiny", "--opts"], "executor.opt")
    assert {"val/loss", "test:accuracy"} <= set(_complete(["list", "--sort"], ""))


def test_completion_outside_a_project_completes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _complete(["show"], "ti") == []
    assert _complete(["train", "tiny", "--opts"], "train.") == []


# ------------------------------------------------------------------ plot legends


def test_plot_legends_name_the_setting_not_its_index_or_parent(tmp_path):
    from runway.cli.compare_cmd import _legend_labels
    from runway.compare.versions import Selected
    from runway.experiment.store import Version

    configs = [
        {"parent": None, "executor": {"optimizer": {"lr": 0.01}, "model": {"init_args": {"hidden": [128]}}}},
        {"parent": "tiny:1", "executor": {"optimizer": {"lr": 0.05}, "model": {"init_args": {"hidden": [64]}}}},
    ]
    selected = []
    for number, config in enumerate(configs, start=1):
        folder = tmp_path / f"tiny_V{number}"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(config))
        selected.append(Selected(Version("tiny", number, folder)))
    assert _legend_labels(selected) == ["tiny_V1 (hidden[0]=128, lr=0.01)", "tiny_V2 (hidden[0]=64, lr=0.05)"]


def test_sync_and_show_take_the_address_of_a_subfolder_name(project, register_plugin):
    from runway import hookimpl

    class Recorder:
        def __init__(self) -> None:
            self.received: list[str] = []

        @hookimpl
        def log_metrics(self, run, metrics, step):
            self.received.append(run.name)

    store = _store(project)
    for _ in range(2):
        version = store.allocate("a/b")
        (version.path / "config.json").write_text("{}", encoding="utf-8")
        logs = version.train_dir / "logs"
        logs.mkdir(parents=True)
        (logs / "metrics.csv").write_text("step,metric,value,time\n1,loss,0.5,1.0\n", encoding="utf-8")
    assert invoke("show", "a/b:1").output.startswith("a/b_V1 ")
    assert invoke("show", "a__b_V1").output.startswith("a/b_V1 ")
    recorder = register_plugin(Recorder(), name="recorder")
    for form in ("a/b:1", "a__b_V1"):
        synced = invoke("sync", form, "--logger", "recorder")
        assert synced.exit_code == 0, synced.output
    assert recorder.received == ["a/b_V1", "a/b_V1"]
    assert "name different versions" in invoke("sync", "a/b:1", "--version", "2", "--logger", "recorder").output
