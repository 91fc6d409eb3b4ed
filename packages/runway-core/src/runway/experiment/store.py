"""The experiment store: versions of experiments and the records in each.

.. code-block:: text

    experiments/<name>_V<n>/
      config.json        the resolved config, secrets redacted
      provenance.json    command, git, packages, host, time, parent, data keys
      status.json        pending / running / completed / failed / interrupted
      train/checkpoints/ best.ckpt, last.ckpt (written by Lightning)
      train/logs/        the csv metrics (and other local logger output)
      test-<suffix>/     records.parquet, summary.json, config.json, metrics.json
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runway.errors import ExperimentError
from runway.experiment.status import read_status
from runway.experiment.versions import (
    allocate_version,
    check_name,
    existing_versions,
    folder_name,
    parse_folder_name,
)
from runway.support.files import read_json, write_json

# written by runway.experiment.provenance; named here so that reading a store imports none of it
PROVENANCE_FILE = "provenance.json"

CONFIG_FILE = "config.json"
JOB_FILE = "job.json"  # the job spec (runway.job.spec)
METRICS_FILE = "metrics.json"
TEST_PREFIX = "test-"


class Version:
    """One ``<name>_V<n>`` folder and typed access to its records; immutable, equal by its fields.

    A plain class, not a dataclass: defining one costs every command that reads the store
    (``runway list``) start-up time."""

    __slots__ = ("name", "number", "path")
    name: str
    number: int
    path: Path

    def __init__(self, name: str, number: int, path: Path) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "path", path)

    def __setattr__(self, attr: str, value: Any) -> None:
        raise AttributeError(f"a Version is immutable: cannot set {attr!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.name, self.number, self.path) == (other.name, other.number, other.path)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.name, self.number, self.path))

    def __repr__(self) -> str:
        return f"Version(name={self.name!r}, number={self.number!r}, path={self.path!r})"

    @property
    def label(self) -> str:
        return f"{self.name}_V{self.number}"

    @property
    def config(self) -> dict[str, Any]:
        return read_json(self.path / CONFIG_FILE, {}, expect=dict)

    @property
    def provenance(self) -> dict[str, Any]:
        return read_json(self.path / PROVENANCE_FILE, {}, expect=dict)

    @property
    def status(self) -> dict[str, Any]:
        return read_status(self.path)

    @property
    def train_dir(self) -> Path:
        return self.path / "train"

    @property
    def checkpoints_dir(self) -> Path:
        return self.train_dir / "checkpoints"

    def test_dir(self, suffix: str) -> Path:
        return self.path / f"{TEST_PREFIX}{suffix}"

    def tests(self) -> list[str]:
        """Suffixes of the test runs of this version, sorted."""
        if not self.path.is_dir():
            return []
        return sorted(
            p.name[len(TEST_PREFIX):] for p in self.path.iterdir() if p.is_dir() and p.name.startswith(TEST_PREFIX)
        )

    def metrics(self, suffix: str) -> dict[str, Any]:
        return read_json(self.test_dir(suffix) / METRICS_FILE, {}, expect=dict)

    def checkpoints(self) -> list[Path]:
        if not self.checkpoints_dir.is_dir():
            return []
        return sorted(self.checkpoints_dir.glob("*.ckpt"))

    @property
    def dummy(self) -> bool:
        """Whether the version ran on the pipeline's dummy data (``--dummy`` or ``meta.use_dummy_data``)."""
        spec = read_json(self.path / JOB_FILE, {}, expect=dict)
        meta = self.config.get("meta")
        return bool(spec.get("dummy")) or bool(isinstance(meta, dict) and meta.get("use_dummy_data") is True)

    def duration_s(self) -> float | None:
        """Seconds from the job's start to its end (or to its last update while it runs), if recorded."""
        from datetime import datetime

        status = self.status
        started, updated = status.get("started"), status.get("updated")
        if not isinstance(started, str) or not isinstance(updated, str):
            return None
        try:
            return max(0.0, (datetime.fromisoformat(updated) - datetime.fromisoformat(started)).total_seconds())
        except ValueError:
            return None

    def update_provenance(self, **fields: Any) -> None:
        """Merge ``fields`` into ``provenance.json`` (atomically)."""
        record = self.provenance
        record.update(fields)
        write_json(self.path / PROVENANCE_FILE, record)


class ExperimentStore:
    """The versions under a project's ``experiments/`` folder."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @classmethod
    def for_project(cls, project: Any) -> "ExperimentStore":
        return cls(project.experiments_dir)

    def versions(self, name: str) -> list[int]:
        return existing_versions(self.root, name)

    def allocate(self, name: str) -> Version:
        """A new, empty version of ``name`` (safe against concurrent starts)."""
        number, path = allocate_version(self.root, name)
        return Version(name, number, path)

    def get(self, name: str, version: int | None = None) -> Version:
        """Version ``version`` of ``name``, the latest when ``None``."""
        check_name(name)
        versions = self.versions(name)
        if not versions:
            known = sorted({v.name for v in self.all()})
            listing = ", ".join(known) if known else "none"
            raise ExperimentError(
                f"experiment {name!r} has no versions in {self.root} (run `runway train {name}` first). "
                f"Experiments with versions: {listing}"
            )
        if version is None:
            version = versions[-1]
        if version not in versions:
            raise ExperimentError(
                f"experiment {name!r} has no version {version}; it has {', '.join(map(str, versions))}"
            )
        return Version(name, version, self.root / folder_name(name, version))

    def existing(self, name: str, version: int) -> Version:
        """Version ``version`` of ``name`` that must already exist (no allocation)."""
        return self.get(name, version)

    def all(self) -> list[Version]:
        """Every version in the store, by name then number."""
        if not self.root.is_dir():
            return []
        found = []
        for entry in self.root.iterdir():
            parsed = parse_folder_name(entry.name)
            if parsed is not None and entry.is_dir():
                found.append(Version(parsed[0], parsed[1], entry))
        return sorted(found, key=lambda v: (v.name, v.number))
