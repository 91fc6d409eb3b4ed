"""Reading sweep axes and expanding them: grids, random samples, ranges."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runway.errors import ConfigError
from runway.sweep.space import (
    Range,
    expand_grid,
    parse_axes,
    parse_axis,
    parse_range,
    sample_random,
    split_top_level,
)

json_scalars = st.one_of(
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)


def test_comma_lists_json_lists_and_single_values():
    assert parse_axis("lr=1e-3,1e-4").values == (1e-3, 1e-4)
    assert parse_axis("lr=[1e-3,1e-4]").values == (1e-3, 1e-4)
    assert parse_axis("opt=adam,sgd").values == ("adam", "sgd")
    assert parse_axis("hidden=[16],[32,32]").values == ([16], [32, 32])
    assert parse_axis("hidden=[[16],[32,32]]").values == ([16], [32, 32])
    single = parse_axis("train.epochs=1")
    assert single.values == (1,) and not single.swept
    assert parse_axis('name="a,b"').values == ("a,b",)
    assert parse_axis('+meta.new={"a":1,"b":2}').values == ({"a": 1, "b": 2},)
    assert parse_axis("+meta.new=1,2").key == "+meta.new"


def test_ranges_are_read_without_evaluating_anything():
    assert parse_axis("lr=loguniform(1e-5,1e-2)").range == Range("loguniform", (1e-5, 1e-2))
    assert parse_axis("dropout=uniform(0,0.5)").range == Range("uniform", (0.0, 0.5))
    assert parse_axis("batch=int(16,128)").range == Range("int", (16, 128))
    assert parse_axis("layers=choice(2,3,4)").range == Range("choice", (2, 3, 4))
    assert parse_axis('opt=choice("adam", sgd)').range == Range("choice", ("adam", "sgd"))
    assert parse_range("adamw", "x") is None
    with pytest.raises(ConfigError, match="unknown range '__import__'"):
        parse_axis("lr=__import__('os')")
    with pytest.raises(ConfigError, match="unknown range 'normal'"):
        parse_axis("lr=normal(0,1)")
    with pytest.raises(ConfigError, match="unknown range 'exec'"):
        parse_axis("lr=exec(1)")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("lr=loguniform(0,1)", "above 0"),
        ("lr=uniform(1,1)", "low must be below high"),
        ("lr=uniform(a,1)", "two numbers"),
        ("lr=uniform(1)", "two numbers"),
        ("batch=int(1.5,3)", "two integers"),
        ("batch=int(9,3)", "low is above high"),
        ("layers=choice()", "at least one value"),
        ("lr", "expected KEY=VALUE"),
        ("lr=1,,2", "empty item"),
        ("lr=[1,2", "cannot split"),
        ("lr=[]", "empty list"),
        ("~a=1", "takes no value"),
    ],
)
def test_bad_axes_say_what_is_wrong(token, message):
    with pytest.raises(ConfigError, match=message):
        parse_axis(token)


def test_a_key_given_twice_is_an_error():
    with pytest.raises(ConfigError, match="given twice"):
        parse_axes(["lr=1,2", "+lr=3"])


def test_grid_is_the_product_with_the_last_axis_fastest():
    points = expand_grid(parse_axes(["lr=1e-3,1e-4", "batch=32,64", "epochs=1", "~meta.seed"]))
    assert [p.overrides for p in points] == [
        {"lr": 1e-3, "batch": 32, "epochs": 1, "~meta.seed": None},
        {"lr": 1e-3, "batch": 64, "epochs": 1, "~meta.seed": None},
        {"lr": 1e-4, "batch": 32, "epochs": 1, "~meta.seed": None},
        {"lr": 1e-4, "batch": 64, "epochs": 1, "~meta.seed": None},
    ]
    assert points[0].tokens() == ["lr=0.001", "batch=32", "epochs=1", "~meta.seed"]


def test_grid_takes_choice_but_refuses_continuous_ranges():
    assert len(expand_grid(parse_axes(["layers=choice(2,3)", "lr=1,2"]))) == 4
    with pytest.raises(ConfigError, match="--random N"):
        expand_grid(parse_axes(["lr=loguniform(1e-5,1e-2)"]))


def test_tokens_keep_strings_strings():
    (point,) = expand_grid(parse_axes(['tag="3"', "name=abc"]))
    assert point.tokens() == ['tag="3"', 'name="abc"']


@settings(max_examples=60, deadline=None)
@given(st.lists(json_values, min_size=2, max_size=5))
def test_comma_joined_json_values_read_back(values):
    token = "k=" + ",".join(json.dumps(v) for v in values)
    assert list(parse_axis(token).values) == values


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=4, unique=True), min_size=1, max_size=4))
def test_grid_holds_every_combination_once(axes_values):
    tokens = [f"k{i}=" + json.dumps(values) for i, values in enumerate(axes_values)]
    points = expand_grid(parse_axes(tokens))
    assert len(points) == math.prod(len(v) for v in axes_values)
    combos = {tuple(p.overrides[f"k{i}"] for i in range(len(axes_values))) for p in points}
    assert len(combos) == len(points)


@settings(max_examples=60, deadline=None)
@given(
    low=st.floats(1e-8, 1e3),
    span=st.floats(1.01, 1e4),
    ilow=st.integers(-50, 50),
    iwidth=st.integers(0, 20),
    seed=st.integers(0, 2**31),
    count=st.integers(1, 20),
)
def test_random_samples_stay_in_range_and_repeat_with_the_seed(low, span, ilow, iwidth, seed, count):
    high = low * span
    axes = parse_axes([
        f"a=loguniform({low!r},{high!r})",
        f"b=uniform({-low!r},{high!r})",
        f"c=int({ilow},{ilow + iwidth})",
        "d=choice(1,\"x\",[2])",
        "e=5,6",
        "f=7",
    ])
    points = sample_random(axes, count, seed)
    assert [p.overrides for p in points] == [p.overrides for p in sample_random(axes, count, seed)]
    for p in points:
        values = p.overrides
        assert low <= values["a"] <= high * (1 + 1e-12)
        assert -low <= values["b"] <= high
        assert isinstance(values["c"], int) and ilow <= values["c"] <= ilow + iwidth
        assert values["d"] in (1, "x", [2])
        assert values["e"] in (5, 6)
        assert values["f"] == 7


def test_int_range_includes_both_ends():
    seen = {p.overrides["b"] for p in sample_random(parse_axes(["b=int(1,3)"]), 200, seed=1)}
    assert seen == {1, 2, 3}


def test_random_needs_a_positive_count():
    with pytest.raises(ConfigError, match="at least 1"):
        sample_random(parse_axes(["a=1,2"]), 0, seed=0)


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet='ab,[](){}"\\ ', max_size=16))
def test_splitting_never_loses_characters(text):
    try:
        parts = split_top_level(text)
    except ValueError:
        return
    assert ",".join(parts) == text
