"""Executing a version folder's job: what every launcher runs.

:func:`execute` reads the spec and the config from the folder (never the
user's config files), checks the config's fingerprint, takes the version's
lease (rank zero only) and runs the command's body inside :func:`tracked`,
which keeps ``status.json`` true. The same call runs in the submitting
process (``--launcher local``), in each DDP rank (``runway execute DIR``,
which Lightning starts for ranks above zero) and in each task of a SLURM
job.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runway.errors import RunFailed, RunwayError, is_machine_state
from runway.job.spec import JobSpec, load_job


def tag_mapping(tags: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` tags by key, plain tags joined under ``tag``: the loggers' ``Run.tags``."""
    mapping: dict[str, str] = {}
    plain = []
    for tag in tags:
        key, sep, value = tag.partition("=")
        if sep:
            mapping[key] = value
        else:
            plain.append(tag)
    if plain:
        mapping["tag"] = ",".join(plain)
    return mapping


def _record_failure(version: Any, exc: BaseException, job_type: str) -> None:
    from runway.experiment.status import write_failure

    try:
        write_failure(version.path, exc, job_type=job_type)
    except OSError:
        pass  # the folder itself cannot be written (full, read-only): the error says so


@contextmanager
def tracked(version: Any, job_type: str, *, record: bool = True) -> Iterator[None]:
    """Mark ``version`` running, then completed, failed (with the error) or interrupted.

    A :class:`RunwayError` inside (bad input found late) keeps its exit
    code 2; any other exception becomes :class:`RunFailed` (exit code 1).
    ``record=False`` (DDP ranks other than 0) leaves ``status.json`` alone.
    """
    from runway.experiment.status import write_status

    if record:
        write_status(version.path, "running", job_type=job_type)
    try:
        yield
    except KeyboardInterrupt:
        if record:
            write_status(version.path, "interrupted", job_type=job_type, reason="KeyboardInterrupt")
        raise
    except RunwayError as exc:
        if record:
            _record_failure(version, exc, job_type)
        raise
    except Exception as exc:
        if record:
            _record_failure(version, exc, job_type)
        if is_machine_state(exc):
            raise  # a full disk or a read-only folder: the command reports it as such (exit 2)
        raise RunFailed(f"{job_type} of {version.label} failed: {type(exc).__name__}: {exc}") from exc
    except BaseException as exc:  # SystemExit from a signal handler, a preemption
        if record:
            write_status(version.path, "interrupted", job_type=job_type, reason=f"{type(exc).__name__}: {exc}")
        raise
    if record:
        write_status(version.path, "completed", job_type=job_type)


#: set to the version folder while this process executes a job: plugins that join every Lightning
#: Trainer (a ``lightning.pytorch.callbacks_factory`` entry point) stay out of a user's own
JOB_ENV = "RUNWAY_JOB"


@contextmanager
def _ranks_execute(version_dir: Path) -> Iterator[None]:
    """Let processes that re-run this one's command line (Lightning's DDP ranks) execute this job.

    Lightning starts ranks above zero with ``sys.argv`` of rank zero; during
    the job that command line is ``runway execute VERSION_DIR``, whatever the
    user typed, so no rank resolves a config of its own. :data:`JOB_ENV`
    names the folder meanwhile (the ranks inherit it).
    """
    saved, saved_job = sys.argv, os.environ.get(JOB_ENV)
    sys.argv = [saved[0] if saved else "runway", "execute", str(version_dir)]
    os.environ[JOB_ENV] = str(version_dir)
    try:
        yield
    finally:
        sys.argv = saved
        if saved_job is None:
            os.environ.pop(JOB_ENV, None)
        else:
            os.environ[JOB_ENV] = saved_job


def format_metrics(metrics: dict[str, Any]) -> str:
    """``accuracy=0.9500  loss=0.1234``; a value that is not a number (a missing or NaN metric) as it is."""
    return "  ".join(f"{k}={v:.4f}" if isinstance(v, (int, float)) and not isinstance(v, bool) else f"{k}={v}" for k, v in metrics.items())


def _echo(line: str) -> None:
    print(line, flush=True)


def load_project(spec: JobSpec) -> Any:
    """The project the job was submitted in, with its code imported."""
    from runway.project import Project

    root = Path(spec.project_root)
    project = Project.find(root, required=False) or Project(root=root)
    load_project_code(project)
    return project


def load_project_code(project: Any) -> None:
    """Import the project's code; an error in it is a failed run (exit 1) with its traceback."""
    try:
        project.load_code()
    except RunwayError:
        raise  # bad input found before the code ran (a package it needs is missing): exit 2
    except Exception as exc:
        raise RunFailed(f"loading the project's code from {project.root} failed: {type(exc).__name__}: {exc}") from exc


def plugins_for_job() -> Any:
    from runway.plugins import get_plugins

    plugins = get_plugins()
    plugins.reset_caches()  # the project's code may have registered transforms since
    return plugins


@dataclass(frozen=True)
class _Context:
    """What a command's body works with: the job as submitted, and what executing it set up."""

    spec: JobSpec
    config: dict[str, Any]
    settings: Any
    version: Any
    project: Any
    plugins: Any
    tags: dict[str, str]
    resume: bool
    rank_zero: bool


def _train(job: _Context) -> dict[str, Any]:
    from runway.experiment.training import train_version

    result = train_version(
        job.version, job.config, job.project, job.plugins,
        settings=job.settings, logger_names=list(job.spec.loggers), tags=job.tags, resume=job.resume, dummy=job.spec.dummy,
    )
    if job.rank_zero:
        score = f" ({result.monitor}={result.best_score:.4f})" if result.best_score is not None else ""
        _echo(f"{job.version.label}: trained; best checkpoint {result.best_checkpoint}{score}")
    return {"version": job.version.number, "best_checkpoint": result.best_checkpoint, "best_score": result.best_score}


def _run(job: _Context) -> dict[str, Any]:
    from runway.experiment.evaluation import evaluate_version
    from runway.experiment.inference import infer_version

    trained = _train(job)
    if not job.rank_zero:
        return trained
    suffix = job.settings.test.suffix
    infer_version(job.version, suffix, job.config, job.project, job.plugins, settings=job.settings, checkpoint="best", dummy=job.spec.dummy)
    metrics = evaluate_version(
        job.version, suffix, job.config, job.plugins, logger_names=list(job.spec.loggers), tags=job.tags, settings=job.settings
    )
    _echo(f"{job.version.label} {suffix}: {format_metrics(metrics)}")
    return {**trained, "metrics": metrics}


_BODIES = {"train": _train, "run": _run}


def _check_not_run(version: Any) -> None:
    """A submitted job runs once: a version that already ran is continued with ``--resume``, never redone."""
    from runway.errors import ExperimentError
    from runway.experiment.status import read_status

    state = read_status(version.path).get("state")
    if state != "pending":
        raise ExperimentError(
            f"{version.label} has already run (its status is {state!r}); executing it again would overwrite "
            f"what it wrote. Continue it with `runway train {version.name} --resume --version {version.number}`, "
            "or submit a new version."
        )


def execute(version_dir: Path | str, *, requeued: bool = False) -> dict[str, Any]:
    """Run the job of ``version_dir`` to its end and return its result.

    ``requeued``: this process continues a job that a launcher requeued (a
    preemption, a time-out); it resumes from ``last.ckpt`` when the version
    has one.

    :raises RunwayError: bad input (exit code 2): a damaged or edited spec,
        a version another process runs, a setting found wrong late.
    :raises RunFailed: the job failed (exit code 1); ``status.json`` says why.
    """
    from runway.experiment.preparation import is_rank_zero
    from runway.experiment.settings import parse_settings
    from runway.experiment.store import Version
    from runway.job.lease import holding
    from runway.launch.preemption import resume_checkpoint

    version_dir = Path(version_dir).resolve()
    spec, config = load_job(version_dir)
    if spec.command not in _BODIES:  # a pipeline submission: its node jobs run runway.pipeline.submit.execute_node
        from runway.errors import ExperimentError

        raise ExperimentError(f"{version_dir} holds a {spec.command!r} submission, whose node jobs run it; it is not a job to execute")
    settings = parse_settings(config)
    version = Version(spec.experiment, spec.version, version_dir)
    rank_zero = is_rank_zero()
    resume = spec.resume or (requeued and resume_checkpoint(version_dir) is not None)
    with holding(version_dir, version.label) if rank_zero else nullcontext():
        if rank_zero and not requeued:
            _check_not_run(version)
        project = load_project(spec)
        plugins = plugins_for_job()
        job = _Context(
            spec=spec, config=config, settings=settings, version=version, project=project, plugins=plugins,
            tags=tag_mapping(spec.tags), resume=resume, rank_zero=rank_zero,
        )
        with _ranks_execute(version_dir), tracked(version, spec.command, record=rank_zero):
            return _BODIES[spec.command](job)


def report_failure(exc: RunFailed) -> None:
    """Print a failed run the way every command does: the cause's traceback (the project's own
    frames, all with ``runway --traceback``; :mod:`runway.support.tracebacks`), then ``Error: ...``."""
    from runway.project.requirements import missing_module_hint
    from runway.support.tracebacks import format_crash

    cause = exc.__cause__
    if cause is not None:
        print(format_crash(cause), file=sys.stderr, flush=True)
    print(f"Error: {exc}", file=sys.stderr, flush=True)
    hint = missing_module_hint(cause) if cause is not None else None
    if hint:
        print(hint, file=sys.stderr, flush=True)
