"""The run that every logger hook receives."""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_VERSION_DIR = re.compile(r"(?P<name>.+)_V(?P<version>\d+)")


@dataclass
class Run:
    """One experiment version as the logging backends see it.

    ``job_type`` is ``train`` or ``test-<suffix>`` / ``eval-<suffix>`` so that a
    backend can group the tests of a version apart from its training.
    ``state(name)`` / ``save_state(name, data)`` keep a backend's own ids (a
    wandb run id, an mlflow run id) in ``<version_dir>/loggers/<name>.json``,
    so resume, requeue, infer and eval of that version find the same run.
    """

    experiment: str
    version: int
    version_dir: Path
    config: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    job_type: str = "train"

    @property
    def name(self) -> str:
        return f"{self.experiment}_V{self.version}"

    @property
    def log_dir(self) -> Path:
        """Where the local metric copy goes: ``<version_dir>/<job_type>/logs``
        (``train/logs`` for training, ``test-<suffix>/logs`` for a test)."""
        return Path(self.version_dir) / self.job_type / "logs"

    @classmethod
    def from_version_dir(cls, version_dir: Path | str, job_type: str = "train") -> "Run":
        """The run of an existing ``<name>_V<n>`` folder, config from its ``config.json``."""
        folder = Path(version_dir)
        match = _VERSION_DIR.fullmatch(folder.name)
        if match is None:
            raise ValueError(f"{folder}: not an experiment version folder (expected <name>_V<n>)")
        config_file = folder / "config.json"
        config = json.loads(config_file.read_text(encoding="utf-8")) if config_file.is_file() else {}
        return cls(
            experiment=match["name"],
            version=int(match["version"]),
            version_dir=folder,
            config=config,
            job_type=job_type,
        )

    def _state_path(self, plugin: str) -> Path:
        return Path(self.version_dir) / "loggers" / f"{plugin}.json"

    def state(self, plugin: str) -> dict[str, Any]:
        path = self._state_path(plugin)
        if not path.is_file():
            return {}
        return json.loads(path.read_text(encoding="utf-8"))

    def save_state(self, plugin: str, data: dict[str, Any]) -> None:
        path = self._state_path(plugin)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
        os.replace(tmp, path)
