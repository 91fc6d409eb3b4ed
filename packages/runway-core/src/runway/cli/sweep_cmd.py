"""``runway sweep NAME --opts ...``, ``runway sweep status|resume|list``.

``runway sweep NAME`` is short for ``runway sweep start NAME`` (write
``start`` for an experiment called ``status``, ``resume`` or ``list``).

Exit codes: 0 every point completed (or was submitted), 1 a point failed or
was interrupted, 2 bad usage, config or input.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from runway.cli.common import config_option, opts_option

_SUBCOMMANDS = ("start", "status", "resume", "list")


class _SweepGroup(click.Group):
    """A group whose first argument, when it is no subcommand, starts a sweep."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["start", *args]
        return super().parse_args(ctx, args)


@click.group("sweep", cls=_SweepGroup)
def sweep() -> None:
    """Run an experiment once per point of a grid or a random sample.

    \b
    runway sweep NAME --opts lr=1e-3,1e-4 batch=32,64           grid: 4 points
    runway sweep NAME --opts lr=loguniform(1e-5,1e-2) --random 8 --seed 0
    runway sweep NAME --sweeper optuna --trials 50 --metric val/accuracy --direction max \
        --opts 'executor.optimizer.lr=loguniform(1e-5,1e-1)' 'train.batch_size=choice(32,64)'
    runway sweep status [SWEEP] [--watch]                        each point's state, best first
    runway sweep resume [SWEEP]                                  rerun failed/unfinished points
    runway experiment BEST --from SWEEP:best                     the best point's config
    """


def _echo(line: str) -> None:
    click.echo(line)


def _project() -> Any:
    from runway.project import Project

    return Project.find()


def _summary(ledger: Any) -> None:
    """The sweep's table, as `runway sweep status` prints it: each point, its version and metric, best first."""
    from runway.sweep.ledger import shown
    from runway.sweep.runner import observe

    data, observed = observe(ledger, persist=False)
    click.echo("")
    for line in _status_lines(shown(data), observed, None, ledger.path.parent.parent):
        click.echo(line)


def _exit_for(outcome: Any, ledger: Any) -> None:
    _summary(ledger)
    ledger_id = ledger.id
    shown = ", ".join(f"{n} {state}" for state, n in sorted(outcome.counts.items()))
    click.echo(f"sweep {ledger_id}: {shown or 'nothing run'}")
    if outcome.failed:
        click.echo(f"rerun the failed points with `runway sweep resume {ledger_id}`", err=True)
        click.get_current_context().exit(1)
    from runway.cli.hints import after_sweep

    after_sweep(ledger_id)


_launch_options = [
    click.option("--launcher", default=None, help="Where the points run: local (default) runs them here; slurm submits one job array."),
    click.option("--parallel", type=int, default=None, help="Points run at once: local processes (default 1); with another launcher, the trials of a search per job array (default all)."),
    click.option("--fail-fast", is_flag=True, default=None, help="Stop at the first failed point."),
    click.option("--wait", is_flag=True, help="With a launcher other than local: follow the points until all end."),
]


def _with_launch_options(func: Any) -> Any:
    for option in reversed(_launch_options):
        func = option(func)
    return func


@sweep.command("start")
@click.argument("name")
@config_option
@opts_option
@click.option("--random", "random_count", type=int, default=None, metavar="N", help="Sample N points from the ranges instead of the grid.")
@click.option("--seed", type=int, default=None, help="Seed of --random or of the sweeper (default: a random one, recorded in the ledger).")
@click.option("--command", "command", type=click.Choice(["train", "run"]), default="train", show_default=True, help="run = train, infer and eval each point.")
@click.option("--sweeper", default=None, help="What proposes the points: grid (default), random, or a plugin's (optuna).")
@click.option("--trials", type=int, default=None, metavar="N", help="Points to finish (random, optuna): the search's budget.")
@click.option("--metric", default=None, metavar="NAME", help="The validation metric the search optimises and status sorts by (val/accuracy).")
@click.option("--direction", type=click.Choice(["max", "min"]), default=None, help="Maximise or minimise --metric (default max).")
@click.option("--sweeper-opt", "sweeper_opts", multiple=True, metavar="KEY=VALUE", help="An option of the sweeper (optuna: sampler=tpe|random|cmaes|gp|qmc, pruner=median|percentile|hyperband|none, storage=URL); repeatable.")
@_with_launch_options
def start(
    name: str,
    config_file: Path | None,
    opts: tuple[str, ...],
    random_count: int | None,
    seed: int | None,
    command: str,
    sweeper: str | None,
    trials: int | None,
    metric: str | None,
    direction: str | None,
    sweeper_opts: tuple[str, ...],
    launcher: str | None,
    parallel: int | None,
    fail_fast: bool | None,
    wait: bool,
) -> None:
    """Sweep experiment NAME over the --opts values: one version per point."""
    from runway.sweep.runner import create_sweep, resolve_source, run_points

    source = resolve_source(name, config_file)
    launcher = launcher or "local"
    if parallel is None and launcher != "local" and trials:
        parallel = trials  # a launcher's search goes as one array unless told to go in waves
    ledger = create_sweep(
        source, opts, command=command, launcher=launcher, random_count=random_count, seed=seed,
        parallel=parallel or 1, fail_fast=bool(fail_fast), sweeper=sweeper, trials=trials, metric=metric,
        direction=direction, sweeper_options=_sweeper_options(sweeper_opts),
    )
    data = ledger.read()
    mode = {"grid": "grid", "random": f"random sample (seed {data['seed']})"}.get(data["mode"], f"{data['mode']} search (seed {data['seed']})")
    swept = ", ".join(data["swept_keys"]) or "nothing (one point)"
    size = f"{data['trials']} trial(s)" if data.get("adaptive") else f"{len(data['points'])} point(s)"
    objective = f", {data['direction']} {data['metric']}" if data.get("metric") else ""
    click.echo(f"sweep {ledger.id}: {size} of {name}, {mode} over {swept}{objective}; launcher {launcher}")
    click.echo(f"ledger: {ledger.path}")
    outcome = run_points(
        source, ledger, range(len(data["points"])), launcher=launcher, parallel=parallel or 1,
        fail_fast=bool(fail_fast), wait=wait, echo=_echo,
    )
    _exit_for(outcome, ledger)


def _sweeper_options(tokens: tuple[str, ...]) -> dict[str, Any]:
    """``--sweeper-opt KEY=VALUE`` tokens: values read as JSON literals where they parse, else strings."""
    from runway.config.overrides import parse_value
    from runway.errors import ConfigError

    options: dict[str, Any] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--sweeper-opt {token!r}: expected KEY=VALUE")
        options[key.strip()] = parse_value(value)
    return options


@sweep.command("resume")
@click.argument("sweep_id", metavar="[SWEEP]", required=False)
@_with_launch_options
def resume(sweep_id: str | None, launcher: str | None, parallel: int | None, fail_fast: bool | None, wait: bool) -> None:
    """Run again the points of SWEEP (default: the latest) that failed, were interrupted or never ran."""
    from runway.sweep.ledger import find_ledger
    from runway.sweep.runner import observe, points_to_resume, reset_points, run_points, stored_source

    project = _project()
    ledger = find_ledger(project.experiments_dir, sweep_id)
    data, observed = observe(ledger)
    if data.get("adaptive"):
        _resume_search(project, ledger, data, observed, launcher, parallel, fail_fast, wait)
        return
    todo = points_to_resume(data, observed)
    if not todo:
        click.echo(f"sweep {ledger.id}: nothing to resume, all {len(observed)} point(s) completed")
        return
    source = stored_source(project, ledger, data)
    launcher = launcher or data["launcher"]
    parallel = parallel or int(data.get("parallel") or 1)
    fail_fast = data.get("fail_fast", False) if fail_fast is None else fail_fast
    reset_points(ledger, todo, observed)
    click.echo(f"sweep {ledger.id}: resuming {len(todo)} of {len(observed)} point(s) with launcher {launcher}")
    outcome = run_points(source, ledger, todo, launcher=launcher, parallel=parallel, fail_fast=bool(fail_fast), wait=wait, echo=_echo)
    _exit_for(outcome, ledger)


def _resume_search(project: Any, ledger: Any, data: dict[str, Any], observed: list[dict[str, Any]],
                   launcher: str | None, parallel: int | None, fail_fast: bool | None, wait: bool) -> None:
    """Continue an adaptive search: what ended is told to its sweeper once, and it is asked for the rest."""
    from runway.sweep.runner import ExperimentError, run_search, search_progress, stored_source

    progress = search_progress(data, observed)
    trials = int(data.get("trials") or 0)
    if progress["finished"] >= trials:
        click.echo(f"sweep {ledger.id}: nothing to resume, {progress['finished']} of {trials} trial(s) finished")
        return
    if progress["active"] and (launcher or data["launcher"]) == "local":
        busy = [p.get("label") or str(p["index"]) for p, seen in zip(data["points"], observed) if seen["state"] == "running"]
        if busy:
            raise ExperimentError(f"sweep {ledger.id} still has trial(s) running: {', '.join(busy[:5])}; wait for them or stop them first")
    source = stored_source(project, ledger, data)
    launcher = launcher or data["launcher"]
    parallel = parallel or int(data.get("parallel") or 1)
    fail_fast = data.get("fail_fast", False) if fail_fast is None else fail_fast
    click.echo(f"sweep {ledger.id}: resuming the search, {progress['finished']} of {trials} trial(s) finished; launcher {launcher}")
    outcome = run_search(source, ledger, launcher=launcher, parallel=parallel, fail_fast=bool(fail_fast), wait=wait, echo=_echo)
    _exit_for(outcome, ledger)


def _status_lines(data: dict[str, Any], observed: list[dict[str, Any]], metric: str | None = None, experiments_dir: Path | None = None) -> list[str]:
    from runway.support.tables import render_table
    from runway.sweep.results import best_row, trial_rows
    from runway.sweep.runner import counts

    keys = data.get("swept_keys") or []
    metric = metric or data.get("metric")
    rows_by_point = trial_rows(data, observed, metric, experiments_dir)
    header = ["POINT", *(["TRIAL"] if data.get("adaptive") else []), "STATE", "VERSION", *([metric] if metric else []), *keys, "ERROR"]
    rows = []
    for row in rows_by_point:
        point, seen = row["point"], row["seen"]
        values = {k.lstrip("+"): v for k, v in point["overrides"].items()}
        state = seen["state"] + (" (queued)" if seen.get("queued") else "")
        retried = f" (+{len(point['attempts'])} earlier)" if point.get("attempts") else ""
        trial = [(point.get("trial") or {}).get("trial", "-")] if data.get("adaptive") else []
        value = [_shown(row["value"])] if metric else []
        rows.append([point["index"], *trial, state, (point.get("label") or "-") + retried, *value, *(values.get(k) for k in keys), seen.get("error") or ""])
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts(observed).items()))
    budget = f" of {data['trials']} trial(s)" if data.get("adaptive") else ""
    title = f"sweep {data['id']}: {data['experiment']}, {data['sweeper'] if data.get('sweeper') else 'grid'}, {data['command']}, launcher {data['launcher']}, {len(observed)} point(s){budget}: {summary}"
    lines = [title, *render_table(header, rows, max_width=60)]
    best = best_row(rows_by_point, data.get("direction") or "max")
    if metric and best is not None:
        lines.append(f"best: point {best['point']['index']}, {best['point'].get('label')}, {metric}={_shown(best['value'])}; "
                     f"`runway experiment NEW --from {data['id']}:best` starts from its config")
    return lines


def _shown(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}"


@sweep.command("status")
@click.argument("sweep_id", metavar="[SWEEP]", required=False)
@click.option("--watch", is_flag=True, help="Keep printing state changes until every point has ended.")
@click.option("--interval", type=float, default=2.0, show_default=True, help="Seconds between looks with --watch.")
@click.option("--json", "as_json", is_flag=True, help="Print the ledger with each point's current state as JSON.")
@click.option("--metric", default=None, metavar="NAME", help="Sort by this metric (default: the sweep's --metric).")
def status(sweep_id: str | None, watch: bool, interval: float, as_json: bool, metric: str | None) -> None:
    """Show each point of SWEEP (an id or an experiment name; default the latest sweep), best first: state, version, metric, error."""
    from runway.sweep.ledger import find_ledger, shown
    from runway.sweep.runner import observe
    from runway.sweep.state import ENDED_STATES

    ledger = find_ledger(_project().experiments_dir, sweep_id)
    data, observed = observe(ledger)
    data = shown(data)
    if as_json:
        for point, seen in zip(data["points"], observed):
            point["state"], point["error"] = seen["state"], seen.get("error")
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for line in _status_lines(data, observed, metric, ledger.path.parent.parent):
        click.echo(line)
    shown = {p["index"]: seen["state"] for p, seen in zip(data["points"], observed)}
    while watch and not all(s in ENDED_STATES or s == "missing" for s in shown.values()):
        time.sleep(interval)
        data, observed = observe(ledger)
        for point, seen in zip(data["points"], observed):
            if shown.get(point["index"]) != seen["state"]:
                detail = f": {seen['error']}" if seen.get("error") and seen["state"] != "completed" else ""
                click.echo(f"[{point['index'] + 1}/{len(observed)}] {point.get('label') or '-'}: {shown.get(point['index'])} -> {seen['state']}{detail}")
                shown[point["index"]] = seen["state"]


@sweep.command("list")
def list_() -> None:
    """List the sweeps of this project, oldest first, with their points' states as recorded."""
    from runway.support.tables import render_table
    from runway.sweep.ledger import all_ledgers

    rows = []
    for ledger in all_ledgers(_project().experiments_dir):
        data = ledger.read()
        states: dict[str, int] = {}
        for point in data["points"]:
            states[point["state"]] = states.get(point["state"], 0) + 1
        rows.append([ledger.id, data["experiment"], data["command"], data["launcher"], len(data["points"]),
                     ", ".join(f"{n} {s}" for s, n in sorted(states.items())), data.get("created")])
    if not rows:
        click.echo("no sweeps yet (start one with `runway sweep NAME --opts K=V1,V2`)")
        return
    for line in render_table(["SWEEP", "EXPERIMENT", "COMMAND", "LAUNCHER", "POINTS", "STATES", "CREATED"], rows, max_width=60):
        click.echo(line)
