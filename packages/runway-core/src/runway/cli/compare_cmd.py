"""``runway compare EXP[:VERSION[:SUFFIX]]...`` and ``runway plot EXP... --metric M -o FILE``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from runway.cli.common import complete_version

_sweep_option = click.option("--sweep", "sweep_id", default=None, metavar="SWEEP", help="Add the versions of a sweep's points (an id, or an experiment for its latest sweep).")


def _selected(specs: tuple[str, ...], sweep_id: str | None) -> tuple[Any, list[Any]]:
    from runway.compare.versions import select_all
    from runway.project import Project

    project = Project.find()
    return project, select_all(project.experiments_dir, specs, sweep_id)


@click.command("compare")
@click.argument("specs", nargs=-1, metavar="EXP[:VERSION[:SUFFIX]]...", shell_complete=complete_version)
@_sweep_option
@click.option("--metric", "patterns", multiple=True, metavar="PATTERN", help="Only metric columns matching PATTERN (glob: 'test:*', '*loss*'); repeatable.")
@click.option("--transpose", is_flag=True, help="One column per version instead of one row.")
@click.option("--limit", type=int, default=20, show_default=True, help="Differing predictions listed (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--force", is_flag=True, help="Compare versions whose test runs predicted other splits or data, or that mix dummy and real data.")
def compare(specs: tuple[str, ...], sweep_id: str | None, patterns: tuple[str, ...], transpose: bool, limit: int, as_json: bool, force: bool) -> None:
    """Compare versions: config keys that differ, test and last training metrics.

    EXP is every version of EXP; EXP:3 (or EXP:V3, EXP:latest) one version;
    EXP:3:SUFFIX its test run SUFFIX. For two test runs of the same data, the
    samples whose prediction differs are listed, matched by sample id.
    Test runs of other splits or data, and dummy runs beside real ones, are
    refused unless --force; dummy versions read `(dummy)` beside their state.
    """
    from runway.compare.report import compare as build
    from runway.support.tables import render_table

    _, selected = _selected(specs, sweep_id)
    comparison = build(selected, force=force)
    if as_json:
        click.echo(json.dumps(comparison.to_dict(), indent=2, sort_keys=True, default=str))
        return
    header, rows = comparison.columns(patterns)
    if transpose:
        rows = [[name, *(row[i] for row in rows)] for i, name in enumerate(header[1:], start=1)]
        header = ["", *comparison.labels]
    if not comparison.config:
        click.echo("config: the same in every version")
    for line in render_table(header, rows):
        click.echo(line)
    for note in comparison.notes:
        click.echo(note)
    diff = comparison.predictions
    if diff is None:
        return
    click.echo("")
    right_on = ""
    if diff.differing and any(row["target"] is not None for row in diff.differing):
        right_on = f"; right only in {diff.left}: {diff.left_only_correct}, only in {diff.right}: {diff.right_only_correct}"
    unmatched = f", {diff.unmatched} unmatched" if diff.unmatched else ""
    click.echo(
        f"predictions {diff.left} vs {diff.right}: {len(diff.differing)} of {diff.matched} samples differ "
        f"(matched by {diff.id_field}{unmatched}){right_on}"
    )
    shown = diff.differing if limit <= 0 else diff.differing[:limit]
    if shown:
        table = [[row["id"], row["target"], row["left"], row["right"]] for row in shown]
        for line in render_table([diff.id_field.upper(), "TARGET", diff.left, diff.right], table):
            click.echo(line)
        if len(shown) < len(diff.differing):
            click.echo(f"... {len(diff.differing) - len(shown)} more (--limit 0 lists all)")


# top-level config keys that say where a version came from, not how it differs
LEGEND_SKIPPED = frozenset({"parent", "description"})


def legend_key(key: str) -> str:
    """A dotted key as a legend names it: its last name, with list indices (``hidden[0]``, ``lr``)."""
    segments = key.split(".")
    indices = []
    while len(segments) > 1 and segments[-1].isdigit():
        indices.insert(0, segments.pop())
    return segments[-1] + "".join(f"[{i}]" for i in indices)


def _legend_labels(selected: list[Any]) -> list[str]:
    """``tiny_V3 (lr=0.01, batch_size=32)``: each version with what sets it apart (at most 3 keys)."""
    from runway.compare.report import config_differences
    from runway.support.tables import format_value

    differing = config_differences([item.version.config for item in selected]) if len(selected) > 1 else {}
    # where a version came from is no setting of it
    keys = [key for key in differing if key.split(".")[0] not in LEGEND_SKIPPED][:3]
    labels = []
    for index, item in enumerate(selected):
        parts = [f"{legend_key(key)}={format_value(differing[key][index])}" for key in keys]
        labels.append(item.label + (f" ({', '.join(parts)})" if parts else ""))
    return labels


@click.command("plot")
@click.argument("specs", nargs=-1, metavar="EXP[:VERSION]...", shell_complete=complete_version)
@_sweep_option
@click.option("--metric", "metrics", multiple=True, metavar="NAME", help="A training metric (val/loss, or val_loss); repeatable: one panel each. With --sweep alone: default the sweep's --metric.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The image to write (.png, .pdf, .svg).")
def plot(specs: tuple[str, ...], sweep_id: str | None, metrics: tuple[str, ...], output: Path) -> None:
    """Draw learning curves of versions from their train/logs/metrics.csv (needs runway-core[plot]).

    With --sweep and no versions: the sweep's optimisation history (its
    metric per point, best so far) and each swept key against the metric.
    """
    from runway.compare.plot import plot_curves

    if sweep_id is not None and not specs:
        _plot_sweep(sweep_id, metrics, output)
        return
    if not metrics:
        raise click.UsageError("--metric NAME is required (with --sweep alone it defaults to the sweep's metric)")
    _, selected = _selected(specs, sweep_id)
    written = plot_curves(selected, metrics, output, labels=_legend_labels(selected))
    click.echo(f"wrote {written}")


def _plot_sweep(sweep_id: str, metrics: tuple[str, ...], output: Path) -> None:
    from runway.compare.plot import plot_sweep
    from runway.project import Project
    from runway.sweep.ledger import find_ledger
    from runway.sweep.results import trial_rows
    from runway.sweep.runner import observe

    experiments_dir = Project.find().experiments_dir
    ledger = find_ledger(experiments_dir, sweep_id)
    data, observed = observe(ledger, persist=False)
    if metrics:
        data = {**data, "metric": metrics[0]}
    written = plot_sweep(data, trial_rows(data, observed, data.get("metric"), experiments_dir), output)
    click.echo(f"wrote {written}")
