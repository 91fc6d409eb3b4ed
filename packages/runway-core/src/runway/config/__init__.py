"""Experiment configs: jsonnet evaluation, ``--opts`` overrides, validation,
canonical JSON and fingerprints, diffs and secret redaction.

Only :mod:`runway.config.jsonnet` touches the jsonnet interpreter, and only
when a file is evaluated; importing this package is cheap.
"""

from __future__ import annotations

from runway.support.lazy import lazy_attributes

# public name -> "module:attribute", imported on first access
_LAZY: dict[str, str] = {
    "ConfigDiff": "runway.config.canonical:ConfigDiff",
    "canonical_json": "runway.config.canonical:canonical_json",
    "diff_configs": "runway.config.canonical:diff_configs",
    "fingerprint": "runway.config.canonical:fingerprint",
    "flatten": "runway.config.canonical:flatten",
    "evaluate_file": "runway.config.jsonnet:evaluate_file",
    "EXT_EXPERIMENT_NAME": "runway.config.loading:EXT_EXPERIMENT_NAME",
    "EXT_PROJECT_ROOT": "runway.config.loading:EXT_PROJECT_ROOT",
    "EXT_USE_DUMMY_DATA": "runway.config.loading:EXT_USE_DUMMY_DATA",
    "experiment_config_path": "runway.config.loading:experiment_config_path",
    "experiment_names": "runway.config.loading:experiment_names",
    "load_config": "runway.config.loading:load_config",
    "Override": "runway.config.overrides:Override",
    "apply_overrides": "runway.config.overrides:apply_overrides",
    "parse_override": "runway.config.overrides:parse_override",
    "parse_overrides": "runway.config.overrides:parse_overrides",
    "parse_value": "runway.config.overrides:parse_value",
    "format_path": "runway.config.paths:format_path",
    "split_path": "runway.config.paths:split_path",
    "REDACTED": "runway.config.redact:REDACTED",
    "is_secret_key": "runway.config.redact:is_secret_key",
    "redact": "runway.config.redact:redact",
    "SECTIONS": "runway.config.validation:SECTIONS",
    "validate": "runway.config.validation:validate",
}

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())

# ``redact`` names both a submodule and its function: importing the submodule
# would bind the package attribute to the module, so the (cheap) function is bound here
from runway.config.redact import redact  # noqa: E402, F401

__all__ = sorted(_LAZY)
