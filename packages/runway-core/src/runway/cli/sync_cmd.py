"""``runway sync NAME [--version N] --logger NAME``: replay the local csv copy.

Every run keeps its metrics in ``<version>/<job>/logs/metrics.csv`` whatever
else it logs to. When a backend was down (or not enabled) during the run,
this sends that copy to it afterwards: training first, then every test and
evaluation folder, each as the same job type it ran as, with the version's
``config.json``/``provenance.json`` and each job's ``metrics.json``.

A backend that already holds some of those points receives them again (the
csv copy does not record what each backend got).
"""

from __future__ import annotations

import warnings
from itertools import groupby
from pathlib import Path

import click

from runway.cli.common import complete_version
from runway.errors import ExperimentError, PluginError, did_you_mean
from runway.experiment.versions import (
    check_name,
    existing_versions,
    folder_name,
    parse_folder_name,
)


def find_version_dir(experiments_dir: Path, name: str, version: int | None) -> Path:
    """``experiments/<name>_V<n>``: version ``n``, or the latest one (``name`` may say it: ``NAME:3``)."""
    from runway.experiment.address import folder_address, parse_address
    from runway.experiment.store import ExperimentStore

    address = folder_address(ExperimentStore(experiments_dir), parse_address(name))
    if address.version is not None:
        if version is not None and version != address.version:
            raise ExperimentError(f"{name!r} and --version {version} name different versions; give one of them")
        version = address.version
    name = address.name
    check_name(name)
    versions = {n: experiments_dir / folder_name(name, n) for n in existing_versions(experiments_dir, name)}
    if not versions:
        folders = experiments_dir.iterdir() if experiments_dir.is_dir() else ()
        names = sorted({parsed[0] for p in folders if (parsed := parse_folder_name(p.name)) and p.is_dir()})
        raise ExperimentError(
            f"no experiment {name!r} in {experiments_dir}.{did_you_mean(name, names)}"
            f" Experiments: {', '.join(names) or 'none'}"
        )
    if version is None:
        return versions[max(versions)]
    if version not in versions:
        raise ExperimentError(
            f"experiment {name!r} has no version {version} in {experiments_dir}; "
            f"versions: {', '.join(map(str, sorted(versions)))}"
        )
    return versions[version]


def job_log_dirs(version_dir: Path) -> list[str]:
    """Job types of a version that kept a csv copy: ``train`` first, then the others."""
    jobs = sorted(p.parent.parent.name for p in version_dir.glob("*/logs/metrics.csv"))
    return sorted(jobs, key=lambda job: (job != "train", job))


def sync_version(version_dir: Path, logger_names: list[str], plugins=None) -> list[str]:
    """Replay every job's csv copy of ``version_dir`` into ``logger_names``.

    Returns one line per job saying what was sent; ``LoggerWarning``s say what
    a backend did not take.
    """
    from runway.logging.csv_logger import METRICS_FILE, read_metrics, read_status
    from runway.logging.loggers import LoggerSet
    from runway.logging.run import Run

    report = []
    for job_type in job_log_dirs(version_dir):
        run = Run.from_version_dir(version_dir, job_type=job_type)
        loggers = LoggerSet(logger_names, run, plugins, include_csv=False)
        loggers.start()
        artifacts = ["config.json", "provenance.json"] if job_type == "train" else []
        artifacts.append(f"{job_type}/metrics.json")
        for name in artifacts:
            if (version_dir / name).is_file():
                loggers.log_artifact(version_dir / name, name)
        values = steps = 0
        rows = read_metrics(run.log_dir / METRICS_FILE)
        # one call per logged batch: the rows a single log_metrics call wrote
        for (step, _), batch in groupby(rows, key=lambda row: (row.step, row.time)):
            metrics = {row.metric: row.value for row in batch}
            loggers.log_metrics(metrics, step)
            values += len(metrics)
            steps += 1
        loggers.finish(read_status(run.log_dir) or "interrupted")
        report.append(f"{run.name}/{job_type}: {values} metric values in {steps} calls")
    return report


@click.command(name="sync")
@click.argument("name", metavar="NAME[:VERSION]", shell_complete=complete_version)
@click.option("--version", "version", type=int, default=None, help="Experiment version (default: the latest).")
@click.option(
    "--logger",
    "logger_values",
    multiple=True,
    required=True,
    help="Logger to send to (repeatable, or a comma list): mlflow, wandb, ...",
)
def sync(name: str, version: int | None, logger_values: tuple[str, ...]) -> None:
    """Replay a version's local csv metrics into a logger that was down."""
    from runway.logging.loggers import CSV_LOGGER, LoggerWarning, resolve_logger_names
    from runway.project import Project

    names = [n for n in resolve_logger_names(logger_values, {}) if n != CSV_LOGGER]
    if not names:
        raise PluginError("nothing to sync into: the csv logger is the local copy itself; name another --logger")
    project = Project.find()
    version_dir = find_version_dir(project.experiments_dir, name, version)
    if not job_log_dirs(version_dir):
        raise ExperimentError(f"{version_dir}: no */logs/metrics.csv to sync (nothing was logged yet)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LoggerWarning)
        report = sync_version(version_dir, names)
    for line in report:
        click.echo(f"synced {line} -> {', '.join(names)}")
    problems = [str(w.message) for w in caught if issubclass(w.category, LoggerWarning)]
    for other in (w for w in caught if not issubclass(w.category, LoggerWarning)):
        warnings.showwarning(other.message, other.category, other.filename, other.lineno)
    if problems:
        for message in problems:
            click.echo(f"Error: {message}", err=True)
        raise SystemExit(1)
