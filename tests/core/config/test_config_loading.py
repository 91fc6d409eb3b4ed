"""Evaluating experiment configs: imports, external variables, errors."""

from __future__ import annotations

import pytest
from config_files import write

from runway.config import evaluate_file, load_config
from runway.errors import ConfigError, RunwayError
from runway.project import Project


@pytest.fixture(autouse=True)
def _builtin_plugins_only(runway_builtin_plugins):
    yield


def test_experiment_imports_from_configs_and_relative_paths(project):
    config = load_config("x")
    assert config["train"] == {
        "epochs": 3,
        "layers": [8, 16, 32],
        "optimizer": {"name": "adamw", "lr": 0.001},
    }


def test_external_variables(project):
    config = load_config("x")
    assert config["meta"] == {"name": "x", "root": str(project.resolve()), "dummy": False}
    assert load_config("x", dummy=True)["meta"]["dummy"] is True


def test_caller_ext_vars_are_added(project):
    write(project / "configs" / "experiments" / "ev.jsonnet", "{ description: std.extVar('who') }")
    assert load_config("ev", ext_vars={"who": "me"})["description"] == "me"


def test_config_file_outside_any_project(tmp_path, monkeypatch):
    folder = tmp_path / "loose"
    write(folder / "lib.libsonnet", "{ epochs: 2 }")
    path = write(folder / "exp.jsonnet", "{ train: import 'lib.libsonnet', description: std.extVar('runway.experiment_name') }")
    monkeypatch.chdir(tmp_path)
    config = load_config(path)
    assert config == {"train": {"epochs": 2}, "description": "exp"}


def test_experiment_in_a_subfolder_is_named_by_its_relative_path(project):
    write(project / "configs" / "experiments" / "ablations" / "small.jsonnet", "{ tag: std.extVar('runway.experiment_name') }")
    assert load_config("ablations/small")["tag"] == "ablations/small"


def test_opts_are_applied(project):
    config = load_config("x", opts=["train.epochs=5", "+train.extra.deep=[1]", "~loggers"])
    assert config["train"]["epochs"] == 5
    assert config["train"]["extra"] == {"deep": [1]}
    assert "loggers" not in config


def test_missing_experiment_lists_existing_names(project):
    write(project / "configs" / "experiments" / "baseline.jsonnet", "{}")
    with pytest.raises(ConfigError, match=r"no experiment config 'baselin'.*Did you mean 'baseline'\?.*baseline, x"):
        load_config("baselin")


def test_outside_a_project_a_name_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RunwayError, match="not inside a Runway project"):
        load_config("x")


def test_syntax_error_names_file_line_and_column(project):
    path = write(project / "configs" / "experiments" / "syn.jsonnet", "{\n  a: 1\n  b: 2,\n}\n")
    with pytest.raises(ConfigError) as info:
        load_config("syn")
    assert str(info.value).startswith(f"{path}:3:3: Expected a comma before next field")


def test_runtime_error_names_file_line_and_column(project):
    path = write(project / "configs" / "experiments" / "boom.jsonnet", "{\n  train: {\n    lr: error 'lr is required',\n  },\n}\n")
    with pytest.raises(ConfigError) as info:
        load_config("boom")
    message = str(info.value)
    assert message.startswith(f"{path}:3:9: lr is required")
    assert "jsonnet stack" in message


def test_error_inside_an_import_names_the_imported_file(project):
    lib = write(project / "configs" / "broken.libsonnet", "{ a: }\n")
    write(project / "configs" / "experiments" / "imp.jsonnet", "local b = import 'broken.libsonnet';\nb\n")
    with pytest.raises(ConfigError, match=rf"^{lib}:1:6: Unexpected"):
        load_config("imp")


def test_missing_import_says_where_it_looked(project):
    path = write(project / "configs" / "experiments" / "mi.jsonnet", "local m = import 'nothere.libsonnet';\n{ train: m }\n")
    with pytest.raises(ConfigError) as info:
        load_config("mi")
    message = str(info.value)
    assert message.startswith(f"{path}:1:11: cannot find import 'nothere.libsonnet'; looked in: ")
    assert f"{path.parent} (next to mi.jsonnet)" in message
    assert f"{project.resolve() / 'configs'} (library path)" in message


def test_undefined_external_variable(project):
    write(project / "configs" / "experiments" / "ev.jsonnet", "{ tag: std.extVar('runway.nope') }")
    with pytest.raises(ConfigError, match="Undefined external variable: runway.nope"):
        load_config("ev")


def test_config_must_be_an_object(project):
    write(project / "configs" / "experiments" / "arr.jsonnet", "[1, 2]")
    with pytest.raises(ConfigError, match="must evaluate to an object"):
        load_config("arr")


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.jsonnet")


def test_evaluate_file_search_paths_last_wins(tmp_path):
    write(tmp_path / "a" / "w.libsonnet", "{ w: 'a' }")
    write(tmp_path / "b" / "w.libsonnet", "{ w: 'b' }")
    path = write(tmp_path / "e.jsonnet", "import 'w.libsonnet'")
    assert evaluate_file(path, search_paths=[tmp_path / "a", tmp_path / "b"]) == {"w": "b"}


def test_project_for_a_config_file_inside_a_project(project, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = project / "configs" / "experiments" / "x.jsonnet"
    config = load_config(path)
    assert config["meta"]["root"] == str(Project.find(path).root)
