"""The config of a pipeline command: resolved, and holding a ``data_pipeline`` section.

Shared by ``runway prepare`` (run here or submitted) and ``runway pipeline``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runway.config.loading import resolve_config


def load_pipeline_config(
    name: str | None, config_file: Path | None, opts: tuple[str, ...], dummy: bool
) -> tuple[Any, dict]:
    """``(project, config)`` of NAME or ``--config FILE`` with ``--opts``; an error when it has no ``data_pipeline``."""
    project, config = resolve_config(name, config_file, opts, dummy=dummy)
    if "data_pipeline" not in config:
        from runway.errors import PipelineError

        raise PipelineError(f"{name or config_file}: the config has no data_pipeline section")
    return project, config
