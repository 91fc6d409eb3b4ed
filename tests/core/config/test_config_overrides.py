"""``--opts`` parsing and application, form by form."""

from __future__ import annotations

import pytest

from runway.config import Override, apply_overrides, format_path, parse_overrides, parse_value
from runway.errors import ConfigError

CONFIG = {
    "train": {"lr": 0.1, "epochs": 3, "layers": [8, 16, {"kind": "relu"}], "optimizer": {"name": "adam"}},
    "data_pipeline": {"transforms": {"input.v2": {"cache": True}}},
    "loggers": ["csv"],
}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("-1.5", -1.5),
        ("1e-4", 1e-4),
        ("true", True),
        ("null", None),
        ('"3"', "3"),
        ("[1, 2]", [1, 2]),
        ('{"a": {"b": 1}}', {"a": {"b": 1}}),
        ("adamw", "adamw"),
        ("", ""),
        ("a=b", "a=b"),
        ("[1,", "[1,"),
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("1e400", "1e400"),
        ("__import__('os')", "__import__('os')"),
    ],
)
def test_values_are_json_literals_else_strings(text, value):
    assert parse_value(text) == value
    assert type(parse_value(text)) is type(value)


def test_set_existing_keys_at_any_depth():
    out = apply_overrides(CONFIG, ["train.lr=0.5", "train.optimizer.name=sgd", "train.layers.2.kind=gelu"])
    assert out["train"]["lr"] == 0.5
    assert out["train"]["optimizer"] == {"name": "sgd"}
    assert out["train"]["layers"][2] == {"kind": "gelu"}


def test_input_config_is_not_changed():
    before = repr(CONFIG)
    apply_overrides(CONFIG, ["train.lr=0.5", "~loggers", "+train.layers.3=1"])
    assert repr(CONFIG) == before


def test_list_items_by_index():
    assert apply_overrides(CONFIG, ["train.layers.0=3"])["train"]["layers"][:2] == [3, 16]


def test_value_may_contain_equals_signs():
    out = apply_overrides(CONFIG, ["train.optimizer.name=a=b=c"])
    assert out["train"]["optimizer"]["name"] == "a=b=c"


def test_replace_a_subtree_with_json():
    out = apply_overrides(CONFIG, ['train.optimizer={"name": "sgd", "momentum": 0.9}'])
    assert out["train"]["optimizer"] == {"name": "sgd", "momentum": 0.9}


def test_plus_adds_keys_and_intermediate_objects():
    out = apply_overrides(CONFIG, ["+new.deep.key=1", "+train.warmup=100"])
    assert out["new"] == {"deep": {"key": 1}}
    assert out["train"]["warmup"] == 100


def test_plus_on_an_existing_key_replaces_it():
    assert apply_overrides(CONFIG, ["+train.lr=2"])["train"]["lr"] == 2


def test_plus_at_the_end_of_a_list_appends():
    assert apply_overrides(CONFIG, ["+loggers.1=wandb"])["loggers"] == ["csv", "wandb"]


def test_tilde_deletes_keys_and_list_items():
    out = apply_overrides(CONFIG, ["~train.optimizer", "~train.layers.0"])
    assert "optimizer" not in out["train"]
    assert out["train"]["layers"] == [16, {"kind": "relu"}]


def test_escaped_dot_reaches_a_key_with_a_dot():
    out = apply_overrides(CONFIG, [r"data_pipeline.transforms.input\.v2.cache=false"])
    assert out["data_pipeline"]["transforms"]["input.v2"]["cache"] is False
    assert format_path(["data_pipeline", "transforms", "input.v2", "cache"]) == r"data_pipeline.transforms.input\.v2.cache"


def test_overrides_apply_in_order():
    assert apply_overrides(CONFIG, ["train.lr=1", "train.lr=2"])["train"]["lr"] == 2


def test_parse_gives_data_not_code():
    assert parse_overrides(["a.b=1", "+c=x", "~d.0"]) == [
        Override("set", ("a", "b"), 1, "a.b=1"),
        Override("add", ("c",), "x", "+c=x"),
        Override("delete", ("d", "0"), None, "~d.0"),
    ]


def test_unknown_key_names_the_closest_existing_ones():
    with pytest.raises(ConfigError, match=r"no key 'trian'.*Closest existing keys: 'train\.lr'.*\+trian\.lr=1"):
        apply_overrides(CONFIG, ["trian.lr=1"])


def test_unknown_leaf_names_the_closest_existing_ones():
    with pytest.raises(ConfigError, match=r"no key 'train\.epoch'.*'train\.epochs'"):
        apply_overrides(CONFIG, ["train.epoch=1"])


def test_deleting_a_missing_key_is_an_error():
    with pytest.raises(ConfigError, match=r"no key 'train\.nope'"):
        apply_overrides(CONFIG, ["~train.nope"])


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("train", "expected KEY=VALUE"),
        ("train..lr=1", "empty key"),
        ("=1", "empty key"),
        ("~train.lr=1", "takes no value"),
        ("train.layers.9=1", r"index 9 is out of range; 'train\.layers' has 3 items"),
        ("train.layers.x=1", r"'train\.layers' is a list"),
        ("train.lr.x=1", r"'train\.lr' is a number, not an object or a list"),
        ("+train.lr.x=1", r"'train\.lr' is a number"),
        ("+train.layers.9=1", "out of range"),
        ("train\\", "backslash"),
    ],
)
def test_bad_overrides_are_config_errors(token, message):
    with pytest.raises(ConfigError, match=message):
        apply_overrides(CONFIG, [token])
