"""Experiment commands: ``experiment``, ``train``, ``infer``, ``eval``, ``run``, ``list``, ``show``.

``train`` and ``run`` allocate a version, write its records, and hand a
``Job`` to the launcher named by ``--launcher``; the launched process (told
its version by ``RUNWAY_EXPERIMENT_VERSION``) does the work. ``infer`` and
``eval`` act on an existing version in this process.

Exit codes: 0 success, 1 the run failed (its status records the error),
2 bad usage, config or input.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from runway.cli.common import config_option, opts_option
from runway.errors import ConfigError, ExperimentError, RunFailed, RunwayError

F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------- helpers


def _exit_on_run_failure(func: F) -> F:
    """A failed run prints its traceback and ``Error: ...`` and exits with 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RunFailed as exc:
            cause = exc.__cause__
            if cause is not None:
                click.echo("".join(traceback.format_exception(type(cause), cause, cause.__traceback__)), err=True)
            click.echo(f"Error: {exc}", err=True)
            click.get_current_context().exit(1)

    return wrapper  # type: ignore[return-value]


def _load_project_code(project: Any) -> None:
    """Import the project's code; an error in it is a failed run with its traceback."""
    try:
        project.load_code()
    except Exception as exc:
        raise RunFailed(f"loading the project's code from {project.root} failed: {type(exc).__name__}: {exc}") from exc


def _plugins() -> Any:
    from runway.plugins import get_plugins

    plugins = get_plugins()
    plugins.reset_caches()  # the project's code may have registered transforms since
    return plugins


class Source:
    """An experiment's name, config and the arguments that rebuild it in a launched job."""

    def __init__(self, project: Any, name: str, config: dict[str, Any], argv: list[str], parent: str | None):
        self.project = project
        self.name = name
        self.config = config
        self.argv = argv
        self.parent = parent


def _resolve_source(
    name: str | None, from_: str | None, config_file: Path | None, opts: Sequence[str], *, dummy: bool = False
) -> Source:
    from runway.cli.common import resolve_config
    from runway.config import load_config
    from runway.experiment.configs import config_path, derived_text, write_experiment_config
    from runway.experiment.versions import check_name
    from runway.project import Project

    if from_ is not None:
        if not name:
            raise ConfigError("--from OTHER needs the new experiment's NAME")
        if config_file is not None:
            raise ConfigError("give --from OTHER or --config FILE, not both")
        project = Project.find()
        check_name(name)
        parent_config = load_config(from_, project=project, opts=opts, dummy=dummy)
        text = derived_text(parent_config, from_)
        path = config_path(project, name)
        if not path.exists():
            write_experiment_config(project, name, text)
        elif path.read_text(encoding="utf-8") != text:
            raise ExperimentError(
                f"experiment config {path} already exists and differs from {from_!r} with these --opts; "
                f"train it as it is (`runway train {name}`) or rewrite it with "
                f"`runway experiment {name} --from {from_} --force`"
            )
        config = load_config(name, project=project, dummy=dummy)
        return Source(project, name, config, [name], from_)
    project, config = resolve_config(name, config_file, opts, dummy=dummy)
    if config_file is not None:
        resolved_name = check_name(name or Path(config_file).stem)
        argv = [resolved_name, "--config", str(Path(config_file).resolve())]
    else:
        resolved_name = check_name(str(name))
        argv = [resolved_name]
    if opts:
        argv += ["--opts", *opts]
    parent = config.get("parent") if isinstance(config.get("parent"), str) else None
    return Source(project, resolved_name, config, argv, parent)


def _tags(cli_tags: Sequence[str], config: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The tags as given (for provenance) and as the loggers' ``Run.tags``."""
    raw = list(cli_tags)
    if not raw:
        configured = config.get("tag") or []
        raw = [configured] if isinstance(configured, str) else [str(t) for t in configured]
    mapping: dict[str, str] = {}
    plain = []
    for tag in raw:
        key, sep, value = tag.partition("=")
        if sep:
            mapping[key] = value
        else:
            plain.append(tag)
    if plain:
        mapping["tag"] = ",".join(plain)
    return raw, mapping


def _check_launcher(plugins: Any, launcher: str) -> None:
    available = plugins.implementers("launch_job")
    if launcher not in available:
        raise plugins.unknown("launcher", launcher, available)


def _common_job_args(loggers: Sequence[str], tags: Sequence[str], dummy: bool) -> list[str]:
    args: list[str] = []
    for value in loggers:
        args += ["--logger", value]
    for tag in tags:
        args += ["--tag", tag]
    if dummy:
        args.append("--dummy")
    return args


def _launch(
    command: str,
    source: Source,
    *,
    plugins: Any,
    launcher: str,
    version_number: int | None,
    extra_args: list[str],
    tags: list[str],
    wait: bool = False,
    dry_run: bool = False,
) -> Any:
    """Allocate (or reuse) the version, write its records, and hand the job to ``launcher``.

    ``--dry-run`` allocates nothing: the job names the version that would be
    allocated next. A launcher that refuses the job (a user error, before
    anything ran) takes the version it was allocated for with it.
    """
    from runway.experiment.jobs import command_line, start_version
    from runway.experiment.store import ExperimentStore, Version
    from runway.experiment.versions import VERSION_ENV, folder_name
    from runway.launch.job import Job

    _check_launcher(plugins, launcher)
    store = ExperimentStore.for_project(source.project)
    allocated = False
    if version_number is not None:
        version = store.get(source.name, version_number)
    elif dry_run:
        upcoming = (store.versions(source.name) or [0])[-1] + 1
        version = Version(source.name, upcoming, store.root / folder_name(source.name, upcoming))
    else:
        distributions = tuple(
            sorted({i.distribution for i in plugins.info.values() if i.distribution and not i.builtin})
        )
        version = start_version(
            store,
            source.name,
            source.config,
            source.project,
            argv=command_line(),
            parent=source.parent,
            tags=tags,
            launcher=launcher,
            plugin_distributions=distributions,
        )
        allocated = True
        click.echo(f"{version.label}: {version.path}")
    job = Job(
        argv=[command, *source.argv, "--version", str(version.number), *extra_args],
        experiment=source.name,
        version=version.number,
        version_dir=version.path,
        project_root=source.project.root,
        resources=dict(((source.config.get("launcher") or {}).get(launcher)) or {}),
        env={VERSION_ENV: str(version.number)},
        wait=wait,
        dry_run=dry_run,
        config=source.config,
    )
    try:
        handle = plugins.hook.launch_job(job=job, launcher=launcher)
    except RunwayError:
        if allocated and (version.status or {}).get("state") == "pending":
            _discard_version(version)
        raise
    if handle is None:
        raise plugins.unknown("launcher", launcher, plugins.implementers("launch_job"))
    if handle.state == "failed":
        click.get_current_context().exit(int(handle.info.get("exit_code", 1)) or 1)
    if handle.state not in ("completed", "dry-run"):
        ident = f" as job {handle.job_id}" if handle.job_id else ""
        click.echo(f"{version.label}: {handle.state} with launcher {launcher!r}{ident}")
        click.echo(f"follow it with `runway status {source.name} --version {version.number}` "
                   f"(and `runway logs`, `runway cancel`)")
    return handle.result


def _discard_version(version: Any) -> None:
    """Remove a version that was allocated for a job that never started."""
    import shutil

    shutil.rmtree(version.path, ignore_errors=True)
    click.echo(f"{version.label}: removed (nothing was launched)", err=True)


def _in_job_version(name: str, project: Any, version_option: int | None) -> Any:
    """The version this launched process works on, or ``None`` outside a job."""
    from runway.experiment.store import ExperimentStore
    from runway.experiment.versions import VERSION_ENV, version_from_env

    env_version = version_from_env()
    if env_version is None:
        return None
    if version_option is not None and version_option != env_version:
        raise ExperimentError(f"--version {version_option} disagrees with {VERSION_ENV}={env_version}")
    return ExperimentStore.for_project(project).get(name, env_version)


def _echo_metrics(label: str, suffix: str, metrics: dict[str, float]) -> None:
    shown = "  ".join(f"{k}={v:.4f}" for k, v in metrics.items())
    click.echo(f"{label} {suffix}: {shown}")


# --------------------------------------------------------------------------- experiment


@click.command("experiment")
@click.argument("name")
@click.option("--from", "from_", metavar="OTHER", default=None, help="Start from experiment OTHER's resolved config.")
@config_option
@opts_option
@click.option("--force", is_flag=True, help="Overwrite an existing experiment config.")
def experiment(name: str, from_: str | None, config_file: Path | None, opts: tuple[str, ...], force: bool) -> None:
    """Create configs/experiments/NAME.jsonnet.

    From the project's template (importing the .libsonnet files), or with
    --from OTHER / --config FILE from that config, resolved with --opts
    applied and written as JSON that records `parent`.
    """
    from runway.cli.common import resolve_config
    from runway.config import load_config
    from runway.experiment.configs import derived_text, template_text, write_experiment_config
    from runway.experiment.versions import check_name
    from runway.project import Project

    check_name(name)
    if from_ is not None and config_file is not None:
        raise ConfigError("give --from OTHER or --config FILE, not both")
    if from_ is not None:
        project = Project.find()
        text = derived_text(load_config(from_, project=project, opts=opts), from_)
    elif config_file is not None:
        project, config = resolve_config(name, config_file, opts)
        text = derived_text(config, config.get("parent") if isinstance(config.get("parent"), str) else None)
    else:
        project = Project.find()
        text = template_text(name)
        if opts:
            # resolve the template here so that the overrides are checked and kept
            path = write_experiment_config(project, name, text, force=force)
            try:
                config = load_config(name, project=project, opts=opts)
            except Exception:
                path.unlink()
                raise
            text = derived_text(config, None)
            force = True
    path = write_experiment_config(project, name, text, force=force)
    click.echo(f"wrote {path}")


# --------------------------------------------------------------------------- train


@dataclass(frozen=True)
class _JobContext:
    """What ``train`` and ``run`` work with inside their job: the version and the resolved options."""

    source: Source
    plugins: Any
    version: Any
    logger_names: list[str]
    tags: dict[str, str]
    resume: bool
    dummy: bool


def _launch_or_work(
    command: str,
    work: Callable[[_JobContext], Any],
    *,
    name: str | None,
    from_: str | None,
    config_file: Path | None,
    opts: tuple[str, ...],
    version: int | None,
    launcher: str,
    loggers: tuple[str, ...],
    tags: tuple[str, ...],
    dummy: bool,
    wait: bool,
    dry_run: bool,
    resume: bool,
) -> Any:
    """Launch ``command`` as a job on ``launcher``; inside that job (the launcher re-runs the
    command with the version to work in) call ``work`` instead."""
    from runway.logging.loggers import check_logger_names, resolve_logger_names

    source = _resolve_source(name, from_, config_file, opts, dummy=dummy)
    _load_project_code(source.project)
    plugins = _plugins()
    tag_list, tag_map = _tags(tags, source.config)
    current = _in_job_version(source.name, source.project, version)
    if current is None:
        if resume and version is None:
            from runway.experiment.store import ExperimentStore

            version = ExperimentStore.for_project(source.project).get(source.name).number
        check_logger_names(resolve_logger_names(loggers, source.config), plugins)
        extra = _common_job_args(loggers, tags, dummy) + (["--resume"] if resume else [])
        return _launch(command, source, plugins=plugins, launcher=launcher, version_number=version, extra_args=extra,
                       tags=tag_list, wait=wait, dry_run=dry_run)
    names = resolve_logger_names(loggers, source.config)
    return work(_JobContext(source, plugins, current, names, tag_map, resume=resume, dummy=dummy))


def _job_options(func: F) -> F:
    func = click.option("--dry-run", "dry_run", is_flag=True, help="Show what the launcher would run or submit (slurm: the sbatch script); run nothing.")(func)
    func = click.option("--wait", is_flag=True, help="Follow a submitted job to its end; the exit code is its result (local jobs always run to the end).")(func)
    func = click.option("--dummy", is_flag=True, help="Use the pipeline's dummy data (a quick smoke run).")(func)
    func = click.option("--tag", "tags", multiple=True, metavar="T", help="Tag the version (T or KEY=VALUE); repeatable.")(func)
    func = click.option("--logger", "loggers", multiple=True, metavar="NAME", help="Enable a logger (csv always); repeatable or comma-separated.")(func)
    func = click.option("--launcher", default="local", show_default=True, help="Where the job runs (local, slurm, ...).")(func)
    func = click.option("--version", "version", type=int, default=None, help="Work in existing version N instead of a new one.")(func)
    func = opts_option(func)
    func = config_option(func)
    func = click.option("--from", "from_", metavar="OTHER", default=None, help="Create NAME from experiment OTHER (with --opts) first.")(func)
    return func


def _job_command(command: str, work: Callable[[_JobContext], Any], *, help_text: str, resume_help: str) -> click.Command:
    """``runway train`` and ``runway run``: the same options, launched the same way; ``work`` is
    what the command does inside its job."""

    @click.command(command, help=help_text)
    @click.argument("name", required=False)
    @_job_options
    @click.option("--resume", is_flag=True, help=resume_help)
    @_exit_on_run_failure
    def job_command(**options: Any) -> Any:
        return _launch_or_work(command, work, **options)

    return job_command


def _train_in_job(job: _JobContext) -> dict[str, Any]:
    from runway.experiment.jobs import run_job
    from runway.experiment.preparation import is_rank_zero
    from runway.experiment.training import train_version

    current, source = job.version, job.source
    result = run_job(
        current,
        "train",
        lambda: train_version(
            current, source.config, source.project, job.plugins,
            logger_names=job.logger_names, tags=job.tags, resume=job.resume, dummy=job.dummy,
        ),
        record=is_rank_zero(),
    )
    if is_rank_zero():
        score = f" ({result.monitor}={result.best_score:.4f})" if result.best_score is not None else ""
        click.echo(f"{current.label}: trained; best checkpoint {result.best_checkpoint}{score}")
    return {"version": current.number, "best_checkpoint": result.best_checkpoint, "best_score": result.best_score}


train = _job_command(
    "train",
    _train_in_job,
    help_text="Prepare the data and train experiment NAME into a new version.",
    resume_help="Continue from the version's last.ckpt (with --version N; default the latest).",
)


# --------------------------------------------------------------------------- infer / eval


def _stored_config(version: Any, opts: Sequence[str]) -> dict[str, Any]:
    from runway.config import apply_overrides, parse_overrides

    config = version.config
    if not config:
        raise ExperimentError(f"{version.label} has no config.json in {version.path}")
    return apply_overrides(config, parse_overrides(opts)) if opts else config


def _version_for(name: str, version: int | None) -> tuple[Any, Any]:
    from runway.experiment.store import ExperimentStore
    from runway.project import Project

    project = Project.find()
    return project, ExperimentStore.for_project(project).get(name, version)


def _evaluate(current: Any, suffix: str, config: dict[str, Any], plugins: Any, loggers: Sequence[str], tags: dict[str, str]) -> dict[str, float]:
    from runway.experiment.evaluation import evaluate_version
    from runway.logging.loggers import resolve_logger_names

    try:
        metrics = evaluate_version(current, suffix, config, plugins, logger_names=resolve_logger_names(loggers, config), tags=tags)
    except RunwayError:
        raise
    except Exception as exc:
        raise RunFailed(f"eval of {current.label} {suffix!r} failed: {type(exc).__name__}: {exc}") from exc
    _echo_metrics(current.label, suffix, metrics)
    return metrics


@click.command("infer")
@click.argument("name")
@click.argument("suffix")
@click.option("--version", "version", type=int, default=None, help="The version to use (default: the latest).")
@click.option("--checkpoint", default="best", show_default=True, help="best, last, or a checkpoint file.")
@opts_option
@click.option("--no-eval", is_flag=True, help="Write the predictions only; do not run eval after them.")
@click.option("--logger", "loggers", multiple=True, metavar="NAME", help="Enable a logger for the metrics; repeatable.")
@click.option("--dummy", is_flag=True, help="Use the pipeline's dummy data.")
@_exit_on_run_failure
def infer(name: str, suffix: str, version: int | None, checkpoint: str, opts: tuple[str, ...], no_eval: bool, loggers: tuple[str, ...], dummy: bool) -> Any:
    """Predict NAME's test data with a checkpoint into test-SUFFIX/, then evaluate."""
    from runway.experiment.inference import infer_version
    from runway.experiment.training import find_checkpoint

    project, current = _version_for(name, version)
    _check_suffix(suffix)
    config = _stored_config(current, opts)
    find_checkpoint(current, checkpoint)  # a missing checkpoint is bad input (exit 2), before any work
    _load_project_code(project)
    plugins = _plugins()
    _, tag_map = _tags((), config)
    try:
        out = infer_version(current, suffix, config, project, plugins, checkpoint=checkpoint, dummy=dummy)
    except RunwayError:
        raise
    except Exception as exc:
        raise RunFailed(f"infer of {current.label} failed: {type(exc).__name__}: {exc}") from exc
    click.echo(f"{current.label}: predictions in {out}")
    if no_eval:
        return {"test_dir": str(out)}
    return {"test_dir": str(out), "metrics": _evaluate(current, suffix, config, plugins, loggers, tag_map)}


def _check_suffix(suffix: str) -> None:
    from runway.experiment.versions import NAME_PATTERN

    if not NAME_PATTERN.fullmatch(suffix) or "/" in suffix:
        raise ExperimentError(f"invalid test suffix {suffix!r}: use letters, digits, '.', '_', '-'")


@click.command("eval")
@click.argument("name")
@click.argument("suffix")
@click.option("--version", "version", type=int, default=None, help="The version to use (default: the latest).")
@opts_option
@click.option("--logger", "loggers", multiple=True, metavar="NAME", help="Enable a logger for the metrics; repeatable.")
@_exit_on_run_failure
def eval_(name: str, suffix: str, version: int | None, opts: tuple[str, ...], loggers: tuple[str, ...]) -> Any:
    """Compute the eval.metrics of test-SUFFIX/ into its metrics.json and log them."""
    project, current = _version_for(name, version)
    _check_suffix(suffix)
    config = _stored_config(current, opts)
    _load_project_code(project)
    plugins = _plugins()
    _, tag_map = _tags((), config)
    return {"metrics": _evaluate(current, suffix, config, plugins, loggers, tag_map)}


# --------------------------------------------------------------------------- run


def _run_in_job(job: _JobContext) -> dict[str, Any]:
    from runway.experiment.evaluation import evaluate_version
    from runway.experiment.inference import infer_version
    from runway.experiment.jobs import run_job
    from runway.experiment.preparation import is_rank_zero
    from runway.experiment.training import train_version

    current, source, plugins = job.version, job.source, job.plugins
    names, tag_map, dummy = job.logger_names, job.tags, job.dummy
    suffix = str((source.config.get("test") or {}).get("suffix", "test"))
    _check_suffix(suffix)
    rank_zero = is_rank_zero()

    def work() -> dict[str, Any]:
        result = train_version(
            current, source.config, source.project, plugins, logger_names=names, tags=tag_map, resume=job.resume, dummy=dummy
        )
        if not rank_zero:
            return {}
        click.echo(f"{current.label}: trained; best checkpoint {result.best_checkpoint}")
        infer_version(current, suffix, source.config, source.project, plugins, checkpoint="best", dummy=dummy)
        metrics = evaluate_version(current, suffix, source.config, plugins, logger_names=names, tags=tag_map)
        return {"version": current.number, "metrics": metrics}

    outcome = run_job(current, "run", work, record=rank_zero)
    if rank_zero:
        _echo_metrics(current.label, suffix, outcome["metrics"])
    return outcome


run = _job_command(
    "run",
    _run_in_job,
    help_text='Train NAME, predict its test data (suffix from test.suffix, default "test") and evaluate.',
    resume_help="Continue training from the version's last.ckpt (with --version N; default the latest).",
)


# --------------------------------------------------------------------------- list / show


@click.command("list")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def list_(names: tuple[str, ...], as_json: bool) -> None:
    """List experiment versions: status, creation time and their test metrics."""
    import json

    from runway.experiment.listing import version_rows
    from runway.project import Project

    rows = version_rows(Project.find(), names)
    if as_json:
        click.echo(json.dumps(rows, indent=2, sort_keys=True))
        return
    if not rows:
        click.echo("no experiment versions yet (run `runway train NAME`)")
        return
    header = ("EXPERIMENT", "VERSION", "STATUS", "CREATED", "TAG", "METRICS")
    table = [header] + [
        (r["experiment"], str(r["version"]), r["status"], r["created"] or "-", ",".join(r["tag"]) or "-", r["metrics_text"] or "-")
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header) - 1)]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])


@click.command("show")
@click.argument("name")
@click.option("--version", "version", type=int, default=None, help="The version to show (default: the latest).")
def show(name: str, version: int | None) -> None:
    """Show a version: status, provenance, config diff against its parent, metrics, checkpoints, tests."""
    from runway.experiment.listing import describe_version

    project, current = _version_for(name, version)
    for line in describe_version(project, current):
        click.echo(line)
