"""Canonical JSON, fingerprints, flattening, diffs and redaction."""

from __future__ import annotations

import pytest
from config_files import write

from runway.config import canonical_json, diff_configs, evaluate_file, fingerprint, flatten, redact
from runway.errors import ConfigError


def test_canonical_json_is_sorted_compact_and_utf8():
    assert canonical_json({"b": [1, {"d": 1, "c": "é"}], "a": None}) == '{"a":null,"b":[1,{"c":"é","d":1}]}'


def test_fingerprint_ignores_key_order_but_not_values():
    a = {"train": {"lr": 0.1, "epochs": 3}, "loggers": ["csv"]}
    b = {"loggers": ["csv"], "train": {"epochs": 3, "lr": 0.1}}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint({**a, "loggers": ["wandb"]})
    assert fingerprint(a) != fingerprint({"train": {"lr": "0.1", "epochs": 3}, "loggers": ["csv"]})


def test_fingerprint_is_stable_across_releases():
    # pinned: changing the canonical form would orphan every saved fingerprint
    assert fingerprint({"b": 1, "a": "é"}) == "aa58fba8483623bed37c1b02edfccbdd9a53123837c20bfa4cb4049993a2872e"


def test_same_config_written_two_ways_has_one_fingerprint(tmp_path):
    one = write(tmp_path / "one.jsonnet", "{ train: { lr: 0.1, epochs: 3 } }")
    two = write(tmp_path / "two.jsonnet", "local lr = 0.05 * 2; { train: { epochs: 1 + 2 } + { lr: lr } }")
    assert fingerprint(evaluate_file(one)) == fingerprint(evaluate_file(two))


def test_non_json_values_are_config_errors():
    with pytest.raises(ConfigError, match="not plain JSON"):
        canonical_json({"a": float("nan")})
    with pytest.raises(ConfigError, match="not plain JSON"):
        canonical_json({"a": object()})


def test_flatten_uses_dotted_paths_and_keeps_empty_containers():
    assert flatten({"a": {"b": [1, {"c": 2}], "e": {}, "f": []}, "x.y": 3}) == {
        "a.b.0": 1,
        "a.b.1.c": 2,
        "a.e": {},
        "a.f": [],
        "x\\.y": 3,
    }


def test_diff_reports_changed_added_and_removed_keys():
    a = {"train": {"lr": 0.1, "epochs": 3, "layers": [1, 2]}, "loggers": ["csv"]}
    b = {"train": {"lr": 0.2, "epochs": 3, "layers": [1]}, "loggers": ["csv"], "tag": "t"}
    diff = diff_configs(a, b)
    assert diff.changed == {"train.lr": (0.1, 0.2)}
    assert diff.added == {"tag": "t"}
    assert diff.removed == {"train.layers.1": 2}
    assert diff.lines() == ['+ tag: "t"', "- train.layers.1: 2", "  train.lr: 0.1 -> 0.2"]  # by key
    assert not diff_configs(a, a)


def test_diff_sees_a_change_of_type():
    assert diff_configs({"a": 1}, {"a": True}).changed == {"a": (1, True)}
    assert diff_configs({"a": 1}, {"a": 1.0}).changed == {"a": (1, 1.0)}


@pytest.mark.parametrize(
    "key",
    ["api_key", "wandb_token", "hf_token", "token", "password", "db_password", "client_secret", "AWS_SECRET_ACCESS_KEY", "accessKey", "secrets", "credentials"],
)
def test_secret_keys_are_redacted(key):
    assert redact({"x": {key: "s3cret"}}) == {"x": {key: "***"}}


@pytest.mark.parametrize(
    "key",
    ["keys_list", "max_tokens", "tokenizer", "token_ids", "key_field", "pad_token", "eos_token", "monkey", "tokens"],
)
def test_ordinary_keys_are_not_redacted(key):
    assert redact({key: "visible"}) == {key: "visible"}


def test_redaction_keeps_flags_and_nulls_and_does_not_change_the_input():
    config = {"loggers": [{"api_key": "k"}], "use_auth_token": True, "hf_token": None, "wandb": {"api_key": {"a": 1}}}
    assert redact(config) == {"loggers": [{"api_key": "***"}], "use_auth_token": True, "hf_token": None, "wandb": {"api_key": "***"}}
    assert config["loggers"][0]["api_key"] == "k"
