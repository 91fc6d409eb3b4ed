"""``runway config show`` and the shared ``--opts``/``--config`` options, in-process."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner
from config_files import write

from runway.cli.common import config_option, opts_option
from runway.config.loading import resolve_config
from runway.cli.main import cli
from runway.config import fingerprint, load_config


@pytest.fixture(autouse=True)
def _builtin_plugins_only(runway_builtin_plugins):
    yield


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _shown_config(output: str) -> tuple[dict, str]:
    body, _, tail = output.rpartition("fingerprint: ")
    return json.loads(body), tail.strip()


def test_show_prints_the_resolved_config_and_its_fingerprint(project):
    result = invoke("config", "show", "x", "--opts", "train.epochs=5", "+train.warmup=10", "--opts", "~loggers")
    assert result.exit_code == 0, result.output
    shown, digest = _shown_config(result.output)
    expected = load_config("x", opts=["train.epochs=5", "+train.warmup=10", "~loggers"])
    assert shown == expected
    assert digest == fingerprint(expected)
    assert '\n  "train": {' in result.output  # pretty, sorted


def test_show_with_a_config_file_outside_any_project(tmp_path, monkeypatch):
    path = write(tmp_path / "loose" / "e.jsonnet", "{ train: { lr: 0.1 }, description: std.extVar('runway.experiment_name') }")
    monkeypatch.chdir(tmp_path)
    result = invoke("config", "show", "--config", str(path), "--opts", "train.lr=0.5")
    assert result.exit_code == 0, result.output
    shown, _ = _shown_config(result.output)
    assert shown == {"train": {"lr": 0.5}, "description": "e"}


def test_show_redacts_secrets_unless_asked(project):
    write(project / "configs" / "experiments" / "s.jsonnet", "{ meta: { api_key: 'k123' } }")
    assert "k123" not in invoke("config", "show", "s").output
    assert '"***"' in invoke("config", "show", "s").output
    assert "k123" in invoke("config", "show", "s", "--show-secrets").output


def test_diff_against_another_experiment(project):
    write(project / "configs" / "experiments" / "y.jsonnet", "(import 'x.jsonnet') + { train+: { epochs: 9 }, tag: 'y' }")
    result = invoke("config", "show", "y", "--diff", "x", "--opts", "~train.layers.2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"--- x  fingerprint {fingerprint(load_config('x'))}"
    assert lines[1].startswith("+++ y with --opts ~train.layers.2  fingerprint ")
    assert lines[2:] == ["  meta.name: \"x\" -> \"y\"", '+ tag: "y"', "  train.epochs: 3 -> 9", "- train.layers.2: 32"]


def test_diff_of_equal_configs(project):
    result = invoke("config", "show", "x", "--diff", "x")
    assert result.output.splitlines()[-1] == "(no differences)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["config", "show", "nope"], "no experiment config 'nope'"),
        (["config", "show", "x", "--opts", "train.epoch=1"], "closest existing keys: 'train.epochs'"),
        (["config", "show", "x", "--opts", "novalue"], "expected KEY=VALUE"),
        (["config", "show", "bad"], "bad.jsonnet:3:3: Expected a comma"),
        (["config", "show", "x", "--diff", "nope"], "no experiment config 'nope'"),
        (["config", "show"], "give an experiment NAME or --config FILE"),
        (["config", "show", "--config", "missing.jsonnet"], "no such file"),
        (["config", "show", "x", "--opts", "+bogus=1"], "unknown top-level key 'bogus'"),
    ],
)
def test_user_errors_exit_2_without_a_traceback(project, args, message):
    write(project / "configs" / "experiments" / "bad.jsonnet", "{\n  a: 1\n  b: 2\n}\n")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Error: " in result.output
    assert message.lower() in result.output.lower()
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_outside_a_project_a_name_is_exit_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["config", "show", "x"])
    assert result.exit_code == 2
    assert "not inside a Runway project" in result.output


# The shared options on a command of our own, as train/prepare use them.


@click.command()
@click.argument("name", required=False)
@config_option
@opts_option
@click.option("--launcher", default="local")
def fake_train(name, config_file, opts, launcher):
    project, config = resolve_config(name, config_file, opts)
    click.echo(json.dumps({"name": name, "opts": list(opts), "launcher": launcher, "epochs": config["train"]["epochs"]}))


@pytest.mark.parametrize(
    ("args", "name", "opts"),
    [
        (["x", "--opts", "train.epochs=4", "+meta.a=1"], "x", ["train.epochs=4", "+meta.a=1"]),
        (["x", "--opts", "train.epochs=4", "--opts", "+meta.a=1", "~meta.dummy"], "x", ["train.epochs=4", "+meta.a=1", "~meta.dummy"]),
        (["--opts", "train.epochs=4", "+meta.a=x=y", "x"], "x", ["train.epochs=4", "+meta.a=x=y"]),
        (["--opts=train.epochs=4", "x"], "x", ["train.epochs=4"]),
        (["x", "--opts", "train.epochs=4", "--launcher", "slurm"], "x", ["train.epochs=4"]),
        (["x"], "x", []),
    ],
)
def test_opts_take_several_tokens_and_stop_at_the_next_option(project, args, name, opts):
    result = CliRunner().invoke(fake_train, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    seen = json.loads(result.output)
    assert (seen["name"], seen["opts"]) == (name, opts)
    assert seen["epochs"] == (4 if "train.epochs=4" in opts else 3)
    assert seen["launcher"] == ("slurm" if "slurm" in args else "local")


def test_resolve_config_with_a_name_and_a_file_names_the_experiment(project):
    path = write(project / "elsewhere" / "f.jsonnet", "{ description: std.extVar('runway.experiment_name') }")
    found, config = resolve_config("named", path, ())
    assert found.root == project.resolve()
    assert config == {"description": "named"}


def test_resolve_config_dummy_flag(project):
    _, config = resolve_config("x", None, (), dummy=True)
    assert config["meta"]["dummy"] is True
