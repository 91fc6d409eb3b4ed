"""runway_for_ml habits on the command line and in configs get messages that say what to write instead."""

from __future__ import annotations

import pytest

from runway.config import apply_overrides, parse_overrides
from runway.errors import ConfigError, PipelineError


@pytest.mark.parametrize(("written", "json"), [("False", "false"), ("True", "true"), ("None", "null")])
def test_python_literals_in_opts_name_the_json_ones(written, json):
    with pytest.raises(ConfigError, match=f"{written} is Python; write {json}"):
        parse_overrides([f"train.use_lora={written}"])
    assert parse_overrides([f'train.use_lora="{written}"'])[0].value == written


@pytest.mark.parametrize(
    ("token", "replacement"),
    [
        ("meta.logger_enable=[]", "in Runway: loggers"),
        ("exp_version=3", "--version N"),
        ("test_suffix=beam5", "test.suffix"),
    ],
)
def test_a_seed_key_in_opts_names_its_runway_equivalent(token, replacement):
    config = {"meta": {"seed": 1}, "train": {"batch_size": 2}}
    with pytest.raises(ConfigError, match="a runway_for_ml key") as caught:
        apply_overrides(config, parse_overrides([token]))
    assert replacement in str(caught.value)


def test_an_unknown_transform_points_at_code_dirs():
    from runway.pipeline.registry import TransformRegistry

    with pytest.raises(PipelineError, match=r"found only in its code_dirs \(runway.toml\)") as caught:
        TransformRegistry(generation=0).lookup("LinearizeDialogActs", where="node 'process:L'")
    assert 'code_dirs = ["src/data_ops"]' in str(caught.value) and "runway migrate ." in str(caught.value)
