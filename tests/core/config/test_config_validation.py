"""Top-level section checks and the plugins' ``validate_config`` hook."""

from __future__ import annotations

import pytest
from config_files import write

import runway
from runway.config import load_config, validate
from runway.errors import ConfigError


def test_a_well_formed_config_passes(runway_builtin_plugins):
    validate(
        {
            "meta": {},
            "data_pipeline": {},
            "executor": {},
            "datamodule": {},
            "train": {},
            "test": {},
            "eval": {},
            "launcher": {},
            "loggers": ["csv", "wandb"],
            "plugins": {},
            "sweep": {},
            "tag": "baseline",
            "description": "d",
            "parent": None,
            "_scratch": 1,
        },
        runway_builtin_plugins,
    )


def test_an_empty_config_passes(runway_builtin_plugins):
    validate({}, runway_builtin_plugins)


def test_unknown_top_level_key_suggests_the_closest_section(runway_builtin_plugins):
    with pytest.raises(ConfigError, match=r"unknown top-level key 'trian'\. Did you mean 'train'"):
        validate({"trian": {}}, runway_builtin_plugins)


def test_section_types_are_checked_and_all_problems_reported_together(runway_builtin_plugins):
    with pytest.raises(ConfigError) as info:
        validate({"train": [], "loggers": "csv", "description": 3, "tag": [1], "datamodul": {}}, runway_builtin_plugins)
    message = str(info.value)
    assert "5 problem(s)" in message
    assert "train: expected an object, got a list" in message
    assert "loggers: expected a list of logger names (strings), got a string" in message
    assert "description: expected a string, got a number" in message
    assert "tag: expected a string or a list of strings, got a list" in message
    assert "'datamodul'. Did you mean 'datamodule'?" in message


class SlurmLikeChecker:
    """An inline plugin that owns ``launcher.slurm``."""

    @runway.hookimpl
    def validate_config(self, config):
        slurm = config.get("launcher", {}).get("slurm")
        if slurm is None:
            return None
        problems = []
        if not isinstance(slurm.get("time"), str):
            problems.append("launcher.slurm.time: expected HH:MM:SS")
        if slurm.get("nodes", 1) < 1:
            problems.append("launcher.slurm.nodes: must be at least 1")
        config["launcher"]["tampered"] = True  # a plugin must not change the real config
        return problems


class AlwaysUnhappy:
    @runway.hookimpl
    def validate_config(self, config):
        return ["tag: must mention the dataset"]


def test_plugins_validate_their_sections_and_problems_are_collected(runway_builtin_plugins, register_plugin):
    register_plugin(SlurmLikeChecker(), name="slurmlike")
    register_plugin(AlwaysUnhappy(), name="unhappy")
    config = {"launcher": {"slurm": {"time": 5, "nodes": 0}}}
    with pytest.raises(ConfigError) as info:
        validate(config, runway_builtin_plugins)
    message = str(info.value)
    assert "3 problem(s)" in message
    for problem in ("launcher.slurm.time: expected HH:MM:SS", "launcher.slurm.nodes: must be at least 1", "tag: must mention the dataset"):
        assert f"  - {problem}" in message
    assert "tampered" not in config["launcher"]


def test_plugin_validation_passes_when_the_plugin_is_happy(runway_builtin_plugins, register_plugin):
    register_plugin(SlurmLikeChecker(), name="slurmlike")
    validate({"launcher": {"slurm": {"time": "01:00:00"}}}, runway_builtin_plugins)


def test_a_plugins_own_top_level_section_is_allowed(runway_builtin_plugins, register_plugin):
    register_plugin(AlwaysUnhappy(), name="unhappy")
    with pytest.raises(ConfigError) as info:
        validate({"unhappy": {"x": 1}}, runway_builtin_plugins)
    assert "unknown top-level key" not in str(info.value)


def test_load_config_runs_plugin_validation_of_the_process_wide_manager(project, runway_builtin_plugins, register_plugin):
    register_plugin(SlurmLikeChecker(), name="slurmlike")
    write(project / "configs" / "experiments" / "s.jsonnet", "{ launcher: { slurm: { time: '01:00:00' } } }")
    assert load_config("s")["launcher"]["slurm"]["time"] == "01:00:00"
    with pytest.raises(ConfigError, match=r"launcher\.slurm\.time: expected HH:MM:SS"):
        load_config("s", opts=["launcher.slurm.time=3"])
