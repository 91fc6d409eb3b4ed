"""``runway prepare ... --launcher L [--wait] [--dry-run]``: the options that submit a
pipeline as launcher jobs instead of running it here (:mod:`runway.pipeline.submit`).

:func:`launcher_options` decorates the ``prepare`` command: without
``--launcher`` (or with ``--launcher local``) the command runs as before;
with another launcher the nodes to compute are submitted, one job each.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click


def launcher_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--launcher``, ``--wait`` and ``--dry-run`` to ``prepare``."""

    @functools.wraps(command)
    def prepare(*args: Any, launcher: str | None, wait: bool, dry_run: bool, **options: Any) -> Any:
        if launcher in (None, "local") and not dry_run:
            if wait:
                raise click.UsageError("--wait follows submitted jobs: give it with --launcher slurm (or another launcher)")
            return command(*args, **options)
        if launcher in (None, "local"):
            raise click.UsageError("--dry-run shows the jobs a launcher would get: give it with --launcher slurm (or another launcher)")
        return _submit(launcher, wait, dry_run, **options)

    for option in (
        click.option("--dry-run", "dry_run", is_flag=True, help="With --launcher: print the jobs and their dependencies; submit nothing."),
        click.option("--wait", is_flag=True, help="With --launcher: follow the node jobs to their end; the exit code is their result."),
        click.option(
            "--launcher", default=None,
            help="Submit each node to compute as a job of this launcher (slurm, ...), chained by dependencies; default: run here.",
        ),
    ):
        prepare = option(prepare)
    return prepare


def _submit(launcher: str, wait: bool, dry_run: bool, **options: Any) -> None:
    from runway.cli.pipeline_config import load_pipeline_config as _load
    from runway.pipeline.submit import submit_pipeline

    name, config_file = options.get("name"), options.get("config_file")
    dummy = bool(options.get("dummy"))
    project, config = _load(name, config_file, options.get("opts") or (), dummy)
    handle = submit_pipeline(
        name=name,
        config_file=config_file,
        project=project,
        config=config,
        launcher=launcher,
        nodes=tuple(options.get("nodes") or ()),
        regenerate=tuple(options.get("regenerate") or ()),
        dummy=dummy,
        wait=wait,
        dry_run=dry_run,
        echo=click.echo,
    )
    if handle is not None and handle.state == "failed":
        click.get_current_context().exit(1)
