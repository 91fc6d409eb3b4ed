"""``runway prepare NAME --launcher slurm``: one SLURM job per pipeline node to compute.

Core plans the submission (:mod:`runway.pipeline.submit`) and hands it over
as a ``prepare`` job whose ``plan`` lists the node jobs in order. Each is
submitted here through the same executor, batch script and records as a
training job (:mod:`runway_slurm.launcher`): a job that waits for other
node jobs gets ``--dependency=afterok:ID[:ID...]`` and
``--kill-on-invalid-dep=yes``, so that a failed node's dependents are
cancelled by SLURM instead of waiting forever. Each job's options are the
``launcher.slurm`` section (the default for all nodes) updated by its
``launcher.slurm.pipeline_nodes[NODE]``; one record per job goes to the
version's ``jobs.jsonl`` (with ``node`` and ``after``).

A sharded node (``setup_kwargs._shards: N``, staged by core when it planned
the submission) is two jobs with those options: a job array of one task
per shard still missing from its staging area (``--array=0-7``, or
``--array=3,5`` when the others are complete from an earlier submission;
task ``i`` computes shard ``i``), and a merge job after the array
(``afterok:<array id>``), which the node's readers wait for. A task that
fails or is cancelled cancels the merge and the readers; completed shards
stay in the staging area, so the next submission's array holds only the
missing ones. Each task has its own record (``shard``, ``shards``,
``array_job_id``), the merge one with ``merge: true``.

Imports submitit at the top, like :mod:`runway_slurm.launcher`.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from runway.launch.job import Job, JobHandle
from runway.pipeline.submit import index_ranges

from runway_slurm.command import RunwayCommand
from runway_slurm.launcher import (
    LAUNCHER,
    POLL_INTERVAL_S,
    _record,
    _sbatch_errors,
    make_executor,
    submit_indexed_array,
    submitit_folder,
    with_array,
    with_dependency,
)
from runway_slurm.resources import SlurmResources, pipeline_node_section
from runway_slurm.status import cancel, query_state, tail

NODE_ENTRY = "runway.pipeline.submit:execute_node"
SHARD_ENTRY = "runway.pipeline.submit:execute_shard"
MERGE_ENTRY = "runway.pipeline.submit:execute_merge"


def _job_name(job: Job, node: str, part: str = "") -> str:
    return f"runway-{job.experiment}-V{job.version}-prepare-{re.sub(r'[^A-Za-z0-9_.-]+', '_', node)}{part}"


def node_resources(job: Job, node: str, after_ids: list[str]) -> SlurmResources:
    """The resources of ``node``'s job: its section, plus the dependency on ``after_ids``."""
    section = pipeline_node_section(job.resources, node)
    resources = SlurmResources.from_section(section, where=f"launcher.slurm (pipeline node {node})")
    return with_dependency(resources, after_ids)


def _sbatch_line(name: str, resources: SlurmResources) -> str:
    extra = resources.additional_parameters
    dependency = extra.get("dependency")
    return (
        f"    sbatch --job-name={name}"
        + (f" --array={extra['array']}" if extra.get("array") else "")
        + f" --time={resources.time_minutes} --partition={resources.partition or '(default)'}"
        + (f" --cpus-per-task={resources.cpus_per_task}" if resources.cpus_per_task else "")
        + (f" --mem={resources.mem}" if resources.mem else "")
        + (f" --dependency={dependency} --kill-on-invalid-dep=yes" if dependency else "")
    )


def _dry_run(job: Job, out: TextIO) -> JobHandle:
    from runway.pipeline.submit import dependency_lines

    plan = job.plan or []
    print(f"# dry run: nothing submitted; {len(plan)} node(s) to compute, one SLURM job each "
          "(a sharded node: a job array of its missing shards, then a merge job):", file=out, flush=True)
    for line, entry in zip(dependency_lines(plan), plan):
        node, after = entry["node"], [f"<{a}>" for a in entry["after"]]
        print(line, flush=True)
        if not entry.get("shards"):
            print(_sbatch_line(_job_name(job, node), node_resources(job, node, after)), flush=True)
            continue
        missing = entry.get("missing", list(range(entry["shards"])))
        if missing:
            print(_sbatch_line(_job_name(job, node, "-shards"), with_array(node_resources(job, node, after), missing)), flush=True)
            after = [f"<{node} shards>"]
        print(_sbatch_line(_job_name(job, node, "-merge"), node_resources(job, node, after)), flush=True)
    return JobHandle(launcher=LAUNCHER, state="dry-run", info={"jobs": plan})


def submit_pipeline(job: Job, *, out: TextIO | None = None) -> JobHandle:
    """Submit every node job of ``job.plan`` in order, each depending on the
    jobs of the nodes it reads; follow them when ``job.wait``."""
    out = out or sys.stderr
    if job.dry_run:
        return _dry_run(job, out)
    records = submit_nodes(job, job.plan or [], out=out)
    ids = [record["job_id"] for record in records]
    handle = JobHandle(launcher=LAUNCHER, state="submitted", job_id=",".join(ids), info={"records": records})
    if not job.wait:
        return handle
    return follow_pipeline(records, out=out)


def submit_data_jobs(job: Job, *, out: TextIO | None = None) -> list[str]:
    """``prepare_first``: submit the node jobs that compute the uncached data of
    training ``job`` (into its version folder); returns their job ids."""
    from runway.job.spec import read_spec
    from runway.pipeline.submit import data_jobs

    entries = data_jobs(Path(job.version_dir), job.config or {}, Path(job.project_root), dummy=read_spec(job.version_dir).dummy)
    if not entries:
        return []
    records = submit_nodes(job, entries, out=out or sys.stderr)
    return [record["job_id"] for record in records]


def submit_nodes(job: Job, entries: list[dict[str, Any]], *, out: TextIO) -> list[dict[str, Any]]:
    """Submit one job per entry (a sharded one: its array, then its merge), in order,
    each after the jobs of its ``after`` nodes; a refusal cancels the ones already submitted."""
    folder = submitit_folder(job)
    version_dir = Path(job.version_dir).absolute()
    ids: dict[str, str] = {}
    records: list[dict[str, Any]] = []

    def submit_one(entry: dict[str, Any], after_ids: list[str], part: str, entry_point: str, **extra: Any) -> dict[str, Any]:
        node = entry["node"]
        resources = node_resources(job, node, after_ids)
        name = _job_name(job, node, part)
        executor = make_executor(folder, resources, name)
        command = RunwayCommand(version_dir / "pipeline" / entry["folder"], env=job.env, workdir=job.project_root, entry=entry_point)
        with _sbatch_errors(folder, f"the job {name!r} of node {node}", resources):
            slurm_job = executor.submit(command)
        what = f"prepare {node}" + (" merge" if extra.get("merge") else "")
        record = _record(dataclasses.replace(job, command=what), slurm_job.job_id, folder, resources, name, node=node, after=after_ids, **extra)
        records.append(record)
        return record

    def waits(after_ids: list[str], names: list[str]) -> str:
        return f" after {', '.join(f'{n} ({i})' for n, i in zip(names, after_ids))}" if after_ids else ""

    try:
        for entry in entries:
            node = entry["node"]
            after_ids = [ids[parent] for parent in entry["after"]]
            if not entry.get("shards"):
                record = submit_one(entry, after_ids, "", NODE_ENTRY)
                ids[node] = record["job_id"]
                print(f"Submitted SLURM job {record['job_id']} for node {node}{waits(after_ids, entry['after'])}", file=out, flush=True)
                continue
            n_shards = int(entry["shards"])
            missing = [int(i) for i in entry.get("missing", range(n_shards))]
            merge_after, merge_names = after_ids, list(entry["after"])
            if missing:
                array_id = _submit_shards(job, entry, missing, after_ids, folder, version_dir, records)
                print(f"Submitted SLURM job array {array_id} for node {node}: shards {index_ranges(missing)} of {n_shards}"
                      f"{waits(after_ids, entry['after'])}", file=out, flush=True)
                merge_after, merge_names = [array_id], [f"its {len(missing)} shard task(s)"]
            record = submit_one(entry, merge_after, "-merge", MERGE_ENTRY, merge=True, shards=n_shards)
            ids[node] = record["job_id"]
            print(f"Submitted SLURM job {record['job_id']} to merge node {node}{waits(merge_after, merge_names)}", file=out, flush=True)
    except BaseException:
        for record in records:  # nothing half-submitted stays queued
            cancel(record["job_id"])
        raise
    return records


def _submit_shards(
    job: Job, entry: dict[str, Any], missing: list[int], after_ids: list[str], folder: Path, version_dir: Path,
    records: list[dict[str, Any]],
) -> str:
    """The job array of a sharded node's ``missing`` shards (task ``i``: shard ``i``); returns its id."""
    node, n_shards = entry["node"], int(entry["shards"])
    resources = with_array(node_resources(job, node, after_ids), missing)
    name = _job_name(job, node, "-shards")
    executor = make_executor(folder, resources, name)
    node_folder = version_dir / "pipeline" / entry["folder"]
    commands = {
        index: RunwayCommand(node_folder, env=job.env, workdir=job.project_root, entry=SHARD_ENTRY, args=(index,)) for index in missing
    }
    with _sbatch_errors(folder, f"the job array {name!r} of node {node} ({len(missing)} shards)", resources):
        tasks = submit_indexed_array(executor, commands)
    array_id = tasks[0].job_id.split("_")[0]
    for index, task in zip(missing, tasks):
        records.append(
            _record(
                dataclasses.replace(job, command=f"prepare {node} shard {index} of {n_shards}"), task.job_id, folder, resources, name,
                node=node, after=after_ids, shard=index, shards=n_shards, array_job_id=array_id,
            )
        )
    return array_id


def _label(record: dict[str, Any]) -> str:
    if "shard" in record:
        return f"node {record['node']} shard {record['shard']} of {record['shards']}"
    if record.get("merge"):
        return f"node {record['node']} merge"
    return f"node {record['node']}"


def follow_pipeline(records: list[dict[str, Any]], *, out: TextIO | None = None, poll_s: float = POLL_INTERVAL_S) -> JobHandle:
    """Print each job's state changes until all have ended; a failed node (or shard)
    is named with the tail of its stderr, and so are the jobs it stopped."""
    import submitit

    out = out or sys.stderr
    shown: dict[str, str] = {}
    states: dict[str, Any] = {}
    total = len(records)
    while True:
        for record in records:
            state = query_state(record["job_id"])
            states[record["job_id"]] = state
            text = state.state + (f" ({state.reason})" if state.reason else "")
            if shown.get(record["job_id"]) != text:
                shown[record["job_id"]] = text
                ended = sum(1 for s in states.values() if s.final)
                print(f"[{ended}/{total}] {_label(record)} (SLURM job {record['job_id']}): {text}", file=out, flush=True)
        if all(s.final for s in states.values()):
            break
        time.sleep(poll_s)
    failed = [r for r in records if states[r["job_id"]].failed]
    info: dict[str, Any] = {"records": records, "states": {_label(r): states[r["job_id"]].state for r in records}}
    ids = ",".join(r["job_id"] for r in records)
    if not failed:
        print(f"all {total} node job(s) completed", file=out, flush=True)
        return JobHandle(launcher=LAUNCHER, state="completed", job_id=ids, info=info)
    # a job cancelled because a job it waits for failed was stopped; the others failed themselves
    failed_ids = {r["job_id"] for r in failed} | {r["array_job_id"] for r in failed if r.get("array_job_id")}
    stopped = [r for r in failed if states[r["job_id"]].state == "CANCELLED" and set(r.get("after") or ()) & failed_ids]
    ran_and_failed = [r for r in failed if r not in stopped]
    for record in ran_and_failed:
        stderr = submitit.SlurmJob(folder=record["folder"], job_id=record["job_id"]).paths.stderr
        print(f"{_label(record)} failed (SLURM job {record['job_id']}: {states[record['job_id']].state}); "
              f"last lines of {stderr}:", file=out)
        print(tail(stderr) or "(empty)", file=out, flush=True)
    unmerged = list(dict.fromkeys(r["node"] for r in stopped if r.get("merge")))
    if unmerged:
        print(f"not merged, because a shard failed: {', '.join(unmerged)}; the completed shards are kept, and the next "
              "`runway prepare --launcher slurm` submits only the missing ones", file=out, flush=True)
    stopped_nodes = list(dict.fromkeys(r["node"] for r in stopped if not r.get("merge") and r["node"] not in unmerged))
    if stopped_nodes:
        print(f"not run, because a node they read failed: {', '.join(stopped_nodes)}", file=out, flush=True)
    info["failed_nodes"] = list(dict.fromkeys(r["node"] for r in ran_and_failed))
    info["failed_shards"] = [(r["node"], r["shard"]) for r in ran_and_failed if "shard" in r]
    info["stopped_nodes"] = stopped_nodes
    _mark_version_failed(records, ran_and_failed, states)
    return JobHandle(launcher=LAUNCHER, state="failed", job_id=ids, info=info)


def _mark_version_failed(records: list[dict[str, Any]], ran_and_failed: list[dict[str, Any]], states: dict[str, Any]) -> None:
    """A job killed before it could say so (``scancel``, a time-out) leaves the version
    ``running``: mark it ``failed``, naming the job."""
    from runway.experiment.status import read_status, write_status

    version_dir = Path(records[0]["folder"]).parent
    if read_status(version_dir).get("state") == "failed":
        return
    first = ran_and_failed[0]
    write_status(version_dir, "failed", job_type="prepare", node=first["node"],
                 error=f"{_label(first)} failed: SLURM job {first['job_id']} {states[first['job_id']].state}")
