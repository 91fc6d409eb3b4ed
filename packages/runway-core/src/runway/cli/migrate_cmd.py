"""``runway migrate FILE``: a runway_for_ml config rewritten into Runway's keys."""

from __future__ import annotations

from pathlib import Path

import click

from runway.compat.migration import render
from runway.errors import ConfigError
from runway.support.files import write_atomic


@click.command("migrate")
@click.argument("file", metavar="PROJECT_DIR|FILE", type=click.Path(path_type=Path))
@click.option("--write", is_flag=True, help="Replace FILE with the migrated config (its imports inlined).")
@click.option("--dry-run", is_flag=True, help="PROJECT_DIR: show the diff and the report, change nothing.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the migrated config to OUT (.jsonnet or .json) instead of stdout.",
)
def migrate(file: Path, write: bool, dry_run: bool, output: Path | None) -> None:
    """Migrate a runway_for_ml project (PROJECT_DIR, in place) or one config (FILE).

    PROJECT_DIR: its Python files' runway_for_ml imports become runway.compat
    imports (pytorch_lightning becomes lightning.pytorch), runway.toml gets
    the code_dirs found from the layout, and every config under configs/ is
    migrated in place, each outside configs/experiments/ getting an
    experiment file there that imports it. Changed files are first copied
    under .runway_migrate_backup/; --dry-run shows the diff instead.

    FILE is evaluated (its .libsonnet imports resolved next to it and in the
    project's configs/), then each seed key is mapped to Runway's
    (executor.ExecutorClass -> executor.class_path or executor.name,
    executor.init_kwargs -> executor.init_args, meta.logger_enable ->
    loggers, ...). Values without an equivalent move under `_seed`, at their
    old path. Every change is printed, key by key; lines starting with `!`
    are left for you to do. The config goes to stdout (the changes to
    stderr), to OUT with -o, or over FILE with --write.
    """
    from runway.compat.migration import migrate_config
    from runway.config import evaluate_file
    from runway.config.loading import standard_ext_vars
    from runway.project import Project

    if file.is_dir():
        if write or output is not None:
            raise ConfigError("--write and -o are for one FILE; a PROJECT_DIR is migrated in place")
        _migrate_project(file, dry_run)
        return
    if dry_run:
        raise ConfigError("--dry-run is for a PROJECT_DIR; without -o or --write a FILE's migration goes to stdout")
    if write and output is not None:
        raise ConfigError("give --write or -o OUT, not both")
    path = file.resolve()
    if not path.is_file():
        raise ConfigError(f"config file not found: {file}")
    project = Project.find(path.parent, required=False) or Project.for_config_file(path)
    evaluated = evaluate_file(
        path, ext_vars=standard_ext_vars(path.stem, project.root), search_paths=[project.configs_dir]
    )
    migration = migrate_config(evaluated, project=project)
    target = path if write else output
    text = render(migration.config, path, target)
    to_stdout = target is None
    for line in migration.lines() or ["(nothing to change: no runway_for_ml keys found)"]:
        click.echo(line, err=to_stdout)
    if to_stdout:
        click.echo(text, nl=False)
        return
    write_atomic(target, text)
    todo = len(migration.todos)
    click.echo(f"wrote {target}" + (f"; {todo} item(s) marked ! need your attention" if todo else ""))


def _migrate_project(root: Path, dry_run: bool) -> None:
    from runway.compat.project import migrate_project
    from runway.support.clock import now_iso

    plan = migrate_project(root)
    if dry_run:
        diff = plan.diff()
        if diff:
            click.echo(diff, nl=not diff.endswith("\n"))
    for line in plan.lines:
        click.echo(line)
    for line in plan.todos:
        click.echo(f"! {line}")
    if not plan.files:
        click.echo("(nothing to change: no runway_for_ml code or keys found)")
        return
    names = ", ".join(plan.experiments) or "none"
    todo = f"; {len(plan.todos)} item(s) marked ! need your attention" if plan.todos else ""
    if dry_run:
        click.echo(f"would change {len(plan.files)} file(s); experiments: {names}{todo} (--dry-run: nothing written)")
        return
    stamp = now_iso().replace(":", "").replace("-", "").split(".")[0]
    backup = plan.apply(stamp)
    where = f"; the originals are in {backup}" if backup else ""
    click.echo(f"changed {len(plan.files)} file(s){where}; experiments: {names}{todo}")
