"""Fuzzing the command line: whatever the tokens, a result (exit 0) or a clear
error (exit 2, ``Error: ...``), never a traceback or another exit code."""

from __future__ import annotations

import json

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# argv can carry neither NUL nor lone surrogates
ARG_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
KEY_TEXT = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="._:~+\\-="), min_size=0, max_size=25)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | ARG_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ARG_TEXT, inner, max_size=4),
    max_leaves=10,
)
EXISTING_PATHS = [
    "data_pipeline.name",
    "data_pipeline.regenerate",
    "data_pipeline.transforms",
    "data_pipeline.transforms.input:a.setup_kwargs.n",
    "data_pipeline.transforms.input:a.setup_kwargs",
    "data_pipeline.transforms.scale:a.input_node",
    "data_pipeline.transforms.scale:a.cache",
    "data_pipeline.transforms.scale:a.regenerate",
    "data_pipeline.transforms.scale:a.inspect",
    "data_pipeline.transforms.join.input_node",
    "data_pipeline.transforms.join.input_node.0",
    "data_pipeline.transforms.output:wrapped",
]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _as_token(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _assert_result_or_clear_error(result: Result) -> None:
    output = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), f"{result.exception!r}\n{output}"
    assert "Traceback (most recent call last)" not in output, output
    assert result.exit_code in (0, 2), f"exit {result.exit_code}:\n{output}"
    if result.exit_code == 2:
        assert "Error" in output, output


override_tokens = st.one_of(
    st.builds(lambda k, v: f"{k}={v}", KEY_TEXT, ARG_TEXT),
    st.builds(lambda k, v: f"+{k}={_as_token(v)}", KEY_TEXT, JSON_VALUES),
    st.builds(lambda k: f"~{k}", KEY_TEXT),
    st.builds(lambda p, v: f"{p}={_as_token(v)}", st.sampled_from(EXISTING_PATHS), JSON_VALUES),
    ARG_TEXT,
)


@pytest.mark.slow
@FUZZ
@given(tokens=st.lists(override_tokens, min_size=1, max_size=4))
def test_config_show_takes_any_opts(light, invoke, tokens):
    _assert_result_or_clear_error(invoke("config", "show", "light", "--opts", *tokens))


@pytest.mark.slow
@FUZZ
@given(path=st.sampled_from(EXISTING_PATHS), value=JSON_VALUES)
def test_pipeline_explain_takes_any_config_value(light, invoke, path, value):
    _assert_result_or_clear_error(invoke("pipeline", "explain", "light", "--opts", f"{path}={_as_token(value)}"))


@pytest.mark.slow
@FUZZ
@given(name=ARG_TEXT | st.sampled_from(["Scale", "Numbers", "scale", "Scale ", "runway.Transform", "os.system", "__import__"]))
def test_pipeline_explain_takes_any_transform_name(light, invoke, name):
    result = invoke("pipeline", "explain", "light", "--opts", f"data_pipeline.transforms.scale:a.transform_name={json.dumps(name)}")
    _assert_result_or_clear_error(result)
    if name != "Scale":
        assert result.exit_code == 2 and "transform" in result.output, result.output
