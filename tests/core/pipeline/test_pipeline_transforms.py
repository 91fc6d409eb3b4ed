"""Transforms, the registry built from `register_transforms`, and the cache formats."""

from __future__ import annotations

import importlib
import io
import sys
from collections import OrderedDict
from pathlib import Path

import pytest

import runway
from runway.errors import PipelineError
from runway.pipeline import Pipeline, Progress, run_pipeline, transform_registry
from runway.pipeline.core_formats import JsonFormat, PickleFormat, TorchFormat
from runway.pipeline.formats import format_registry
from runway.plugins import get_plugins, make_plugin_manager

SHOUT_SRC = Path(__file__).resolve().parents[2] / "plugins" / "runway-shout" / "src"


class Upper(runway.Transform):
    def setup(self, field="text"):
        self.field = field

    def _call(self, rows):
        return [{**r, self.field: r[self.field].upper()} for r in rows]


class Rows(runway.Transform):
    def setup(self, n=2):
        self.n = n

    def _call(self, data):
        rows = [{"text": f"row {i}"} for i in range(self.n)]
        return rows[:1] if self.use_dummy_data else rows


class PluginA:
    @runway.hookimpl
    def register_transforms(self, register):
        register(Upper)
        register(Rows)


class PluginB:
    @runway.hookimpl
    def register_transforms(self, register):
        register(Rows, name="Upper")


def test_a_third_party_package_written_as_in_the_design_works(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(SHOUT_SRC))
    shout = importlib.import_module("runway_shout")
    plugins = make_plugin_manager(builtins_only=True, extra_plugins=[("shout", shout), ("rows", PluginA())])
    registry = transform_registry(plugins)
    assert registry.get("Shout").source == "plugin 'shout' (module runway_shout)"
    config = {
        "transforms": {
            "input:Rows": {"transform_name": "Rows", "setup_kwargs": {"n": 3}},
            "output:Shout": {"transform_name": "Shout", "input_node": "input:Rows", "setup_kwargs": {"field": "text"}},
        }
    }
    run = run_pipeline(config, tmp_path, plugins=plugins, progress=Progress(io.StringIO()))
    assert run.outputs["output:Shout"] == [{"text": "ROW 0"}, {"text": "ROW 1"}, {"text": "ROW 2"}]
    sys.modules.pop("runway_shout", None)


def test_a_name_registered_by_two_plugins_is_an_error_naming_both():
    plugins = make_plugin_manager(builtins_only=True, extra_plugins=[("first", PluginA()), ("second", PluginB())])
    with pytest.raises(PipelineError, match=r"'Upper' is registered twice: by plugin 'first' .* and by plugin 'second'"):
        transform_registry(plugins)


def test_project_transform_clashing_with_a_package_names_both(tmp_path):
    def Upper(rows):  # noqa: N802 - the clash is the point
        return rows

    runway.register_transform(Upper)
    plugins = make_plugin_manager(builtins_only=True, extra_plugins=[("pkg", PluginA())])
    with pytest.raises(PipelineError, match=r"'Upper' is registered twice: by plugin 'core-project' \(module .*\) and by plugin 'pkg'"):
        transform_registry(plugins)


def test_register_transform_twice_from_two_modules_names_both_modules():
    def one(data):
        return data

    runway.register_transform(one, name="Same")
    two = type(one)(one.__code__, {"__name__": "elsewhere"}, "two")
    two.__module__ = "elsewhere"
    with pytest.raises(PipelineError, match=r"'Same' is registered twice: by module '.*test_pipeline_transforms' and by module 'elsewhere'"):
        runway.register_transform(two, name="Same")


def test_registry_is_built_once_per_plugin_manager_and_sees_late_registrations():
    plugins = get_plugins()
    first = transform_registry(plugins)
    assert transform_registry(plugins) is first

    @runway.register_transform(name="late")
    def late(data):
        return data

    assert "late" in transform_registry(plugins)


def test_function_transforms_take_setup_kwargs_as_keywords_and_the_dummy_flag(tmp_path):
    @runway.register_transform(version=3)
    def head(rows, *, n=1, use_dummy_data=False):
        return rows[: 1 if use_dummy_data else n]

    plugins = make_plugin_manager(builtins_only=True, extra_plugins=[("rows", PluginA())])
    entry = transform_registry(plugins).get("head")
    assert entry.cls.version == 3
    config = {
        "transforms": {
            "input:Rows": {"transform_name": "Rows", "setup_kwargs": {"n": 4}},
            "output:Head": {"transform_name": "head", "input_node": "input:Rows", "setup_kwargs": {"n": 2}},
        }
    }
    quiet = Progress(quiet=True)
    assert len(run_pipeline(config, tmp_path, plugins=plugins, progress=quiet).outputs["output:Head"]) == 2
    assert len(run_pipeline(config, tmp_path, plugins=plugins, progress=quiet, dummy=True).outputs["output:Head"]) == 1

    config["transforms"]["output:Head"]["setup_kwargs"] = {"m": 2}
    with pytest.raises(PipelineError, match=r"setup_kwargs\.m: head\.setup\(\) has no parameter 'm'"):
        run_pipeline(config, tmp_path, plugins=plugins, progress=quiet)


def test_missing_required_setup_kwarg(tmp_path):
    class NeedsPath(runway.Transform):
        def setup(self, path):
            self.path = path

        def _call(self, data):
            return self.path

    runway.register_transform(NeedsPath)
    with pytest.raises(PipelineError, match=r"setup_kwargs: NeedsPath\.setup\(\) requires 'path'"):
        run_pipeline({"transforms": {"output:P": {"transform_name": "NeedsPath"}}}, tmp_path, progress=Progress(quiet=True))


def test_call_order_and_checks():
    calls = []

    class Checked(runway.Transform):
        def _preprocess(self, data):
            calls.append("preprocess")
            return data + [0]

        def _check_input(self, data):
            calls.append("check_input")

        def _call(self, data):
            calls.append("call")
            return sum(data)

        def _check_output(self, data):
            calls.append("check_output")
            return data >= 0

    assert Checked()([1, 2]) == 3
    assert calls == ["preprocess", "check_input", "call", "check_output"]
    with pytest.raises(PipelineError, match="_check_output rejected its output"):
        Checked()([-5])
    assert Upper()._apply_mapping([{"a": 1, "b": 2}], {"a": "x"}) == [{"x": 1}]


def test_node_model_is_immutable_and_keyword_only():
    pipeline = Pipeline.from_config({"transforms": {"output:A": {"transform_name": "Rows", "setup_kwargs": {"n": [1]}}}})
    node = pipeline.nodes["output:A"]
    with pytest.raises(AttributeError):
        node.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        node.setup_kwargs["n"] = 2  # type: ignore[index]
    with pytest.raises(TypeError):
        type(node)("output:B", "Rows")  # type: ignore[misc]


def test_unknown_node_key_is_reported_with_a_suggestion():
    with pytest.raises(PipelineError, match=r'"process:B"\.input_nodes: unknown key\. Did you mean \'input_node\''):
        Pipeline.from_config({"transforms": {"process:B": {"transform_name": "Rows", "input_nodes": "x"}}})


# ------------------------------------------------------------------ formats


def _round_trip(fmt, obj, tmp_path):
    folder = tmp_path / fmt.name
    folder.mkdir()
    fmt.save(obj, folder)
    return fmt.load(folder)


def test_json_format_round_trips_plain_data_exactly_and_refuses_tuples(tmp_path):
    fmt = JsonFormat()
    plain = {"a": [1, 2.5, "x", None, True], "b": {"c": []}}
    assert fmt.accepts(plain) and _round_trip(fmt, plain, tmp_path) == plain
    assert not fmt.accepts({"a": (1, 2)})
    assert not fmt.accepts({1: "int key"})


def test_torch_format_round_trips_tensors_and_tuples(tmp_path):
    import torch

    fmt = TorchFormat()
    obj = {"x": torch.arange(4), "pair": (1, "a"), 3: OrderedDict(w=torch.ones(2))}
    assert fmt.accepts(obj)
    back = _round_trip(fmt, obj, tmp_path)
    assert torch.equal(back["x"], obj["x"]) and back["pair"] == (1, "a") and torch.equal(back[3]["w"], torch.ones(2))
    assert not fmt.accepts({"f": Path("x")})


def test_formats_are_chosen_by_priority(tmp_path):
    registry = format_registry(get_plugins())
    assert registry.names() == ["json", "torch", "pickle"]
    assert registry.for_object({"a": 1}).name == "json"
    assert registry.for_object({"a": (1,)}).name == "torch"
    assert registry.for_object(Path("x")).name == "pickle"
    assert _round_trip(PickleFormat(), Path("x"), tmp_path) == Path("x")


def test_a_plugin_format_with_higher_priority_wins(tmp_path, register_plugin_on_default):
    class Upper:
        name = "upper-text"
        priority = 100

        def accepts(self, obj):
            return isinstance(obj, str)

        def save(self, obj, folder):
            (folder / "text.txt").write_text(obj.upper())

        def load(self, folder):
            return (folder / "text.txt").read_text()

    class TextFormats:
        @runway.hookimpl
        def register_cache_formats(self, register):
            register(Upper())

    register_plugin_on_default(TextFormats(), "text-formats")

    @runway.register_transform
    def hello(data):
        return "hello"

    config = {"transforms": {"output:H": {"transform_name": "hello"}}}
    first = run_pipeline(config, tmp_path, progress=Progress(quiet=True))
    assert first.outputs["output:H"] == "hello"
    second = run_pipeline(config, tmp_path, progress=Progress(quiet=True))
    assert second.actions["output:H"] == "LOAD" and second.outputs["output:H"] == "HELLO"
