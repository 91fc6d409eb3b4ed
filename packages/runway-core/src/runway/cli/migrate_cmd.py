"""``runway migrate FILE``: a runway_for_ml config rewritten into Runway's keys."""

from __future__ import annotations

import json
from pathlib import Path

import click

from runway.errors import ConfigError
from runway.support.files import write_atomic


def _render(config: dict, source: Path, target: Path | None) -> str:
    text = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    if target is not None and target.suffix == ".json":
        return text
    # JSON is valid jsonnet; the comment says where it came from
    return f"// Migrated from the runway_for_ml config {source.name} by `runway migrate`.\n{text}"


@click.command("migrate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--write", is_flag=True, help="Replace FILE with the migrated config (its imports inlined).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the migrated config to OUT (.jsonnet or .json) instead of stdout.",
)
def migrate(file: Path, write: bool, output: Path | None) -> None:
    """Rewrite the runway_for_ml config FILE into Runway's form.

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
    text = _render(migration.config, path, target)
    to_stdout = target is None
    for line in migration.lines() or ["(nothing to change: no runway_for_ml keys found)"]:
        click.echo(line, err=to_stdout)
    if to_stdout:
        click.echo(text, nl=False)
        return
    write_atomic(target, text)
    todo = len(migration.todos)
    click.echo(f"wrote {target}" + (f"; {todo} item(s) marked ! need your attention" if todo else ""))
