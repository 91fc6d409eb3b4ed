"""Writing experiment configs: ``configs/experiments/<name>.jsonnet``.

``runway experiment NAME`` starts from the project's template, which imports
``meta_config.libsonnet``, ``data_config.libsonnet`` and
``model_config.libsonnet``. ``--from OTHER`` (or ``--config FILE``) writes the
other config, resolved and with ``--opts`` applied, as JSON with
``parent: "OTHER"`` recorded, so ``runway show`` can diff against it.
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
    """A config derived from another one: JSON (valid jsonnet) with ``parent`` first."""
    body = {k: v for k, v in config.items() if k != "parent"}
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
