"""Properties of the override parser (hypothesis)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from runway.config import apply_overrides, canonical_json, flatten, format_path, parse_overrides, split_path
from runway.errors import ConfigError

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=6), children, max_size=4),
    max_leaves=20,
)
# non-empty keys of any characters, dots, '=' and backslashes included:
# format_path escapes them (an empty key cannot be written as a path)
keys = st.text(min_size=1, max_size=8)
configs = st.dictionaries(keys, json_values, min_size=1, max_size=5)


@settings(max_examples=150, deadline=None)
@given(tokens=st.lists(st.text(max_size=30), max_size=4), config=configs)
def test_never_crashes_on_arbitrary_input(tokens, config):
    try:
        result = apply_overrides(config, parse_overrides(tokens))
    except ConfigError:
        return
    assert isinstance(result, dict)


@settings(max_examples=150, deadline=None)
@given(tokens=st.lists(st.text(alphabet="ab.=+~\\0[]{}\" ", max_size=12), max_size=4))
def test_never_crashes_on_override_like_input(tokens):
    config = {"a": {"b": [0, {"a": 1}]}, "b": 2}
    try:
        apply_overrides(config, parse_overrides(tokens))
    except ConfigError:
        pass


@settings(max_examples=150, deadline=None)
@given(config=configs, data=st.data(), new_value=json_values)
def test_set_a_leaf_by_its_dotted_path_and_read_it_back(config, data, new_value):
    flat = flatten(config)
    if not flat:
        return
    key = data.draw(st.sampled_from(sorted(flat)))
    result = apply_overrides(config, parse_overrides([f"{key}={json.dumps(new_value)}"]))
    node = result
    for segment in split_path(key):
        node = node[int(segment)] if isinstance(node, list) else node[segment]
    assert canonical_json(node) == canonical_json(new_value)
    # every other leaf is untouched
    others = {k: v for k, v in flatten(result).items() if k != key and not k.startswith(key + ".")}
    assert canonical_json(others) == canonical_json({k: v for k, v in flat.items() if k != key})


@settings(max_examples=100, deadline=None)
@given(config=configs, path=st.lists(keys, min_size=1, max_size=4), value=json_values)
def test_add_then_read_back_through_the_same_path(config, path, value):
    token = "+" + format_path(path) + "=" + json.dumps(value)
    try:
        result = apply_overrides(config, parse_overrides([token]))
    except ConfigError:
        return  # a prefix of the path is a scalar or a list in this config
    node = result
    for segment in path:
        node = node[int(segment)] if isinstance(node, list) else node[segment]
    assert canonical_json(node) == canonical_json(value)
