"""``runway prepare NAME --launcher L``: the pipeline as launcher jobs, one per node to compute.

Submitting plans the pipeline as ``runway pipeline explain`` does: nodes whose
entries are cached are loaded by their readers and get no job. Every node to
compute (``RUN``) whose entry is cached becomes one job that waits for the
jobs of the nodes it reads (``after``); a node that is not cached
(``cache: false``) gets no job of its own and is computed inside each job
that reads it. Like a training job, the submission is a version folder of
the experiment (``experiments/NAME_V<n>``, command ``prepare``) holding the
resolved config, the job spec, ``status.json``, ``pipeline.json`` (the jobs
and their dependencies) and the launcher's ``jobs.jsonl`` (one record per
node job), so ``runway status|cancel|logs NAME`` follow it as they follow
a training job. The launcher gets it through ``launch_job`` as a
:class:`~runway.launch.job.Job` with ``command == "prepare"`` and
``plan`` set.

Each node job runs :func:`execute_node` with its folder
(``<version>/pipeline/<node>/``): the version's config, the node alone, its
inputs loaded from the cache, the entry written to the cache. The cache
folder (``cache_dir`` in ``runway.toml``) must be storage that every node
sees: submitting writes a marker into it, and a node that cannot see the
marker fails at once, naming the folder and its host. A node that fails
marks the version ``failed`` naming the node; the launcher stops the jobs
that wait for it.

A sharded node (``setup_kwargs._shards: N``) is staged when the submission
is planned (:func:`stage_shard_jobs`: its shard plan written into the
cache, even before earlier jobs have computed its inputs), and its job
entry says which shards are still ``missing``; a launcher that runs shards
itself gives each missing shard a task that runs :func:`execute_shard`, and
the node's readers wait for one job running :func:`execute_merge` after
them (the slurm launcher: a job array and a merge job). Without that, the
node's one job computes its shards as local processes.

A launcher may also run a training job's uncached data this way first
(:func:`data_jobs`; the slurm launcher does with ``launcher.slurm.prepare_first``):
the node jobs go into the training version's folder and the training job
waits for them; they leave the version's status to the training job unless
one fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runway.errors import PipelineError, RunwayError

PREPARE_COMMAND = "prepare"
PLAN_FILE = "pipeline.json"
NODES_FOLDER = "pipeline"
NODE_FILE = "node.json"
DONE_FILE = "done.json"
#: written into the cache folder at submission; a node job that does not see it does not share the folder
SHARED_MARKER = ".runway-shared"
#: what a node job runs (``module:function``, called with its folder)
NODE_ENTRY = "runway.pipeline.submit:execute_node"

Echo = Callable[[str], None]


def node_folder_name(index: int, node: str) -> str:
    """A folder name for a node (``02-process_Tokenize``): its position, then its name made path-safe."""
    return f"{index:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', node)}"


def plan_jobs(plan: Any) -> list[dict[str, Any]]:
    """The jobs of a submission, in topological order: one per node to compute whose entry is
    cached (or that is a target), each with the job nodes it waits for."""
    from runway.pipeline.plan import RUN

    pipeline = plan.pipeline
    running = [name for name, node in plan.nodes.items() if node.action == RUN]
    gets_job = {name for name in running if pipeline.nodes[name].cache or name in plan.targets}

    def waits_for(name: str, seen: set[str]) -> set[str]:
        found: set[str] = set()
        for parent in pipeline.nodes[name].inputs:
            if parent in seen or plan.nodes.get(parent) is None or plan.nodes[parent].action != RUN:
                continue  # loaded from the cache: nothing to wait for
            seen.add(parent)
            found |= {parent} if parent in gets_job else waits_for(parent, seen)
        return found

    jobs = []
    for name in running:
        if name not in gets_job:
            continue
        after = waits_for(name, set())
        job = {
            "node": name,
            "key": plan.nodes[name].key,
            "forced": bool(plan.nodes[name].forced),
            "reasons": list(plan.nodes[name].reasons),
            "after": [other for other in running if other in after],
            "folder": node_folder_name(len(jobs) + 1, name),
        }
        if pipeline.nodes[name].shards > 1:
            job["shards"] = pipeline.nodes[name].shards
        jobs.append(job)
    return jobs


def stage_shard_jobs(plan: Any, jobs: list[dict[str, Any]], cache_dir: Path, plugins: Any, *, write: bool = True) -> None:
    """Give each sharded job (``shards``) its ``missing`` shards and ``staging`` folder.

    ``write``: stage the node now (:func:`~runway.pipeline.shards.stage_sharded_node`;
    a regenerated node's earlier shards are discarded), without checking
    inputs that earlier jobs of the submission compute. Without it (a dry
    run) nothing is written and the shards complete in the staging area
    are only counted.
    """
    from runway.pipeline.cache import CacheStore
    from runway.pipeline.formats import format_registry
    from runway.pipeline.plan import RUN
    from runway.pipeline.shards import ShardStaging, stage_sharded_node

    store = CacheStore(Path(cache_dir), format_registry(plugins))
    for job in jobs:
        n_shards = job.get("shards")
        if not n_shards:
            continue
        name = job["node"]
        if write:
            computed_here = any(plan.nodes[i].action == RUN for i in plan.pipeline.nodes[name].inputs)
            staging = stage_sharded_node(plan, name, store, fresh=job["forced"], check_inputs=not computed_here)
            job["missing"] = staging.missing(n_shards)
        else:
            staging = ShardStaging(store, name, job["key"])
            job["missing"] = list(range(n_shards)) if job["forced"] else staging.missing(n_shards)
        job["staging"] = str(staging.path)


def _experiment_name(name: str | None, config_file: Path | None) -> str:
    if name:
        return name
    if config_file is not None:
        return Path(config_file).stem
    raise PipelineError("give an experiment NAME or --config FILE")


def mark_shared(cache_dir: Path) -> Path:
    """Write the marker that node jobs look for in the cache folder (see :func:`execute_node`)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    marker = cache_dir / SHARED_MARKER
    if not marker.is_file():
        from runway.support.files import write_json

        write_json(marker, {"written_by": "runway prepare --launcher", "cache_dir": str(cache_dir)})
    return marker


def submit_pipeline(
    *,
    name: str | None,
    config_file: Path | None,
    project: Any,
    config: dict[str, Any],
    launcher: str,
    nodes: Sequence[str] = (),
    regenerate: Sequence[str] = (),
    dummy: bool = False,
    wait: bool = False,
    dry_run: bool = False,
    plugins: Any = None,
    echo: Echo = print,
) -> Any:
    """Plan the pipeline of ``config`` and hand its node jobs to ``launcher``.

    Returns the launcher's handle (``None`` when every node is cached and
    nothing was submitted). With ``dry_run`` nothing is written: the launcher
    prints the jobs and their dependencies.
    """
    from runway.job.submit import (
        Submission,
        base_provenance,
        check_launcher,
        create_version,
        discard_version,
    )
    from runway.launch.job import Job
    from runway.pipeline import plan_pipeline
    from runway.plugins import get_plugins

    plugins = plugins or get_plugins()
    check_launcher(plugins, launcher)
    experiment = _experiment_name(name, config_file)
    from runway.experiment.versions import check_name

    check_name(experiment)
    plan = plan_pipeline(config, project, nodes=nodes or None, regenerate=regenerate, dummy=dummy, plugins=plugins)
    jobs = plan_jobs(plan)
    loaded = [n for n, p in plan.nodes.items() if p.action == "LOAD"]
    if not jobs:
        echo(f"nothing to submit: every node needed is cached ({', '.join(loaded) or 'no nodes'})")
        return None
    resources = dict(((config.get("launcher") or {}).get(launcher)) or {})
    cache_dir = Path(project.cache_dir).resolve()
    stage_shard_jobs(plan, jobs, cache_dir, plugins, write=not dry_run)
    job = Job(
        version_dir=Path(project.experiments_dir) / f"{experiment}_V?",
        experiment=experiment,
        version=0,
        command=PREPARE_COMMAND,
        project_root=Path(project.root).resolve(),
        resources=resources,
        wait=wait,
        dry_run=dry_run,
        config=config,
        plan=jobs,
    )
    if dry_run:
        from runway.experiment.store import ExperimentStore
        from runway.experiment.versions import folder_name

        store = ExperimentStore.for_project(project)
        job.version = (store.versions(experiment) or [0])[-1] + 1  # the one a submission would allocate
        job.version_dir = store.root / folder_name(experiment, job.version)
        handle = plugins.hook.launch_job(job=job, launcher=launcher)
        if handle is None:
            raise plugins.unknown("launcher", launcher, plugins.implementers("launch_job"))
        return handle
    mark_shared(cache_dir)
    sub = Submission(command=PREPARE_COMMAND, name=experiment, config=config, project=project, launcher=launcher, dummy=dummy)
    # the node jobs run elsewhere: the pending version has no owner here
    version, _ = create_version(sub, (), provenance=base_provenance(sub, plugins), runs_here=False, job_type=PREPARE_COMMAND)
    write_node_folders(version.path, jobs, cache_dir, dummy=dummy)
    echo(f"{version.label}: {version.path}")
    job.version_dir, job.version = version.path, version.number
    try:
        handle = plugins.hook.launch_job(job=job, launcher=launcher)
    except RunwayError:
        discard_version(version, echo)
        raise
    if handle is None:
        discard_version(version, echo)
        raise plugins.unknown("launcher", launcher, plugins.implementers("launch_job"))
    if handle.state not in ("completed", "failed"):
        echo(f"{version.label}: {len(jobs)} job(s) {handle.state} with launcher {launcher!r}; {len(loaded)} node(s) cached")
        echo(f"follow them with `runway status {experiment}` (and `runway logs`, `runway cancel`)")
    return handle


def write_node_folders(version_dir: Path, jobs: list[dict[str, Any]], cache_dir: Path, *, dummy: bool, owns_status: bool = True) -> None:
    """``pipeline.json`` and one folder per node job under ``version_dir/pipeline/``.

    ``owns_status``: the node jobs report the version's state (a ``prepare``
    submission); ``False`` when they only prepare the data of a training job
    that follows them (they then mark the version only ``failed``).
    """
    from runway.support.files import write_json

    write_json(Path(version_dir) / PLAN_FILE, {"cache_dir": str(cache_dir), "dummy": dummy, "jobs": jobs})
    for entry in jobs:
        folder = Path(version_dir) / NODES_FOLDER / entry["folder"]
        folder.mkdir(parents=True, exist_ok=True)
        write_json(folder / NODE_FILE, {**entry, "cache_dir": str(cache_dir), "owns_status": owns_status})


def data_jobs(version_dir: Path, config: dict[str, Any], project_root: Path, *, dummy: bool) -> list[dict[str, Any]]:
    """The node jobs that would compute the uncached data of the training job in
    ``version_dir`` (its pipeline's outputs), their folders written; ``[]`` when
    everything is cached or the config has no pipeline."""
    from runway.pipeline import plan_pipeline
    from runway.project import Project

    if not isinstance(config.get("data_pipeline"), Mapping):
        return []
    project = Project.find(project_root, required=False) or Project(root=Path(project_root))
    plan = plan_pipeline(config, project, dummy=dummy)
    jobs = plan_jobs(plan)
    if jobs:
        from runway.plugins import get_plugins

        cache_dir = Path(project.cache_dir).resolve()
        stage_shard_jobs(plan, jobs, cache_dir, get_plugins())
        mark_shared(cache_dir)
        write_node_folders(version_dir, jobs, cache_dir, dummy=dummy, owns_status=False)
    return jobs


# --------------------------------------------------------------------------- on the node


def _version_failed(version_dir: Path) -> bool:
    from runway.experiment.status import read_status

    return read_status(version_dir).get("state") == "failed"


def _node_job(folder: Path) -> tuple[dict[str, Any], Path, Path]:
    """``(node.json, version folder, cache folder)`` of a node job's folder, once
    this host sees the shared cache folder (else the version is marked failed)."""
    from runway.experiment.status import write_status
    from runway.support.files import read_json
    from runway.support.processes import this_host

    entry = read_json(folder / NODE_FILE, None, expect=dict)
    if entry is None:
        raise PipelineError(f"{folder} holds no {NODE_FILE}: it is not a node of a submitted pipeline")
    version_dir = folder.parent.parent
    node, cache_dir = str(entry["node"]), Path(entry["cache_dir"])
    if not (cache_dir / SHARED_MARKER).is_file():
        error = PipelineError(
            f"node {node}: {this_host()} cannot see the cache folder {cache_dir} (no {SHARED_MARKER} there, which "
            "`runway prepare` wrote when it submitted); put cache_dir (runway.toml) on storage that every node shares"
        )
        job_type = PREPARE_COMMAND if entry.get("owns_status", True) else None
        write_status(version_dir, "failed", job_type=job_type, node=node, error=str(error))
        raise error
    return entry, version_dir, cache_dir


def _mark_running(version_dir: Path, entry: Mapping[str, Any]) -> None:
    from runway.experiment.status import write_status

    if entry.get("owns_status", True) and not _version_failed(version_dir):
        write_status(version_dir, "running", job_type=PREPARE_COMMAND, node=str(entry["node"]))


def _mark_failed(version_dir: Path, entry: Mapping[str, Any], command: str, error: str) -> None:
    from runway.experiment.status import write_status

    job_type = PREPARE_COMMAND if entry.get("owns_status", True) else command
    write_status(version_dir, "failed", job_type=job_type, node=str(entry["node"]), error=error)


def _node_done(folder: Path, version_dir: Path, entry: Mapping[str, Any], done: dict[str, Any]) -> None:
    """Write the node's ``done.json``; the last node of a ``prepare`` submission completes the version."""
    from runway.experiment.status import write_status
    from runway.support.files import write_json

    write_json(folder / DONE_FILE, done)
    nodes_dir = version_dir / NODES_FOLDER
    if (
        entry.get("owns_status", True)
        and all((other / DONE_FILE).is_file() for other in nodes_dir.iterdir() if other.is_dir())
        and not _version_failed(version_dir)
    ):
        write_status(version_dir, "completed", job_type=PREPARE_COMMAND)


def execute_shard(folder: str | Path, index: int, requeued: bool = False) -> dict[str, Any]:
    """Compute shard ``index`` of a sharded node of a submitted pipeline (what one task of its job array runs).

    The node was staged when the pipeline was submitted (:func:`stage_shard_jobs`);
    the shard reads the node's inputs from the shared cache and writes its output
    into the node's staging area (:func:`runway.pipeline.shards.run_shard`).
    """
    from runway.job.spec import read_spec
    from runway.pipeline.shards import run_shard
    from runway.support.processes import this_host

    folder = Path(folder)
    entry, version_dir, cache_dir = _node_job(folder)
    node, n_shards = str(entry["node"]), int(entry["shards"])
    spec = read_spec(version_dir)
    _mark_running(version_dir, entry)
    try:
        outcome = run_shard(cache_dir, node, str(entry["key"]), int(index), n_shards, project=spec.project_root)
    except BaseException as exc:
        _mark_failed(version_dir, entry, spec.command, f"node {node} shard {index} of {n_shards} failed: {type(exc).__name__}: {exc}")
        raise
    print(f"{node}: shard {index} of {n_shards} {outcome} into {entry.get('staging') or cache_dir}", flush=True)
    return {"node": node, "shard": int(index), "shards": n_shards, "outcome": outcome, "host": this_host()}


def execute_merge(folder: str | Path, requeued: bool = False) -> dict[str, Any]:
    """Merge the shards of a sharded node of a submitted pipeline into its entry (what its merge job runs)."""
    from runway.job.spec import read_spec
    from runway.pipeline.cache import CacheStore
    from runway.pipeline.formats import format_registry
    from runway.pipeline.shards import merge_shards_into_entry
    from runway.plugins import get_plugins
    from runway.support.processes import this_host

    folder = Path(folder)
    entry, version_dir, cache_dir = _node_job(folder)
    node, key, n_shards = str(entry["node"]), str(entry["key"]), int(entry["shards"])
    spec = read_spec(version_dir)
    _mark_running(version_dir, entry)
    plugins = get_plugins()
    store = CacheStore(cache_dir, format_registry(plugins))
    try:
        with store.lock(node, key):
            action = "LOAD"  # another run merged it meanwhile
            if entry.get("forced") or store.status(node, key) != "ok":
                merge_shards_into_entry(store, node, key, n_shards, project=spec.project_root, plugins=plugins)
                action = "RUN"
    except BaseException as exc:
        _mark_failed(version_dir, entry, spec.command, f"node {node} failed merging its {n_shards} shards: {type(exc).__name__}: {exc}")
        raise
    done = {"node": node, "key": key, "action": action, "host": this_host(), "shards": n_shards}
    print(f"{node}: {action} {key[:12]} merged from {n_shards} shards into {cache_dir}", flush=True)
    _node_done(folder, version_dir, entry, done)
    return done


def execute_node(folder: str | Path, requeued: bool = False) -> dict[str, Any]:
    """Run one node of a submitted pipeline into the shared cache (what a node job runs)."""
    from runway.job.spec import load_job
    from runway.pipeline import run_pipeline
    from runway.support.processes import this_host

    folder = Path(folder)
    entry, version_dir, cache_dir = _node_job(folder)
    node = str(entry["node"])
    spec, config = load_job(version_dir)
    _mark_running(version_dir, entry)
    try:
        run = run_pipeline(
            config,
            spec.project_root,
            nodes=[node],
            regenerate=[node] if entry.get("forced") else (),
            dummy=spec.dummy,
            cache_dir=cache_dir,
        )
    except BaseException as exc:
        _mark_failed(version_dir, entry, spec.command, f"node {node} failed: {type(exc).__name__}: {exc}")
        raise
    done = {"node": node, "key": run.keys.get(node), "action": run.actions.get(node), "host": this_host()}
    print(f"{node}: {done['action']} {str(done['key'])[:12]} into {cache_dir}", flush=True)
    _node_done(folder, version_dir, entry, done)
    return done


def index_ranges(indices: Iterable[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``"0-2,5,7-8"`` (the form of ``sbatch --array``)."""
    spans: list[list[int]] = []
    for index in sorted(set(indices)):
        if spans and index == spans[-1][1] + 1:
            spans[-1][1] = index
        else:
            spans.append([index, index])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def dependency_lines(jobs: Iterable[Mapping[str, Any]]) -> list[str]:
    """``process:B (key abc123) after input:A``: one line per job, for dry runs and logs
    (a sharded node's line says which of its shards are still to compute)."""
    lines = []
    for index, job in enumerate(jobs, 1):
        after = ", ".join(job.get("after") or []) or "nothing"
        line = f"job {index}: {job['node']} (key {str(job['key'])[:12]}) after {after}"
        if job.get("shards"):
            missing = job.get("missing", range(job["shards"]))
            todo = f"shards {index_ranges(missing)} to compute" if missing else "all complete"
            line += f"; {job['shards']} shards ({todo}), then their merge"
        lines.append(line)
    return lines
