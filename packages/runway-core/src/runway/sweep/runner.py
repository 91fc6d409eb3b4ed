"""Starting, running, following and resuming sweeps.

A sweep is one experiment run once per point. Every point is an ordinary
submission (:mod:`runway.job.submit`): its own experiment version with the
point's resolved config, validated before any version exists, and
``provenance.json`` recording ``sweep: {id, point, overrides}``. All the
points' versions are allocated first, then handed to the launcher at once
through ``launch_array``: the local launcher executes them as child
processes, ``--parallel`` at a time, and returns when they have ended;
SLURM submits one job array. A launcher without arrays gets them one by one
through ``launch_job``.

The points come from a sweeper (:mod:`runway.sweep.sweepers`): ``grid``
and ``random`` propose every point when the sweep starts; an adaptive one
(``optuna``) is asked for ``--parallel`` points at a time, told each
result, and asked again until ``--trials`` points have finished
(completed or pruned); failed attempts do not count, and after as many
failures as the budget the search stops.

The sweep's base config (resolved when it started) is kept beside the
ledger, so ``runway sweep resume`` runs the points that were asked for,
whatever the experiment's file says now.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.errors import ConfigError, ExperimentError
from runway.launch.local import NOT_STARTED
from runway.sweep.ledger import Ledger, create_ledger, runner_alive
from runway.sweep.space import Axis, Point, parse_axes
from runway.sweep.state import ENDED_STATES, FINISHED_STATES, observe_point

LOCAL = "local"
COMMANDS = ("train", "run")
FOLLOW_POLL_S = 2.0

Echo = Callable[[str], None]


@dataclass
class SweepSource:
    """The experiment a sweep runs: its project, name and base config (resolved once)."""

    project: Any
    name: str
    config: dict[str, Any]
    config_file: str | None = None
    parent: str | None = None

    @property
    def experiments_dir(self) -> Path:
        return Path(self.project.experiments_dir)


@dataclass
class Outcome:
    """What a sweep run ended with, for the exit code and the summary line."""

    counts: dict[str, int] = field(default_factory=dict)
    stopped_early: bool = False
    # an adaptive search: failed attempts that it replaced do not fail it; a budget it could not reach does
    budget_met: bool | None = None

    @property
    def failed(self) -> bool:
        if self.budget_met is not None:
            return not self.budget_met or self.stopped_early
        return bool(self.counts.get("failed") or self.counts.get("interrupted"))


def resolve_source(name: str, config_file: str | Path | None) -> SweepSource:
    """The experiment NAME (or ``--config FILE``) without overrides."""
    from runway.config.loading import resolve_config
    from runway.experiment.versions import check_name

    check_name(name)
    project, config = resolve_config(name, config_file, ())
    parent = config.get("parent") if isinstance(config.get("parent"), str) else None
    return SweepSource(project, name, config, str(Path(config_file).resolve()) if config_file else None, parent)


def stored_source(project: Any, ledger: Ledger, data: dict[str, Any]) -> SweepSource:
    """The source a sweep started with, from the config kept beside its ledger."""
    from runway.job.spec import read_config

    config = read_config(ledger.folder)
    parent = config.get("parent") if isinstance(config.get("parent"), str) else None
    return SweepSource(project, data["experiment"], config, data.get("config_file"), parent)


def build_points(axes: Sequence[Axis], random_count: int | None, seed: int | None) -> list[Point]:
    """The points of a grid (``random_count`` ``None``) or of a random sample."""
    from runway.sweep.sweepers import GridSweeper, RandomSweeper, Search

    search = Search(axes=tuple(axes), trials=random_count, seed=seed)
    sweeper = GridSweeper(search) if random_count is None else RandomSweeper(search)
    return [Point(p.overrides) for p in sweeper.ask(None)]


def _search(data: dict[str, Any], folder: Path) -> Any:
    from runway.sweep.sweepers import Search

    return Search(
        axes=tuple(parse_axes(data["tokens"])), trials=data.get("trials"), metric=data.get("metric"),
        direction=data.get("direction") or "max", seed=data.get("seed"), options=dict(data.get("sweeper_options") or {}),
        folder=folder, sweep_id=data.get("id", ""), launcher=data.get("launcher", LOCAL), parallel=int(data.get("parallel") or 1),
    )


def open_sweeper(ledger: Ledger, data: dict[str, Any] | None = None) -> Any:
    """The sweeper of a sweep, built again from its ledger (an adaptive one reloads its own state)."""
    from runway.plugins import get_plugins
    from runway.sweep.sweepers import make_sweeper

    data = data or ledger.read()
    ledger.folder.mkdir(parents=True, exist_ok=True)
    return make_sweeper(data.get("sweeper") or "grid", _search(data, ledger.folder), get_plugins())


def _representative(axis: Axis) -> Any:
    if axis.range is not None:
        return axis.range.args[0]
    return axis.values[0] if axis.values else None


def _submission(source: SweepSource, command: str, launcher: str, config: dict[str, Any], tag: str, provenance: dict[str, Any] | None = None) -> Any:
    from runway.job.submit import Submission

    return Submission(
        command=command, name=source.name, config=config, project=source.project, launcher=launcher,
        tags=(tag,), parent=source.parent, provenance=provenance or {},
    )


def check_points(source: SweepSource, points: Sequence[Point], *, command: str = "train", launcher: str = LOCAL) -> list[dict[str, Any]]:
    """Every point's resolved config, checked as its submission will be (a bad key is found now)."""
    from runway.config import apply_overrides, validate
    from runway.config.redact import redact_argv
    from runway.job.execute import load_project_code
    from runway.job.submit import check_submission
    from runway.plugins import get_plugins

    load_project_code(source.project)  # the classes a point names are checked, as train checks them
    plugins = get_plugins()
    configs = []
    for index, point in enumerate(points):
        try:
            config = apply_overrides(source.config, point.tokens())
            validate(config)
            check_submission(_submission(source, command, launcher, config, "sweep"), plugins)
        except ConfigError as exc:
            raise ConfigError(f"sweep point {index} ({' '.join(redact_argv(point.tokens()))}): {exc}") from None
        configs.append(config)
    return configs


def create_sweep(
    source: SweepSource,
    tokens: Sequence[str],
    *,
    command: str,
    launcher: str,
    random_count: int | None = None,
    seed: int | None = None,
    parallel: int = 1,
    fail_fast: bool = False,
    sweeper: str | None = None,
    trials: int | None = None,
    metric: str | None = None,
    direction: str | None = None,
    sweeper_options: dict[str, Any] | None = None,
) -> Ledger:
    """Write the sweep's ledger and base config with its points checked (nothing runs yet).

    ``sweeper`` defaults to ``random`` with ``random_count`` (which is
    ``trials``) and to ``grid`` otherwise. The points of a grid or a random
    sample are all in the ledger now; an adaptive sweeper proposes its
    points as the sweep runs, and only the keys it will set are checked now.
    """
    import sys

    from runway.config.redact import redact_argv
    from runway.job.spec import write_config
    from runway.plugins import get_plugins
    from runway.sweep.sweepers import Search, check_objective, make_sweeper, sweeper_registry

    if command not in COMMANDS:
        raise ConfigError(f"--command {command!r}: use one of {', '.join(COMMANDS)}")
    if not tokens:
        raise ConfigError("runway sweep needs --opts KEY=V1,V2 ... (the values to sweep)")
    if parallel < 1:
        raise ConfigError(f"--parallel {parallel}: run at least one point at a time")
    if random_count is not None and trials is not None and random_count != trials:
        raise ConfigError(f"--random {random_count} and --trials {trials}: give one of them")
    trials = trials if trials is not None else random_count
    name = sweeper or ("random" if random_count is not None else "grid")
    if trials is not None and trials < 1:
        raise ConfigError(f"--trials {trials}: run at least one trial")
    direction = check_objective(metric, direction)
    if seed is None and name != "grid":
        import secrets

        seed = secrets.randbelow(2**31)
    axes = parse_axes(tokens)
    plugins = get_plugins()
    registry = sweeper_registry(plugins)
    if name not in registry:
        raise plugins.unknown("sweeper", name, registry)
    search = Search(axes=tuple(axes), trials=trials, metric=metric, direction=direction, seed=seed,
                    options=dict(sweeper_options or {}), launcher=launcher, parallel=parallel)
    adaptive = bool(getattr(registry[name][0], "adaptive", False))
    if adaptive:
        # the keys and types are checked now, on one point, so that a typo does not wait for the first trial
        check_points(source, [Point({a.key: _representative(a) for a in axes})], command=command, launcher=launcher)
        points: list[Point] = []
    else:
        points = [Point(p.overrides) for p in make_sweeper(name, search, plugins).ask(None)]
        check_points(source, points, command=command, launcher=launcher)
    swept = [a.key.lstrip("+") for a in axes if a.swept]
    record = {
        "experiment": source.name,
        "command": command,
        "config_file": source.config_file,
        "launcher": launcher,
        "parallel": parallel,
        "fail_fast": fail_fast,
        "mode": name,
        "sweeper": name,
        "adaptive": adaptive,
        "trials": trials,
        "metric": metric,
        "direction": direction,
        "sweeper_options": dict(sweeper_options or {}),
        "seed": seed,
        "tokens": list(tokens),
        "axes": [a.describe() for a in axes],
        "swept_keys": swept,
        "argv": redact_argv(sys.argv),
        "points": [
            {"index": i, "overrides": p.overrides, "opts": p.tokens(), "state": "pending", "version": None, "error": None, "attempts": []}
            for i, p in enumerate(points)
        ],
    }
    ledger = create_ledger(source.experiments_dir, source.name, record)
    write_config(ledger.folder, source.config)
    if adaptive:
        open_sweeper(ledger)  # an options mistake is found before anything runs
    return ledger


def never_started(experiments_dir: Path, experiment: str, point: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]] | None:
    """``(version, spec, config)`` of the point's version when a local sweep submitted its job but
    stopped before starting it: that folder is run as it is instead of a new version. (A job that
    another launcher dropped is an attempt of its own, recorded as such.)"""
    from runway.errors import RunwayError
    from runway.experiment.status import read_status
    from runway.experiment.store import Version
    from runway.job.spec import load_job
    from runway.sweep.state import version_path

    path = version_path(experiments_dir, experiment, point)
    if path is None or not path.is_dir() or (point.get("job") or {}).get("launcher", LOCAL) != LOCAL:
        return None
    status = read_status(path)
    if status.get("state") not in ("pending", "interrupted") or status.get("started"):
        return None
    try:
        spec, config = load_job(path)
    except RunwayError:
        return None
    return Version(experiment, spec.version, path), spec, config


def describe_point(data: dict[str, Any], point: dict[str, Any]) -> str:
    """``lr=0.001 batch=32``: the swept keys' values of a point, secret values hidden."""
    from runway.config import redact

    keys = data.get("swept_keys") or [k.lstrip("+") for k in point["overrides"]]
    shown = redact({k.lstrip("+"): v for k, v in point["overrides"].items()})
    return " ".join(f"{k}={json.dumps(shown[k])}" for k in keys if k in shown)


def submit_points(
    source: SweepSource,
    ledger: Ledger,
    indices: Sequence[int],
    *,
    launcher: str,
    parallel: int = 1,
    fail_fast: bool = False,
    echo: Echo,
) -> None:
    """Submit the points ``indices``: allocate every version through the submit path, then hand
    all the jobs to ``launcher`` at once (local: run them here and return when they have ended)."""
    from runway.config import apply_overrides, redact
    from runway.errors import RunwayError
    from runway.experiment.status import write_failure
    from runway.job.execute import load_project_code
    from runway.job.submit import base_provenance, check_submission, create_version, job_for
    from runway.plugins import get_plugins
    from runway.support.clock import now_iso

    load_project_code(source.project)
    plugins = get_plugins()
    data = ledger.read()
    command = data["command"]
    tag = f"sweep={ledger.id}"
    if launcher == LOCAL:
        ledger.claim_runner()
    shared = base_provenance(_submission(source, command, launcher, source.config, tag), plugins)
    started = []
    for index in indices:
        point = data["points"][index]
        reused = never_started(source.experiments_dir, data["experiment"], point)
        if reused is not None:
            version, spec, config = reused
        else:
            config = apply_overrides(source.config, point["opts"])
            sub = _submission(
                source, command, launcher, config, tag,
                {"sweep": {"id": ledger.id, "point": index, "overrides": redact(point["overrides"]),
                           **({"trial": point["trial"]} if point.get("trial") else {})}},
            )
            _, loggers = check_submission(sub, plugins)
            version, spec = create_version(sub, loggers, provenance=shared, durable=False, runs_here=False)
        job = job_for(version.path, spec, config)
        if launcher == LOCAL:
            job.resources.update(parallel=parallel, fail_fast=fail_fast)
        started.append((index, version, job))
        total = data.get("trials") if data.get("adaptive") else len(data["points"])
        trial = f" trial {point['trial']['trial']}" if "trial" in (point.get("trial") or {}) else ""
        echo(f"[{index + 1}/{total}] {version.label}{trial}: {describe_point(data, point)}")
    os.sync()  # the records were written without an fsync each; one flush covers them all
    ledger.update_points(
        {i: {"state": "pending", "version": v.number, "label": v.label, "error": None, "started": None, "finished": None, "job": None}
         for i, v, _ in started}
    )
    jobs = [job for _, _, job in started]
    ledger.folder.mkdir(parents=True, exist_ok=True)
    try:
        handles = plugins.hook.launch_array(jobs=jobs, launcher=launcher, folder=str(ledger.folder))
        as_array = handles is not None
        if handles is None:
            echo(f"launcher {launcher!r} submits no job arrays; submitting {len(jobs)} jobs one by one")
            handles = [plugins.hook.launch_job(job=job, launcher=launcher) for job in jobs]
    except (RunwayError, Exception) as exc:
        for _, version, _ in started:
            if (version.status or {}).get("state") == "pending":
                write_failure(version.path, exc, job_type=command)
        ledger.update_points({i: {"state": "failed", "error": f"submission failed: {exc}"} for i, _, _ in started})
        raise
    fields: dict[int, dict[str, Any]] = {}
    for (index, version, _), handle in zip(started, handles):
        if handle.state == NOT_STARTED:
            # never ran: the version goes, and the point waits for `sweep resume` as if never submitted
            shutil.rmtree(version.path, ignore_errors=True)
            fields[index] = {"state": "pending", "version": None, "label": None, "job": None}
            continue
        record = dict((handle.info or {}).get("record") or {"launcher": launcher, "job_id": handle.job_id})
        state = handle.state if handle.state in ENDED_STATES else "pending"
        fields[index] = {"state": state, "job": record, "submitted": now_iso()}
        if state in ENDED_STATES:
            fields[index]["finished"] = now_iso()
            fields[index]["error"] = (handle.info or {}).get("error")
    ledger.update_points(fields)
    if launcher != LOCAL:
        first = handles[0].job_id if handles else None
        how = f"as one job array ({str(first).split('_')[0]})" if as_array and first else "as separate jobs"
        echo(f"sweep {ledger.id}: submitted {len(jobs)} point(s) to {launcher} {how}")


# --------------------------------------------------------------------------- state


def observe(ledger: Ledger, *, persist: bool = True) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ledger and each point's observed state now; final states found are written back."""
    from runway.plugins import get_plugins

    data = ledger.read()
    experiments_dir = ledger.path.parent.parent
    plugins = get_plugins()
    alive = runner_alive(data.get("runner"))

    def job_status(record: dict[str, Any]) -> dict[str, Any] | None:
        return plugins.hook.job_status(record=record)

    observed = [
        observe_point(p, experiments_dir, data["experiment"], runner_alive=alive, job_status=job_status)
        for p in data["points"]
    ]
    changes = {
        p["index"]: {"state": seen["state"], "error": seen.get("error")}
        for p, seen in zip(data["points"], observed)
        if seen["state"] != p.get("state") and (seen["state"] in ENDED_STATES or seen["state"] == "running")
    }
    if persist and changes:
        data = ledger.update_points(changes)
    return data, observed


def follow(ledger: Ledger, *, echo: Echo, poll_s: float = FOLLOW_POLL_S) -> list[dict[str, Any]]:
    """Print each point's state changes until every point is final; returns the last observation."""
    shown: dict[int, str] = {}
    while True:
        data, observed = observe(ledger)
        for point, seen in zip(data["points"], observed):
            state = seen["state"]
            if shown.get(point["index"]) != state:
                label = point.get("label") or "-"
                detail = f": {seen['error']}" if seen.get("error") and state != "completed" else ""
                echo(f"[{point['index'] + 1}/{len(observed)}] {label}: {state}{detail}")
                shown[point["index"]] = state
        if all(seen["state"] in ENDED_STATES or seen["state"] == "missing" for seen in observed):
            return observed
        time.sleep(poll_s)


def counts(observed: Sequence[dict[str, Any]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for seen in observed:
        found[seen["state"]] = found.get(seen["state"], 0) + 1
    return found


# --------------------------------------------------------------------------- start / resume


def run_points(
    source: SweepSource,
    ledger: Ledger,
    indices: Sequence[int],
    *,
    launcher: str,
    parallel: int,
    fail_fast: bool,
    wait: bool,
    echo: Echo,
) -> Outcome:
    """Submit the points ``indices`` of a sweep; the local launcher runs them to their end.

    An adaptive sweeper's sweep ignores ``indices`` and searches on (:func:`run_search`)."""
    if ledger.read().get("adaptive"):
        return run_search(source, ledger, launcher=launcher, parallel=parallel, fail_fast=fail_fast, wait=wait, echo=echo)
    submit_points(source, ledger, indices, launcher=launcher, parallel=parallel, fail_fast=fail_fast, echo=echo)
    if launcher == LOCAL:
        data, observed = observe(ledger)
        chosen = set(indices)
        found = counts([seen for point, seen in zip(data["points"], observed) if point["index"] in chosen])
        return Outcome(counts=found, stopped_early=fail_fast and bool(found.get("pending")))
    if not wait:
        return Outcome(counts={"pending": len(indices)})
    return Outcome(counts=counts(follow(ledger, echo=echo)))


def points_to_resume(data: dict[str, Any], observed: Sequence[dict[str, Any]]) -> list[int]:
    """The points that ``resume`` runs again: failed, interrupted, missing, or never started.

    A point still running, or waiting in a launcher's queue, is an error:
    resuming it would run it twice.
    """
    busy = [
        f"{p.get('label') or p['index']} ({seen['state']})"
        for p, seen in zip(data["points"], observed)
        if seen["state"] == "running" or seen.get("queued")
    ]
    if busy:
        raise ExperimentError(
            f"sweep {data['id']} still has {len(busy)} point(s) running or queued: {', '.join(busy[:5])}; "
            f"wait for them (`runway sweep status {data['id']} --watch`) or cancel them first"
        )
    return [
        p["index"]
        for p, seen in zip(data["points"], observed)
        if seen["state"] in ("failed", "interrupted", "missing")
        or (seen["state"] == "pending" and (p.get("version") is None or (p.get("job") or {}).get("launcher", LOCAL) == LOCAL))
    ]


def reset_points(ledger: Ledger, indices: Sequence[int], observed: Sequence[dict[str, Any]]) -> None:
    """Mark the points pending again; a point whose version ran moves it into ``attempts``.

    A point whose version was submitted but never started keeps it: that
    folder runs as it is. A left-behind version whose own status never got
    past ``pending`` or ``running`` although it started (its job was killed
    before it could say so) is marked ``interrupted``, so that
    ``runway list`` tells the truth about it too.
    """
    from runway.experiment.status import read_status, write_status
    from runway.sweep.state import version_path

    data = ledger.read()
    experiments_dir = ledger.path.parent.parent
    kept = {i for i in indices if never_started(experiments_dir, data["experiment"], data["points"][i]) is not None}
    for index in indices:
        path = version_path(experiments_dir, data["experiment"], data["points"][index])
        if index in kept or path is None or not path.is_dir():
            continue
        if read_status(path).get("state") in ("pending", "running", "unknown"):
            write_status(path, "interrupted", reason=observed[index].get("error") or "rerun by `runway sweep resume`")

    def change(data: dict[str, Any]) -> None:
        for index in indices:
            point = data["points"][index]
            if index in kept:
                point.update(state="pending", error=None, job=None, started=None, finished=None)
                continue
            if point.get("version") is not None:
                point.setdefault("attempts", []).append(
                    {"version": point["version"], "state": observed[index]["state"], "error": observed[index].get("error")}
                )
            point.update(state="pending", version=None, label=None, error=None, job=None, started=None, finished=None)

    ledger.update(change)


# --------------------------------------------------------------------------- results and adaptive search


def metric_value(version_dir: Path, metric: str | None, direction: str = "max") -> float | None:
    """The best value over the epochs of training metric ``metric`` in ``version_dir`` (else its test metric)."""
    from runway.compare.plot import match_metric
    from runway.compare.report import read_curves
    from runway.experiment.store import Version

    if metric is None or not Path(version_dir).is_dir():
        return None
    version = Version("", 0, Path(version_dir))
    curves = read_curves(version)
    name = match_metric(metric, sorted(curves))
    values = [v for _, v in curves.get(name, [])] if name else []
    if not values:
        for suffix in version.tests():
            found = version.metrics(suffix)
            key = match_metric(metric, sorted(found)) or match_metric(metric.split(":")[-1], sorted(found))
            if key is not None and isinstance(found[key], (int, float)):
                values.append(float(found[key]))
    if not values:
        return None
    return max(values) if direction == "max" else min(values)


def _proposal(point: dict[str, Any]) -> Any:
    from runway.sweep.sweepers import Proposal

    return Proposal(dict(point["overrides"]), dict(point.get("trial") or {}))


def tell_ended(ledger: Ledger, sweeper: Any, observed: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Tell ``sweeper`` the result of every point that ended and was not told yet; the metric goes into the ledger.

    A left-behind version of an interrupted point is marked ``interrupted``
    so that ``runway list`` says so too.
    """
    from runway.experiment.status import read_status, write_status
    from runway.sweep.state import version_path
    from runway.sweep.sweepers import TrialResult

    if observed is None:
        _, observed = observe(ledger)
    data = ledger.read()
    experiments_dir = ledger.path.parent.parent
    told: dict[int, dict[str, Any]] = {}
    for point, seen in zip(data["points"], observed):
        if point.get("told") or seen["state"] not in ENDED_STATES:
            continue
        path = version_path(experiments_dir, data["experiment"], point)
        if seen["state"] == "interrupted" and path is not None and path.is_dir():
            if read_status(path).get("state") in ("pending", "running", "unknown"):
                write_status(path, "interrupted", reason=seen.get("error") or "the sweep stopped before it ended")
        value = metric_value(path, data.get("metric"), data.get("direction") or "max") if path is not None else None
        result = TrialResult(seen["state"], value if seen["state"] in FINISHED_STATES else None, path, seen.get("error"))
        sweeper.tell(_proposal(point), result)
        told[point["index"]] = {"told": True, "value": value, "state": seen["state"], "error": seen.get("error")}
    return ledger.update_points(told) if told else data


def _add_points(ledger: Ledger, proposals: Sequence[Any]) -> list[int]:
    from runway.sweep.space import Point

    added: list[int] = []

    def change(data: dict[str, Any]) -> None:
        for proposal in proposals:
            point = Point(dict(proposal.overrides))
            index = len(data["points"])
            data["points"].append({
                "index": index, "overrides": point.overrides, "opts": point.tokens(), "state": "pending",
                "version": None, "error": None, "attempts": [], "trial": dict(proposal.info),
            })
            added.append(index)

    ledger.update(change)
    return added


def search_progress(data: dict[str, Any], observed: Sequence[dict[str, Any]]) -> dict[str, int]:
    """How far an adaptive search is: points ``finished`` (completed or pruned), ``active`` (not ended), ``failed``."""
    states = [seen["state"] for seen in observed]
    return {
        "finished": sum(s in FINISHED_STATES for s in states),
        "active": sum(s not in ENDED_STATES and s != "missing" for s in states),
        "failed": sum(s in ("failed", "interrupted", "missing") for s in states),
    }


def run_search(
    source: SweepSource,
    ledger: Ledger,
    *,
    launcher: str,
    parallel: int,
    fail_fast: bool,
    wait: bool,
    echo: Echo,
) -> Outcome:
    """Ask the sweeper for up to ``parallel`` points, run them, tell it the results; again until ``trials`` finished.

    Resuming is the same call: points that ended are told first (once), so
    nothing that finished runs again. With a launcher other than local the
    batch is followed to its end before the next is asked; when one batch is
    the whole budget and ``wait`` is false, the sweep returns once it is
    submitted (its jobs report to the sweeper's storage themselves).
    """
    sweeper = open_sweeper(ledger)
    data = tell_ended(ledger, sweeper)
    if hasattr(sweeper, "resume"):
        sweeper.resume([_proposal(point) for point in data["points"]])
    trials = int(data.get("trials") or 0)
    while True:
        data, observed = observe(ledger)
        progress = search_progress(data, observed)
        if progress["finished"] >= trials:
            break
        if progress["failed"] >= max(trials, 1):
            echo(f"sweep {ledger.id}: stopping after {progress['failed']} failed trial(s)")
            break
        room = min(parallel, trials - progress["finished"] - progress["active"])
        if room <= 0:
            if launcher == LOCAL or not wait:
                break
            follow(ledger, echo=echo)
            tell_ended(ledger, sweeper)
            continue
        proposals = sweeper.ask(room)
        if not proposals:
            break
        indices = _add_points(ledger, proposals)
        submit_points(source, ledger, indices, launcher=launcher, parallel=parallel, fail_fast=fail_fast, echo=echo)
        if launcher != LOCAL:
            whole = progress["finished"] + progress["active"] + len(indices) >= trials
            if whole and not wait:
                return Outcome(counts=counts(observe(ledger)[1]))
            follow(ledger, echo=echo)
        data = tell_ended(ledger, sweeper)
        if fail_fast and any(data["points"][i].get("state") in ("failed", "interrupted") for i in indices):
            return Outcome(counts=counts(observe(ledger)[1]), stopped_early=True, budget_met=False)
    data, observed = observe(ledger)
    return Outcome(counts=counts(observed), budget_met=search_progress(data, observed)["finished"] >= trials)
