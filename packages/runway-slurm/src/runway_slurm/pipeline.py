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

from runway_slurm.command import RunwayCommand
from runway_slurm.launcher import (
    LAUNCHER,
    POLL_INTERVAL_S,
    _record,
    _sbatch_errors,
    make_executor,
    submitit_folder,
    with_dependency,
)
from runway_slurm.resources import SlurmResources, pipeline_node_section
from runway_slurm.status import cancel, query_state, tail

NODE_ENTRY = "runway.pipeline.submit:execute_node"


def _job_name(job: Job, node: str) -> str:
    return f"runway-{job.experiment}-V{job.version}-prepare-{re.sub(r'[^A-Za-z0-9_.-]+', '_', node)}"


def node_resources(job: Job, node: str, after_ids: list[str]) -> SlurmResources:
    """The resources of ``node``'s job: its section, plus the dependency on ``after_ids``."""
    section = pipeline_node_section(job.resources, node)
    resources = SlurmResources.from_section(section, where=f"launcher.slurm (pipeline node {node})")
    return with_dependency(resources, after_ids)


def _dry_run(job: Job, out: TextIO) -> JobHandle:
    from runway.pipeline.submit import dependency_lines

    plan = job.plan or []
    print(f"# dry run: nothing submitted; {len(plan)} SLURM job(s), one per node to compute:", file=out, flush=True)
    for line, entry in zip(dependency_lines(plan), plan):
        resources = node_resources(job, entry["node"], [f"<{a}>" for a in entry["after"]])
        dependency = resources.additional_parameters.get("dependency")
        print(
            f"{line}\n    sbatch --job-name={_job_name(job, entry['node'])} --time={resources.time_minutes} "
            f"--partition={resources.partition or '(default)'}"
            + (f" --cpus-per-task={resources.cpus_per_task}" if resources.cpus_per_task else "")
            + (f" --mem={resources.mem}" if resources.mem else "")
            + (f" --dependency={dependency} --kill-on-invalid-dep=yes" if dependency else ""),
            flush=True,
        )
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
    """Submit one job per entry, in order, each after the jobs of its ``after`` nodes;
    a refusal cancels the ones already submitted."""
    folder = submitit_folder(job)
    version_dir = Path(job.version_dir).absolute()
    ids: dict[str, str] = {}
    records: list[dict[str, Any]] = []
    try:
        for entry in entries:
            node = entry["node"]
            after_ids = [ids[parent] for parent in entry["after"]]
            resources = node_resources(job, node, after_ids)
            name = _job_name(job, node)
            executor = make_executor(folder, resources, name)
            command = RunwayCommand(version_dir / "pipeline" / entry["folder"], env=job.env, workdir=job.project_root, entry=NODE_ENTRY)
            with _sbatch_errors(folder, f"the job {name!r} of node {node}", resources):
                slurm_job = executor.submit(command)
            ids[node] = slurm_job.job_id
            record = _record(
                dataclasses.replace(job, command=f"prepare {node}"), slurm_job.job_id, folder, resources, name,
                node=node, after=after_ids,
            )
            records.append(record)
            after = f" after {', '.join(f'{p} ({ids[p]})' for p in entry['after'])}" if entry["after"] else ""
            print(f"Submitted SLURM job {slurm_job.job_id} for node {node}{after}", file=out, flush=True)
    except BaseException:
        for record in records:  # nothing half-submitted stays queued
            cancel(record["job_id"])
        raise
    return records


def follow_pipeline(records: list[dict[str, Any]], *, out: TextIO | None = None, poll_s: float = POLL_INTERVAL_S) -> JobHandle:
    """Print each node job's state changes until all have ended; a failed node
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
                print(f"[{ended}/{total}] node {record['node']} (SLURM job {record['job_id']}): {text}", file=out, flush=True)
        if all(s.final for s in states.values()):
            break
        time.sleep(poll_s)
    failed = [r for r in records if states[r["job_id"]].failed]
    info: dict[str, Any] = {"records": records, "states": {r["node"]: states[r["job_id"]].state for r in records}}
    ids = ",".join(r["job_id"] for r in records)
    if not failed:
        print(f"all {total} node job(s) completed", file=out, flush=True)
        return JobHandle(launcher=LAUNCHER, state="completed", job_id=ids, info=info)
    ran_and_failed = [r for r in failed if states[r["job_id"]].state != "CANCELLED"] or failed
    for record in ran_and_failed:
        stderr = submitit.SlurmJob(folder=record["folder"], job_id=record["job_id"]).paths.stderr
        print(f"node {record['node']} failed (SLURM job {record['job_id']}: {states[record['job_id']].state}); "
              f"last lines of {stderr}:", file=out)
        print(tail(stderr) or "(empty)", file=out, flush=True)
    stopped = [r["node"] for r in failed if r not in ran_and_failed]
    if stopped:
        print(f"not run, because a node they read failed: {', '.join(stopped)}", file=out, flush=True)
    info["failed_nodes"] = [r["node"] for r in ran_and_failed]
    info["stopped_nodes"] = stopped
    return JobHandle(launcher=LAUNCHER, state="failed", job_id=ids, info=info)
