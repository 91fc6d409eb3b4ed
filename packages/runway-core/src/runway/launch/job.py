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
    launcher's config section (``launcher.<name>``) after ``--opts``;
    ``config`` is the whole resolved config when the caller has it, so that a
    launcher can derive resources from other sections (tasks per node from
    ``train.trainer_paras.devices``). ``wait`` asks the launcher to follow
    the job to its end; ``dry_run`` to show what it would submit, and submit
    nothing (``version_dir`` then does not exist).
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
    config: dict[str, Any] | None = None

    @property
    def command(self) -> str | None:
        """The runway command (``train``, ``run``...), the first word of ``argv``."""
        return self.argv[0] if self.argv else None

    @property
    def resumable(self) -> bool:
        """Whether the command takes ``--resume`` (continue from the version's
        ``last.ckpt``), as a requeued job needs."""
        from runway.launch.preemption import RESUMABLE_COMMANDS

        return self.command in RESUMABLE_COMMANDS

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
