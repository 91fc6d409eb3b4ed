"""Experiment commands: ``experiment``, ``train``, ``run``, ``infer``, ``eval``, ``list``, ``show``.

These only parse arguments: ``train`` and ``run`` build a
:class:`runway.job.submit.Submission` (or a resume) and submit it, and the
launcher named by ``--launcher`` executes the version folder
(:mod:`runway.job`). ``infer`` and ``eval`` act on an existing version, with
the config it was trained with, in this process. ``execute`` is what
launchers run in other processes.

Exit codes: 0 success, 1 the run failed (its status records the error),
2 bad usage, config or input.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from runway.cli.common import complete_experiment, complete_metric, complete_version, config_option, opts_option
from runway.errors import ConfigError, ExperimentError, RunFailed, is_machine_state

F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------- helpers


def _exit_on_run_failure(func: F) -> F:
    """A failed run prints its traceback and ``Error: ...`` and exits with 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RunFailed as exc:
            from runway.job.execute import report_failure

            report_failure(exc)
            click.get_current_context().exit(1)

    return wrapper  # type: ignore[return-value]


def _plugins() -> Any:
    from runway.job.execute import plugins_for_job

    return plugins_for_job()


def _load_project_code(project: Any) -> None:
    from runway.job.execute import load_project_code

    load_project_code(project)


def _resolve(
    name: str | None, from_: str | None, config_file: Path | None, opts: Sequence[str], *, dummy: bool
) -> tuple[Any, str, dict[str, Any], str | None]:
    """``(project, name, resolved config, parent)`` of a ``train``/``run`` request."""
    from runway.config.loading import resolve_config
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
        source, parent = _from_source(project, from_)
        text = derived_text(load_config(source, project=project, opts=opts, dummy=dummy), parent)
        path = config_path(project, name)
        if not path.exists():
            write_experiment_config(project, name, text)
        elif path.read_text(encoding="utf-8") != text:
            raise ExperimentError(
                f"experiment config {path} already exists and differs from {from_!r} with these --opts; "
                f"train it as it is (`runway train {name}`) or rewrite it with "
                f"`runway experiment {name} --from {from_} --force`"
            )
        return project, name, load_config(name, project=project, dummy=dummy), parent
    # the name is checked before its config is looked for: a refused name is the clearer message
    if not name and config_file is None:
        raise ConfigError("give an experiment NAME or --config FILE")
    resolved = check_name(name or Path(str(config_file)).stem)
    project, config = resolve_config(name, config_file, opts, dummy=dummy)
    parent = config.get("parent") if isinstance(config.get("parent"), str) else None
    return project, resolved, config, parent


def _version_for(name: str, version: int | None) -> tuple[Any, Any]:
    project, found, _ = _address_for(name, version)
    return project, found


def _address_for(name: str, version: int | None, *, writes_test_run: bool = False) -> tuple[Any, Any, str | None]:
    """The project, the version that NAME (any form of :mod:`runway.experiment.address`) names, and its suffix."""
    from runway.experiment.address import resolve
    from runway.experiment.store import ExperimentStore
    from runway.project import Project

    project = Project.find()
    found, suffix = resolve(ExperimentStore.for_project(project), name, version, writes_test_run=writes_test_run)
    return project, found, suffix


def _suffix(name: str, given: str | None, in_address: str | None) -> str:
    if given and in_address and given != in_address:
        raise ConfigError(f"{name!r} names test run {in_address!r} and SUFFIX says {given!r}; give one of them")
    suffix = given or in_address
    if not suffix:
        raise click.UsageError(f"give the test run: `NAME SUFFIX` or `NAME:VERSION:SUFFIX` (e.g. {name.split(':')[0]}:1:test)")
    return suffix


def _echo_metrics(label: str, suffix: str, metrics: dict[str, float]) -> None:
    from runway.job.execute import format_metrics

    click.echo(f"{label} {suffix}: {format_metrics(metrics)}")


# --------------------------------------------------------------------------- experiment


def _from_source(project: Any, from_: str) -> tuple[str, str]:
    """What ``--from`` names and the parent to record: an experiment, or ``SWEEP:best``, the config
    of that sweep's best point's version (its experiment is the parent)."""
    from runway.experiment.address import config_source
    from runway.experiment.versions import parse_folder_name
    from runway.sweep.results import best_version, is_best_spec

    if not is_best_spec(from_):
        return config_source(project, from_)
    path, row = best_version(project.experiments_dir, from_)
    click.echo(f"{from_} is {row['point'].get('label')} (point {row['point']['index']}, {row['value']:.4g})")
    parsed = parse_folder_name(path.name)
    return str(path / "config.json"), f"{parsed[0]}:{parsed[1]}" if parsed else from_


@click.command("experiment")
@click.argument("name", shell_complete=complete_experiment)
@click.option("--from", "from_", metavar="OTHER", default=None, shell_complete=complete_version, help="Start from OTHER's resolved config: an experiment, or a version (OTHER:3) whose saved config is used.")
@config_option
@opts_option
@click.option("--force", is_flag=True, help="Overwrite an existing experiment config.")
def experiment(name: str, from_: str | None, config_file: Path | None, opts: tuple[str, ...], force: bool) -> None:
    """Create configs/experiments/NAME.jsonnet.

    From the project's template (importing the .libsonnet files), or with
    --from OTHER / --config FILE from that config, resolved with --opts
    applied and written as JSON that records `parent`.
    """
    from runway.config.loading import resolve_config
    from runway.config import load_config
    from runway.experiment.configs import derived_text, template_text, write_experiment_config
    from runway.experiment.versions import check_name
    from runway.project import Project

    check_name(name)
    if from_ is not None and config_file is not None:
        raise ConfigError("give --from OTHER or --config FILE, not both")
    if from_ is not None:
        project = Project.find()
        source, parent = _from_source(project, from_)
        text = derived_text(load_config(source, project=project, opts=opts), parent)
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
    from runway.cli import hints

    hints.after_experiment(name, path)


# --------------------------------------------------------------------------- train / run


def _submit_command(
    command: str,
    *,
    name: str | None,
    from_: str | None,
    config_file: Path | None,
    opts: tuple[str, ...],
    version: int | None,
    launcher: str | None,
    loggers: tuple[str, ...],
    tags: tuple[str, ...],
    dummy: bool,
    wait: bool,
    dry_run: bool,
    resume: bool,
) -> Any:
    from runway.job.submit import Submission, submit, submit_resume

    if resume:
        if from_ is not None:
            raise ConfigError("--resume continues an existing version; it takes no --from")
        if tags or dummy or dry_run:
            raise ConfigError("--resume continues a version as it was submitted: --tag, --dummy and --dry-run do not apply")
        if not name and config_file is None:
            raise ConfigError("give the experiment NAME to resume")
        from runway.experiment.versions import check_name

        project, current = _version_for(check_name(name or Path(str(config_file)).stem), version)
        handle = submit_resume(current, _plugins(), command=command, opts=opts, launcher=launcher, loggers=loggers, wait=wait, echo=click.echo)
    else:
        if version is not None:
            raise ExperimentError(
                f"--version {version}: a new run always gets a new version; to continue version {version}, "
                "add --resume"
            )
        project, resolved, config, parent = _resolve(name, from_, config_file, opts, dummy=dummy)
        _load_project_code(project)
        submission = Submission(
            command=command, name=resolved, config=config, project=project, launcher=launcher or "local",
            loggers=loggers, tags=tags, dummy=dummy, parent=parent,
        )
        current, handle = submit(submission, _plugins(), wait=wait, dry_run_only=dry_run, echo=click.echo)
    if handle.state == "failed":
        click.get_current_context().exit(int(handle.info.get("exit_code", 1)) or 1)
    if handle.state == "completed" and current is not None:
        from runway.cli import hints

        hints.after_training(current, command)
    return handle.result


def _job_options(func: F) -> F:
    func = click.option("--dry-run", "dry_run", is_flag=True, help="Show what the launcher would run or submit (slurm: the sbatch script); run nothing.")(func)
    func = click.option("--wait", is_flag=True, help="Follow a submitted job to its end; the exit code is its result (local jobs always run to the end).")(func)
    func = click.option("--dummy", is_flag=True, help="Use the pipeline's dummy data (a quick smoke run).")(func)
    func = click.option("--tag", "tags", multiple=True, metavar="T", help="Tag the version (T or KEY=VALUE); repeatable.")(func)
    func = click.option("--logger", "loggers", multiple=True, metavar="NAME", help="Enable a logger (csv always); repeatable or comma-separated.")(func)
    func = click.option("--launcher", default=None, help="Where the job runs (local, slurm, ...); default local (a resume: the version's own).")(func)
    func = click.option("--version", "version", type=int, default=None, help="With --resume: the version to continue (default the latest).")(func)
    func = opts_option(func)
    func = config_option(func)
    func = click.option("--from", "from_", metavar="OTHER", default=None, shell_complete=complete_version, help="Create NAME from experiment OTHER, or version OTHER:3 (with --opts), first.")(func)
    return func


def _job_command(command: str, *, help_text: str) -> click.Command:
    """``runway train`` and ``runway run``: the same options, submitted the same way."""

    @click.command(command, help=help_text)
    @click.argument("name", required=False, shell_complete=complete_experiment)
    @_job_options
    @click.option(
        "--resume", is_flag=True,
        help="Continue a version (--version N, default the latest) from its last.ckpt with its own config; "
        "--opts may only extend train.epochs.",
    )
    @_exit_on_run_failure
    def job_command(**options: Any) -> Any:
        return _submit_command(command, **options)

    return job_command


train = _job_command("train", help_text="Prepare the data and train experiment NAME into a new version.")
run = _job_command("run", help_text='Train NAME, predict its test data (suffix from test.suffix, default "test") and evaluate.')


@click.command("execute")
@click.argument("version_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--requeued", is_flag=True, help="Continue a requeued job from the version's last.ckpt when it has one.")
@_exit_on_run_failure
def execute(version_dir: Path, requeued: bool) -> Any:
    """Execute the job written in VERSION_DIR (what launchers run; see `runway train`)."""
    from runway.job.execute import execute as execute_job

    return execute_job(version_dir, requeued=requeued)


# --------------------------------------------------------------------------- infer / eval

#: the sections that ``infer``/``eval`` --opts may change (the model and data are the version's)
TEST_SECTIONS = ("test", "eval")


def _stored_config(version: Any, opts: Sequence[str]) -> tuple[dict[str, Any], Any]:
    """The version's own config (checked against its job spec) with test-time --opts, and its settings."""
    from runway.config import apply_overrides, flatten, parse_overrides
    from runway.experiment.settings import parse_settings
    from runway.job.spec import load_job

    _, config = load_job(version.path)
    if opts:
        changed = apply_overrides(config, parse_overrides(opts))
        before, after = flatten(config), flatten(changed)
        refused = sorted(
            k for k in {*before, *after}
            if before.get(k, KeyError) != after.get(k, KeyError) and k.split(".")[0] not in TEST_SECTIONS
        )
        if refused:
            raise ConfigError(
                f"--opts {', '.join(refused)}: a test run uses the model and data the version was trained with; "
                f"only {' and '.join(s + '.*' for s in TEST_SECTIONS)} may change here"
            )
        config = changed
    return config, parse_settings(config)


def _evaluate(current: Any, suffix: str, config: dict[str, Any], settings: Any, plugins: Any, loggers: Sequence[str], tags: dict[str, str]) -> dict[str, float]:
    from runway.errors import RunwayError
    from runway.experiment.evaluation import evaluate_version
    from runway.logging.loggers import resolve_logger_names

    try:
        metrics = evaluate_version(current, suffix, config, plugins, logger_names=resolve_logger_names(loggers, config), tags=tags, settings=settings)
    except RunwayError:
        raise
    except Exception as exc:
        if is_machine_state(exc):
            raise
        raise RunFailed(f"eval of {current.label} {suffix!r} failed: {type(exc).__name__}: {exc}") from exc
    _echo_metrics(current.label, suffix, metrics)
    return metrics


def _version_tags(current: Any) -> dict[str, str]:
    from runway.job.execute import tag_mapping
    from runway.job.spec import read_spec

    return tag_mapping(read_spec(current.path).tags)


def _has_test_run(version: Any, suffix: str) -> bool:
    """Whether test-SUFFIX/ holds a finished run: its summary (written after the records) or its metrics.

    Records without a summary are what a killed infer leaves; they are replaced without asking.
    """
    folder = version.test_dir(suffix)
    return any((folder / name).is_file() for name in ("summary.json", "metrics.json"))


@click.command("infer")
@click.argument("name", metavar="NAME[:VERSION[:SUFFIX]]", shell_complete=complete_version)
@click.argument("suffix", required=False)
@click.option("--version", "version", type=int, default=None, help="The version to use (default: the latest).")
@click.option("--checkpoint", default="best", show_default=True, help="best, last, or a checkpoint file.")
@opts_option
@click.option("--no-eval", is_flag=True, help="Write the predictions only; do not run eval after them.")
@click.option("--logger", "loggers", multiple=True, metavar="NAME", help="Enable a logger for the metrics; repeatable.")
@click.option("--dummy", is_flag=True, help="Use the pipeline's dummy data.")
@click.option("--overwrite", is_flag=True, help="Replace the version's existing test run SUFFIX (its predictions and metrics).")
@_exit_on_run_failure
def infer(name: str, suffix: str | None, version: int | None, checkpoint: str, opts: tuple[str, ...], no_eval: bool, loggers: tuple[str, ...], dummy: bool, overwrite: bool) -> Any:
    """Predict NAME's test data with a checkpoint into test-SUFFIX/, then evaluate.

    NAME may name the version (NAME:3) and the suffix (NAME:3:SUFFIX). An
    existing test run is replaced only with --overwrite.
    """
    from runway.errors import RunwayError
    from runway.experiment.inference import infer_version
    from runway.experiment.training import find_checkpoint
    from runway.job.submit import check_suffix

    project, current, in_address = _address_for(name, version, writes_test_run=True)
    suffix = _suffix(name, suffix, in_address)
    check_suffix(suffix)
    if _has_test_run(current, suffix) and not overwrite:
        raise ExperimentError(
            f"{current.label} already has test run {suffix!r} ({current.test_dir(suffix)}); "
            f"add --overwrite to replace it, or give another SUFFIX"
        )
    config, settings = _stored_config(current, opts)
    from runway.experiment.checkpoint_io import check_checkpoint

    # a missing or damaged checkpoint is bad input (exit 2), found before any work
    check_checkpoint(find_checkpoint(current, checkpoint))
    _load_project_code(project)
    plugins = _plugins()
    from runway.launch.local import version_log

    click.get_current_context().with_resource(version_log(current.path, f"infer {current.label} {suffix}"))
    try:
        out = infer_version(current, suffix, config, project, plugins, settings=settings, checkpoint=checkpoint, dummy=dummy)
    except RunwayError:
        raise
    except Exception as exc:
        if is_machine_state(exc):
            raise  # a full disk or a read-only folder: reported as such (exit 2)
        raise RunFailed(f"infer of {current.label} failed: {type(exc).__name__}: {exc}") from exc
    click.echo(f"{current.label}: predictions in {out}")
    from runway.cli import hints

    if no_eval:
        hints.after_test(current, suffix, evaluated=False)
        return {"test_dir": str(out)}
    metrics = _evaluate(current, suffix, config, settings, plugins, loggers, _version_tags(current))
    hints.after_test(current, suffix, evaluated=True)
    return {"test_dir": str(out), "metrics": metrics}


@click.command("eval")
@click.argument("name", metavar="NAME[:VERSION[:SUFFIX]]", shell_complete=complete_version)
@click.argument("suffix", required=False)
@click.option("--version", "version", type=int, default=None, help="The version to use (default: the latest).")
@opts_option
@click.option("--logger", "loggers", multiple=True, metavar="NAME", help="Enable a logger for the metrics; repeatable.")
@_exit_on_run_failure
def eval_(name: str, suffix: str | None, version: int | None, opts: tuple[str, ...], loggers: tuple[str, ...]) -> Any:
    """Compute the eval.metrics of test-SUFFIX/ into its metrics.json and log them."""
    from runway.job.submit import check_suffix

    project, current, in_address = _address_for(name, version, writes_test_run=True)
    suffix = _suffix(name, suffix, in_address)
    check_suffix(suffix)
    config, settings = _stored_config(current, opts)
    _load_project_code(project)
    plugins = _plugins()
    from runway.launch.local import version_log

    click.get_current_context().with_resource(version_log(current.path, f"eval {current.label} {suffix}"))
    metrics = _evaluate(current, suffix, config, settings, plugins, loggers, _version_tags(current))
    from runway.cli import hints

    hints.after_test(current, suffix, evaluated=True)
    return {"metrics": metrics}


# --------------------------------------------------------------------------- list / show


@click.command("list")
@click.argument("names", nargs=-1, shell_complete=complete_experiment)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--sort", "sort", metavar="METRIC", default=None, shell_complete=complete_metric, help="Order by a metric: test:accuracy (SUFFIX:NAME), accuracy, or a validation metric such as val/loss; ascending.")
@click.option("--reverse", is_flag=True, help="With --sort: descending (best accuracy first).")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="Only versions whose KEY is VALUE: a dotted config key, a metric, status, tag, dummy or experiment; repeatable.")
def list_(names: tuple[str, ...], as_json: bool, sort: str | None, reverse: bool, filters: tuple[str, ...]) -> None:
    """List experiment versions: status, duration, and their test (or validation) metrics.

    Versions on dummy data read `(dummy)` beside their status.
    """
    import json

    from runway.experiment.listing import format_duration, version_rows
    from runway.project import Project

    rows = version_rows(Project.find(), names, filters=filters, sort=sort, reverse=reverse)
    if as_json:
        click.echo(json.dumps(rows, indent=2, sort_keys=True))
        return
    if not rows:
        if filters or names:
            click.echo("no version matches " + " ".join([*names, *(f"--filter {f}" for f in filters)]))
        else:
            click.echo("no experiment versions yet (run `runway train NAME`)")
        return
    from runway.support.tables import render_table

    header = ["EXPERIMENT", "VERSION", "STATUS", "CREATED", "DURATION", "TAG", "METRICS"]
    table = [
        [
            r["experiment"], str(r["version"]), r["status"] + (" (dummy)" if r.get("dummy") else ""), r["created"] or "-",
            format_duration(r.get("duration_s")), ",".join(r["tag"]) or "-", r["metrics_text"] or "-",
        ]
        for r in rows
    ]
    for line in render_table(header, table, max_width=None):
        click.echo(line)


@click.command("show")
@click.argument("name", metavar="NAME[:VERSION]", shell_complete=complete_version)
@click.option("--version", "version", type=int, default=None, help="The version to show (default: the latest).")
@click.option(
    "--records",
    "records_of",
    metavar="SUFFIX",
    default=None,
    help="Print the per-sample records of test run SUFFIX as JSON lines instead (for grep and jq).",
)
@click.option(
    "--validation-epoch",
    "epoch",
    type=int,
    default=None,
    help="Print the per-sample records of validation epoch N as JSON lines instead.",
)
def show(name: str, version: int | None, records_of: str | None, epoch: int | None) -> None:
    """Show a version: status, provenance, config diff against its parent, metrics, checkpoints, tests."""
    project, current = _version_for(name, version)
    if records_of is not None or epoch is not None:
        _echo_records(current, records_of, epoch)
        return
    from runway.experiment.listing import describe_version

    for line in describe_version(project, current):
        click.echo(line)


def _echo_records(version: Any, suffix: str | None, epoch: int | None) -> None:
    from runway.experiment.records import export_jsonl, read_records, records_path

    if suffix is not None and epoch is not None:
        raise click.UsageError("--records and --validation-epoch: give one of them")
    if suffix is not None:
        path = records_path(version.test_dir(suffix))
        if path is None:
            raise ExperimentError(
                f"{version.label} has no records of test run {suffix!r}; test runs: {', '.join(version.tests()) or 'none'}"
            )
        paths = [path]
    else:
        from runway.experiment.validation_records import VALIDATION_FOLDER

        folder = version.train_dir / VALIDATION_FOLDER
        paths = sorted(folder.glob(f"epoch-{epoch}.*")) + sorted(folder.glob(f"epoch-{epoch}-rank*.*"))
        paths = [p for p in paths if p.suffix in (".parquet", ".jsonl")]
        if not paths:
            raise ExperimentError(f"{version.label} has no validation records of epoch {epoch} (looked in {folder})")
    for path in paths:
        for line in export_jsonl(read_records(path)):
            click.echo(line)
