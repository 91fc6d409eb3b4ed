"""``runway prepare``, ``runway pipeline show|explain`` and ``runway cache ls|du|gc``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from runway.cli.common import config_option, opts_option
from runway.cli.pipeline_config import load_pipeline_config as _load
from runway.cli.pipeline_submit import launcher_options
from runway.support.progress import human_size

_node_option = click.option(
    "--node",
    "nodes",
    multiple=True,
    metavar="NODE",
    help="Produce this node (repeatable); default: every node named output:...",
)
_regenerate_option = click.option(
    "--regenerate",
    "regenerate",
    multiple=True,
    metavar="NODE",
    help="Recompute this node even if cached, and the nodes that read it (repeatable).",
)
_dummy_option = click.option(
    "--dummy", is_flag=True, help="Use dummy data (meta.use_dummy_data); cached apart from the real data."
)


def _pipeline_run_options(func: Any) -> Any:
    """NAME, --config, --opts, --node, --regenerate and --dummy: what a pipeline run is given
    (``prepare`` runs it, ``pipeline explain`` says what that run would do)."""
    for decorate in reversed(
        (click.argument("name", required=False), config_option, opts_option, _node_option, _regenerate_option, _dummy_option)
    ):
        func = decorate(func)
    return func


# ---------------------------------------------------------------- prepare


@click.command("prepare")
@launcher_options
@_pipeline_run_options
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
    help="Run up to N nodes at a time: independent branches of the DAG run concurrently, each node once.",
)
def prepare(
    name: str | None,
    config_file: Path | None,
    opts: tuple[str, ...],
    nodes: tuple[str, ...],
    regenerate: tuple[str, ...],
    dummy: bool,
    jobs: int,
) -> None:
    """Run the data pipeline of NAME, loading what is cached.

    Progress goes to stderr; stdout gets one line per produced node:
    its name, cache key and whether it was run or loaded. A node whose
    setup_kwargs say `_shards: N` (a shardable transform) runs as N local
    processes whose outputs are merged into one entry.
    """
    from runway.pipeline import run_pipeline

    project, config = _load(name, config_file, opts, dummy)
    project.load_data_code()
    from runway.support.tables import render_table

    run = run_pipeline(config, project, nodes=nodes or None, regenerate=regenerate, dummy=dummy, jobs=jobs)
    rows = [(node, run.keys[node][:12], run.actions[node]) for node in run.outputs]
    for line in render_table(None, rows, max_width=None):
        click.echo(line)
    ran = sum(1 for a in run.actions.values() if a == "RUN")
    loaded = sum(1 for a in run.actions.values() if a == "LOAD")
    click.echo(f"{ran} node(s) run, {loaded} loaded from {project.cache_dir}", err=True)
    from runway.cli.hints import after_prepare

    after_prepare(name, config_file)


# ---------------------------------------------------------------- pipeline


@click.group("pipeline")
def pipeline() -> None:
    """Draw the data pipeline, or explain what a run would do."""


@pipeline.command("show")
@click.argument("name", required=False)
@config_option
@opts_option
@click.option(
    "--format", "fmt", type=click.Choice(["tree", "mermaid", "dot", "png"]), default="tree", show_default=True,
    help="tree for the terminal; mermaid or dot to paste into a renderer; png (with -o) drawn by Graphviz's dot.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to this file instead of printing (required for png).")
def show(name: str | None, config_file: Path | None, opts: tuple[str, ...], fmt: str, output: Path | None) -> None:
    """Draw the DAG of NAME's data pipeline."""
    from runway.pipeline.graph import Pipeline
    from runway.pipeline.render import render

    _, config = _load(name, config_file, opts, False)
    pipeline_graph = Pipeline.from_config(config["data_pipeline"])
    if fmt == "png":
        from runway.compare.graphviz import dot_to_png

        if output is None:
            from runway.errors import PipelineError

            raise PipelineError("--format png writes an image: give the file with -o FILE.png")
        click.echo(f"wrote {dot_to_png(render(pipeline_graph, 'dot'), output)}")
        return
    text = render(pipeline_graph, fmt)
    if output is not None:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}")
        return
    click.echo(text)


@pipeline.command("explain")
@_pipeline_run_options
def explain(
    name: str | None,
    config_file: Path | None,
    opts: tuple[str, ...],
    nodes: tuple[str, ...],
    regenerate: tuple[str, ...],
    dummy: bool,
) -> None:
    """Say, node by node, whether `runway prepare` would LOAD, RUN or SKIP it, and why.

    A RUN says which config key changed since the node's latest cache entry
    (`setup_kwargs.max_len 128 -> 256`, `input process:Linearize changed`,
    `file data/train.csv changed`, `transform Tokenize source changed`,
    `transform version 1 -> 2`), or `regenerate requested`, `no entry`,
    `not cached (cache: false)`.
    """
    from runway.pipeline import plan_pipeline
    from runway.pipeline.plan import explain_lines

    project, config = _load(name, config_file, opts, dummy)
    plan = plan_pipeline(config, project, nodes=nodes or None, regenerate=regenerate, dummy=dummy)
    for line in explain_lines(plan):
        click.echo(line)
    counts = plan.counts()
    click.echo(f"{counts['RUN']} to run, {counts['LOAD']} to load, {counts['SKIP']} not needed")


# ---------------------------------------------------------------- cache


def _store() -> tuple[Any, Any]:
    from runway.pipeline.cache import CacheStore
    from runway.pipeline.formats import format_registry
    from runway.project import Project

    project = Project.find()
    return project, CacheStore(project.cache_dir, format_registry())


@click.group("cache")
def cache() -> None:
    """List, measure and clean the data-pipeline cache."""


@cache.command("ls")
@click.option("--node", "nodes", multiple=True, metavar="NODE", help="Only this node's entries (repeatable).")
def cache_ls(nodes: tuple[str, ...]) -> None:
    """List cache entries: node, key, format, size, created, and which is latest."""
    project, store = _store()
    latest = store.latest_keys()
    rows = []
    for entry in store.entries():
        if nodes and entry.node not in nodes:
            continue
        marks = []
        if latest.get(entry.folder) == entry.key:
            marks.append("latest")
        if not entry.complete:
            marks.append("INCOMPLETE")
        rows.append(
            (
                entry.node,
                entry.key[:12],
                str(entry.meta.get("format", "?")),
                human_size(entry.size),
                str(entry.meta.get("created", "?"))[:19],
                ",".join(marks),
            )
        )
    if not rows:
        click.echo(f"no cache entries in {store.root}")
        return
    from runway.support.tables import render_table

    for line in render_table(("NODE", "KEY", "FORMAT", "SIZE", "CREATED", ""), rows, max_width=None):
        click.echo(line)


@cache.command("du")
def cache_du() -> None:
    """Disk used by the cache, per node and in total."""
    project, store = _store()
    per_node: dict[str, list[int]] = {}
    for entry in store.entries():
        found = per_node.setdefault(entry.node, [0, 0])
        found[0] += 1
        found[1] += entry.size
    from runway.support.tables import render_table

    rows = [
        (node, f"{count} entr{'y' if count == 1 else 'ies'}", human_size(size))
        for node, (count, size) in sorted(per_node.items())
    ]
    for line in render_table(None, rows, align="<>>"):
        click.echo(line)
    total = sum(size for _, size in per_node.values())
    click.echo(f"total: {human_size(total)} in {store.root}")


@cache.command("gc")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
def cache_gc(dry_run: bool) -> None:
    """Delete entries that no experiment uses and that are not a node's latest.

    Experiments record the entries they consumed in provenance.json
    ("data": {node: key}). Safe while `runway prepare` runs: entries in use
    are skipped.
    """
    from runway.pipeline.gc import collect_garbage

    project, store = _store()
    report = collect_garbage(store, project.experiments_dir, dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    for node, key, size in report.deleted:
        click.echo(f"{verb} {node} {key[:12]} ({human_size(size)})")
    for node, key in report.in_use:
        click.echo(f"skipped {node} {key[:12]} (in use by a running pipeline)")
    click.echo(
        f"{verb} {len(report.deleted)} entr{'y' if len(report.deleted) == 1 else 'ies'}, "
        f"{human_size(report.freed)}; kept {len(report.kept)}"
    )
