"""``runway init [DIR]``: a new project that works as created (see :mod:`runway.project.scaffold`)."""

from __future__ import annotations

from pathlib import Path

import click

from runway.project.scaffold import create_project


@click.command("init")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Write the template into a folder that is not empty (overwrites its files).")
def init(directory: Path, force: bool) -> None:
    """Create a Runway project in DIR (default: here), with a working example.

    The layout: configs/ (meta, data and model .libsonnet files and
    experiments/example.jsonnet), data_processing/, executors/, modeling/,
    metrics/, data/, local_cache/, third_party/, experiments/, main.py and the
    marker runway.toml. `runway run example` then trains and tests an MLP on
    scikit-learn's digits; init says first how to install what it needs
    (the [examples] extra) when that is missing.
    """
    from runway.cli.hints import echo_next
    from runway.project import Project
    from runway.project.requirements import missing_requirements, project_requirements, requirements_message

    written = create_project(directory, force=force)
    root = directory.resolve()
    click.echo(f"created a Runway project in {root} ({len(written)} files)")
    project = Project.find(root)
    missing = missing_requirements(project_requirements(project))
    steps = [(f"cd {directory}", "")] if root != Path.cwd().resolve() else []
    if missing:
        # said now, before the example fails for want of it
        from runway.project.requirements import install_line

        click.echo(requirements_message(missing, "the example"), err=True)
        steps.append((install_line(missing), "install what the example needs"))
    steps.append(("runway run example", "train, test and evaluate the example"))
    echo_next(steps)
