"""What ``launch_job`` carries and what it returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Job:
    """One command to run for one experiment version.

    ``argv`` is the runway command line that the launched process runs (for
    example ``["train", "exp", "--version", "3"]``); ``version_dir`` is the
    experiment version folder it belongs to (allocated before launch, so every
    rank and every requeue writes into the same one); ``resources`` is the
    launcher's config section (``launcher.<name>``) after ``--opts``.
    """

    argv: list[str]
    experiment: str
    version: int
    version_dir: Path
    project_root: Path
    resources: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    wait: bool = False
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["version_dir"] = str(self.version_dir)
        data["project_root"] = str(self.project_root)
        return data


@dataclass
class JobHandle:
    """A launched job: ``state`` is ``completed``, ``failed``, ``submitted``,
    ``running`` or ``dry-run``; ``job_id`` is the launcher's own id when it has
    one; ``result`` is the in-process return value for the local launcher."""

    launcher: str
    state: str
    job_id: str | None = None
    result: Any = None
    info: dict[str, Any] = field(default_factory=dict)
