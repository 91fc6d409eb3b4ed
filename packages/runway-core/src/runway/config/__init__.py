"""Experiment configs: jsonnet evaluation, ``--opts`` overrides, validation,
canonical JSON and fingerprints, diffs and secret redaction.

Only :mod:`runway.config.jsonnet` touches the jsonnet interpreter, and only
when a file is evaluated; importing this package is cheap.
"""

from runway.config.canonical import ConfigDiff, canonical_json, diff_configs, fingerprint, flatten
from runway.config.jsonnet import evaluate_file
from runway.config.loading import (
    EXT_EXPERIMENT_NAME,
    EXT_PROJECT_ROOT,
    EXT_USE_DUMMY_DATA,
    experiment_config_path,
    experiment_names,
    load_config,
)
from runway.config.overrides import Override, apply_overrides, parse_override, parse_overrides, parse_value
from runway.config.paths import format_path, split_path
from runway.config.redact import REDACTED, is_secret_key, redact
from runway.config.validation import SECTIONS, validate

__all__ = [
    "EXT_EXPERIMENT_NAME",
    "EXT_PROJECT_ROOT",
    "EXT_USE_DUMMY_DATA",
    "REDACTED",
    "SECTIONS",
    "ConfigDiff",
    "Override",
    "apply_overrides",
    "canonical_json",
    "diff_configs",
    "evaluate_file",
    "experiment_config_path",
    "experiment_names",
    "fingerprint",
    "flatten",
    "format_path",
    "is_secret_key",
    "load_config",
    "parse_override",
    "parse_overrides",
    "parse_value",
    "redact",
    "split_path",
    "validate",
]
