"""Writing experiment configs: ``configs/experiments/<name>.jsonnet``.

``runway experiment NAME`` starts from the project's template, which imports
``meta_config.libsonnet``, ``data_config.libsonnet`` and
``model_config.libsonnet``. ``--from OTHER`` (or ``--config FILE``) writes the
other config, resolved and with ``--opts`` applied, as JSON with
``parent`` recorded: ``"OTHER:N"``, the exact version it came from, where
``--from`` named a version (``OTHER:3``, ``OTHER_V3``, ``SWEEP:best``), else
``"OTHER"`` (its config file), so ``runway show`` diffs against that.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from runway.errors import ExperimentError
from runway.experiment.versions import check_name
from runway.support.files import write_atomic

EXPERIMENT_TEMPLATE = "experiment.jsonnet.tmpl"


def config_path(project: Any, name: str) -> Path:
    return project.experiment_configs_dir / f"{check_name(name)}.jsonnet"


def template_text(name: str) -> str:
    """The new-experiment template, naming ``name`` in its description."""
    text = resources.files("runway.templates").joinpath(EXPERIMENT_TEMPLATE).read_text(encoding="utf-8")
    return text.replace("{{name}}", name)


def derived_text(config: dict[str, Any], parent: str | None) -> str:
    """A config derived from another one: JSON (valid jsonnet) with ``parent`` first.

    ``meta.use_dummy_data`` is written false, whatever the source resolved to
    (a dummy version's config says true): the new experiment's runs use
    dummy data when their command says ``--dummy`` (which turns the flag on
    as the config is loaded, so their config.json records it).
    """
    body = {k: v for k, v in config.items() if k != "parent"}
    meta = body.get("meta")
    if isinstance(meta, dict) and isinstance(meta.get("use_dummy_data"), bool):
        body["meta"] = {**meta, "use_dummy_data": False}
    ordered = {"parent": parent, **body} if parent else body
    return json.dumps(ordered, indent=2) + "\n"


def write_experiment_config(project: Any, name: str, text: str, *, force: bool = False) -> Path:
    """Write ``configs/experiments/<name>.jsonnet``; an existing one needs ``force``."""
    path = config_path(project, name)
    if path.exists() and not force:
        raise ExperimentError(
            f"experiment config {path} already exists; pass --force to overwrite it, or choose another name"
        )
    return write_atomic(path, text)
