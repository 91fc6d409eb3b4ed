"""What ``launch_job`` carries and what it returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: the runway command that executes a version folder's job (``runway execute DIR``)
EXECUTE_COMMAND = "execute"


@dataclass
class Job:
    """One version folder to execute.

    The folder holds the job spec, written at submission
    (:mod:`runway.job.spec`): a launcher runs
    ``runway.job.execute.execute(version_dir)`` there (in-process, or as
    ``python -m runway execute VERSION_DIR``), in every rank and on every
    requeue, so all of them run the one config that was submitted.
    ``command`` is the spec's command (``train``, ``run``); ``resources`` is
    the launcher's config section (``launcher.<name>``); ``config`` is the
    whole resolved config, so that a launcher can derive resources from
    other sections (tasks per node from ``train.trainer_paras.devices``).
    ``wait`` asks the launcher to follow the job to its end; ``dry_run`` to
    show what it would submit, and submit nothing (``version_dir`` then does
    not exist). ``plan`` is set for a pipeline submission (``command ==
    "prepare"``, :mod:`runway.pipeline.submit`): one job per node to
    compute, in order, each a dict with ``node``, ``key``, ``after`` (the
    nodes whose jobs it waits for), ``folder`` (its folder under
    ``version_dir/pipeline/``) and ``forced``.
    """

    version_dir: Path
    experiment: str
    version: int
    command: str
    project_root: Path
    resources: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    wait: bool = False
    dry_run: bool = False
    config: dict[str, Any] | None = None
    plan: list[dict[str, Any]] | None = None

    @property
    def argv(self) -> list[str]:
        """The runway command line that executes this job in another process."""
        return [EXECUTE_COMMAND, str(self.version_dir)]

    @property
    def resumable(self) -> bool:
        """Whether a requeued run continues from the version's ``last.ckpt``."""
        from runway.launch.preemption import RESUMABLE_COMMANDS

        return self.command in RESUMABLE_COMMANDS

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("config", None)
        data["version_dir"] = str(self.version_dir)
        data["project_root"] = str(self.project_root)
        data["argv"] = self.argv
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
