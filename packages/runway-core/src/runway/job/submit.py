"""Submitting a job: check, allocate, write the spec, hand the folder to a launcher.

Every way of starting work goes through here: ``train`` and ``run``, a
``--resume``, each sweep point and a rerun. Everything that can be wrong
with the request (a setting, a launcher or logger nobody provides, a resume
that would change what the version is) is found before a version folder
exists; a launcher that refuses the job takes the folder it was allocated
for with it.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.errors import ConfigError, ExperimentError, RunwayError
from runway.job.spec import JobSpec, key_digests, load_job, write_config, write_spec
from runway.launch.job import Job, JobHandle

#: settings that ``--resume`` may change (everything else is the version's own)
RESUME_CHANGES = ("train.epochs",)

Echo = Callable[[str], None]


def _echo(line: str) -> None:
    print(line, flush=True)


@dataclass
class Submission:
    """A request to run ``command`` on experiment ``name`` with the resolved ``config``."""

    command: str
    name: str
    config: dict[str, Any]
    project: Any
    launcher: str = "local"
    loggers: Sequence[str] = ()
    tags: Sequence[str] = ()
    dummy: bool = False
    parent: str | None = None
    #: the command line recorded in provenance (default: this process's, secrets hidden)
    argv: Sequence[str] | None = None
    #: fields added to provenance.json (``sweep``, ``rerun_of``, ...)
    provenance: dict[str, Any] = field(default_factory=dict)

    def resolved_tags(self) -> list[str]:
        """The tags as recorded and sent to loggers: ``--tag`` (else the config's ``tag``), secret values hidden."""
        from runway.config.redact import redact_argv

        if self.tags:
            raw = [str(t) for t in self.tags]
        else:
            configured = self.config.get("tag") or []
            raw = [configured] if isinstance(configured, str) else [str(t) for t in configured]
        return redact_argv(raw)


def command_line(argv: Sequence[str] | None = None) -> list[str]:
    """The command line as the user typed it (for provenance), secret values as ``***``."""
    from runway.config.redact import redact_argv

    return redact_argv(sys.argv if argv is None else argv)


def check_launcher(plugins: Any, launcher: str) -> None:
    available = plugins.implementers("launch_job")
    if launcher not in available:
        raise plugins.unknown("launcher", launcher, available)


def check_submission(sub: Submission, plugins: Any) -> tuple[Any, list[str]]:
    """The settings and logger names of ``sub``; raises before anything is written."""
    from runway.experiment.class_path import check_lightning_job
    from runway.experiment.executor_plugin import check_executor_classes
    from runway.experiment.settings import parse_settings
    from runway.experiment.versions import check_name
    from runway.logging.loggers import check_logger_names, resolve_logger_names

    check_name(sub.name)
    from runway.job.spec import PIPELINE_COMMAND

    if sub.command == PIPELINE_COMMAND:  # a rerun of a pipeline submission
        raise ExperimentError(
            f"{sub.name}: a {PIPELINE_COMMAND!r} version is a pipeline submission; submit the pipeline again with "
            f"`runway prepare {sub.name} --launcher LAUNCHER`"
        )
    check_launcher(plugins, sub.launcher)
    settings = parse_settings(sub.config)
    check_lightning_job(sub.command, sub.config, settings)
    check_executor_classes(sub.config, settings)
    loggers = resolve_logger_names(list(sub.loggers), sub.config)
    check_logger_names(loggers, plugins)
    if sub.command == "run":
        check_suffix(settings.test.suffix)
    return settings, loggers


def check_suffix(suffix: str) -> str:
    from runway.experiment.versions import NAME_PATTERN

    if not NAME_PATTERN.fullmatch(suffix) or "/" in suffix:
        raise ExperimentError(f"invalid test suffix {suffix!r}: use letters, digits, '.', '_', '-'")
    return suffix


def _resources(config: dict[str, Any], launcher: str) -> dict[str, Any]:
    return dict(((config.get("launcher") or {}).get(launcher)) or {})


def plugin_distributions(plugins: Any) -> tuple[str, ...]:
    return tuple(sorted({i.distribution for i in plugins.info.values() if i.distribution and not i.builtin}))


def base_provenance(sub: Submission, plugins: Any) -> dict[str, Any]:
    """The provenance fields that all versions of one submission share (git, packages, host)."""
    from runway.experiment.provenance import collect_provenance

    return collect_provenance(
        argv=command_line(sub.argv),
        project_root=sub.project.root,
        experiment=sub.name,
        version=0,
        config_fingerprint="",
        parent=sub.parent,
        tag=sub.resolved_tags(),
        launcher=sub.launcher,
        plugin_distributions=plugin_distributions(plugins),
    )


def create_version(
    sub: Submission,
    loggers: Sequence[str],
    *,
    provenance: dict[str, Any],
    durable: bool = True,
    runs_here: bool = True,
    job_type: str | None = None,
) -> tuple[Any, JobSpec]:
    """Allocate a version of ``sub.name`` and write its spec, config, provenance and ``pending`` status.

    ``runs_here=False``: the job is not run by this process even with the
    local launcher (a sweep's child processes, a pipeline's node jobs), so
    the pending version records no owner. ``job_type`` goes into the status
    (a pipeline submission's ``prepare``).
    """
    from runway.config import fingerprint
    from runway.experiment.status import write_status
    from runway.experiment.store import PROVENANCE_FILE, ExperimentStore
    from runway.support.clock import now_iso
    from runway.support.files import write_json

    version = ExperimentStore.for_project(sub.project).allocate(sub.name)
    now = now_iso()
    spec = JobSpec(
        command=sub.command,
        experiment=sub.name,
        version=version.number,
        project_root=str(Path(sub.project.root).resolve()),
        fingerprint=fingerprint(sub.config),
        launcher=sub.launcher,
        loggers=tuple(loggers),
        tags=tuple(sub.resolved_tags()),
        dummy=sub.dummy,
        resources=_resources(sub.config, sub.launcher),
        segments=({"segment": 0, "submitted": now, "command": sub.command, "launcher": sub.launcher, "resume": False},),
        key_digests=key_digests(sub.config),
    )
    write_config(version.path, sub.config, durable=durable)
    record = {
        **provenance,
        **sub.provenance,
        "version": version.number,
        "config_fingerprint": spec.fingerprint,
        "created": now,
        "segments": list(spec.segments),
    }
    write_json(version.path / PROVENANCE_FILE, record, durable=durable)
    write_spec(version.path, spec, durable=durable)
    owner = pending_owner(sub.launcher) if runs_here else {"pid": None, "host": None}
    write_status(version.path, "pending", job_type=job_type, launcher=sub.launcher, **owner)
    return version, spec


def pending_owner(launcher: str) -> dict[str, Any]:
    """Who owns a ``pending`` version: this process for the local launcher, which runs the
    job here (a kill before it starts then reads as interrupted); nobody for the others."""
    import os

    from runway.support.processes import this_host

    return {"pid": os.getpid(), "host": this_host()} if launcher == "local" else {"pid": None, "host": None}


def job_for(version_dir: Path, spec: JobSpec, config: dict[str, Any], *, wait: bool = False, dry_run: bool = False) -> Job:
    return Job(
        version_dir=Path(version_dir),
        experiment=spec.experiment,
        version=spec.version,
        command=spec.command,
        project_root=Path(spec.project_root),
        resources=dict(spec.resources),
        wait=wait,
        dry_run=dry_run,
        config=config,
    )


def discard_version(version: Any, echo: Echo = _echo) -> None:
    """Remove a version that was allocated for a job that never started."""
    shutil.rmtree(version.path, ignore_errors=True)
    echo(f"{version.label}: removed (nothing was launched)")


def launch(version: Any, spec: JobSpec, config: dict[str, Any], plugins: Any, *, wait: bool, fresh: bool, echo: Echo = _echo) -> JobHandle:
    """Hand ``version`` to its launcher. A launcher that refuses a ``fresh`` version's job removes it."""
    job = job_for(version.path, spec, config, wait=wait)
    try:
        handle = plugins.hook.launch_job(job=job, launcher=spec.launcher)
    except RunwayError:
        if fresh and (version.status or {}).get("state") == "pending":
            discard_version(version, echo)
        raise
    if handle is None:
        raise plugins.unknown("launcher", spec.launcher, plugins.implementers("launch_job"))
    if handle.state not in ("completed", "dry-run", "failed"):
        ident = f" as job {handle.job_id}" if handle.job_id else ""
        echo(f"{version.label}: {handle.state} with launcher {spec.launcher!r}{ident}")
        echo(f"follow it with `runway status {spec.experiment} --version {spec.version}` (and `runway logs`, `runway cancel`)")
    return handle


def dry_run(sub: Submission, loggers: Sequence[str], plugins: Any) -> JobHandle:
    """What submitting ``sub`` would launch; allocates and writes nothing."""
    from runway.config import fingerprint
    from runway.experiment.store import ExperimentStore, Version
    from runway.experiment.versions import folder_name

    store = ExperimentStore.for_project(sub.project)
    upcoming = (store.versions(sub.name) or [0])[-1] + 1
    version = Version(sub.name, upcoming, store.root / folder_name(sub.name, upcoming))
    spec = JobSpec(
        command=sub.command, experiment=sub.name, version=upcoming, project_root=str(sub.project.root),
        fingerprint=fingerprint(sub.config), launcher=sub.launcher, loggers=tuple(loggers), dummy=sub.dummy,
        resources=_resources(sub.config, sub.launcher),
    )
    job = job_for(version.path, spec, sub.config, dry_run=True)
    handle = plugins.hook.launch_job(job=job, launcher=sub.launcher)
    if handle is None:
        raise plugins.unknown("launcher", sub.launcher, plugins.implementers("launch_job"))
    return handle


def submit(sub: Submission, plugins: Any, *, wait: bool = False, dry_run_only: bool = False, echo: Echo = _echo) -> tuple[Any, JobHandle]:
    """Check ``sub``, allocate its version, write the job and launch it: ``(version, handle)``.

    With ``dry_run_only`` nothing is allocated (the version is ``None``).
    """
    _, loggers = check_submission(sub, plugins)
    if dry_run_only:
        return None, dry_run(sub, loggers, plugins)
    version, spec = create_version(sub, loggers, provenance=base_provenance(sub, plugins))
    echo(f"{version.label}: {version.path}")
    return version, launch(version, spec, sub.config, plugins, wait=wait, fresh=True, echo=echo)


# --------------------------------------------------------------------------- resume


def resume_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{key: [old, new]}`` of what ``--opts`` on a resume changes; refuses what may not change."""
    from runway.config import flatten

    old, new = flatten(before), flatten(after)
    changed = sorted(k for k in {*old, *new} if old.get(k, KeyError) != new.get(k, KeyError))
    refused = [k for k in changed if k not in RESUME_CHANGES]
    if refused:
        raise ConfigError(
            f"--resume continues the version with its own config; these settings cannot change on resume: "
            f"{', '.join(refused)}. Only {', '.join(RESUME_CHANGES)} may (to train longer). "
            "Start a new version for other changes: runway train NAME --opts ..."
        )
    changes = {k: [old.get(k), new.get(k)] for k in changed}
    epochs = changes.get("train.epochs")
    if epochs is not None and isinstance(epochs[0], int) and isinstance(epochs[1], int) and epochs[1] < epochs[0]:
        raise ConfigError(f"train.epochs: a resume may extend training ({epochs[0]} epochs so far), not shorten it to {epochs[1]}")
    return changes


def submit_resume(
    version: Any,
    plugins: Any,
    *,
    command: str,
    opts: Sequence[str] = (),
    launcher: str | None = None,
    loggers: Sequence[str] = (),
    wait: bool = False,
    echo: Echo = _echo,
) -> JobHandle:
    """Continue ``version`` from its ``last.ckpt`` with its own config as a new segment.

    ``opts`` may change only :data:`RESUME_CHANGES`; the changes are
    recorded in ``config.json``, ``job.json`` and provenance's ``segments``.
    """
    from runway.config import apply_overrides, fingerprint, parse_overrides
    from runway.experiment.checkpoint_io import check_checkpoint
    from runway.experiment.settings import parse_settings
    from runway.experiment.status import read_status, write_status
    from runway.job.lease import LeaseHeld, check_free
    from runway.launch.preemption import resume_checkpoint
    from runway.logging.loggers import check_logger_names, resolve_logger_names
    from runway.support.clock import now_iso

    spec, config = load_job(version.path)
    launcher = launcher or spec.launcher
    check_launcher(plugins, launcher)
    new_config = apply_overrides(config, parse_overrides(opts)) if opts else config
    changes = resume_changes(config, new_config)
    settings = parse_settings(new_config)
    if command == "run":
        check_suffix(settings.test.suffix)
    names = resolve_logger_names(list(loggers), new_config) if loggers else list(spec.loggers)
    check_logger_names(names, plugins)
    last = resume_checkpoint(version.path)
    if last is None:
        raise ExperimentError(f"--resume: {version.label} has no train/checkpoints/last.ckpt to continue from; train a new version instead")
    check_checkpoint(last)  # a damaged one is refused here, before the version's status changes
    check_free(version.path, version.label)
    status = read_status(version.path)
    if status.get("state") == "running":
        raise LeaseHeld(
            f"{version.label} is {status['state']} (process {status.get('pid')} on {status.get('host')}); "
            "wait for it to end or cancel it before resuming"
        )
    segment = {
        "segment": len(spec.segments),
        "submitted": now_iso(),
        "command": command,
        "launcher": launcher,
        "resume": True,
        "changes": changes,
    }
    new_spec = spec.with_changes(
        command=command,
        launcher=launcher,
        loggers=tuple(names),
        resume=True,
        resources=_resources(new_config, launcher),
        fingerprint=fingerprint(new_config),
        key_digests=key_digests(new_config),
        segments=(*spec.segments, segment),
    )
    if changes:
        write_config(version.path, new_config)
    write_spec(version.path, new_spec)
    version.update_provenance(config_fingerprint=new_spec.fingerprint, segments=list(new_spec.segments))
    write_status(version.path, "pending", job_type=None, launcher=launcher, **pending_owner(launcher))
    shown = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changes.items())
    echo(f"{version.label}: resuming (segment {segment['segment']}{'; ' + shown if shown else ''})")
    return launch(version, new_spec, new_config, plugins, wait=wait, fresh=False, echo=echo)
