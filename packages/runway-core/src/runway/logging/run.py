"""The run that every logger hook receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.experiment.versions import parse_folder_name
from runway.support.files import read_json, write_json


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
        parsed = parse_folder_name(folder.name)
        if parsed is None:
            raise ValueError(f"{folder}: not an experiment version folder (expected <name>_V<n>)")
        return cls(
            experiment=parsed[0],
            version=parsed[1],
            version_dir=folder,
            config=read_json(folder / "config.json", {}, expect=dict),
            job_type=job_type,
        )

    def _state_path(self, plugin: str) -> Path:
        return Path(self.version_dir) / "loggers" / f"{plugin}.json"

    def state(self, plugin: str) -> dict[str, Any]:
        return read_json(self._state_path(plugin), {}, expect=dict)

    def save_state(self, plugin: str, data: dict[str, Any]) -> None:
        write_json(self._state_path(plugin), data)
