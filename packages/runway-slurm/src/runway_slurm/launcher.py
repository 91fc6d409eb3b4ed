"""Submitting runway jobs to SLURM through submitit's ``SlurmExecutor``.

Imports submitit at the top: the plugin module imports this one only when a
job is actually launched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import shutil
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import submitit
from submitit.core.utils import FailedJobError
from submitit.slurm.slurm import SlurmExecutor

from runway.launch.job import Job, JobHandle
from runway_slurm.command import RUNWAY_EXECUTE, RunwayCommand
from runway_slurm.errors import SlurmRejected, SlurmUnavailable
from runway.support.clock import now_iso
from runway.support.processes import this_host
from runway_slurm.records import append_record
from runway_slurm.resources import SECTION, SlurmResources, resources_for_job
from runway_slurm.status import JobState, cancel, query_state, tail

LAUNCHER = "slurm"
SUBMITIT_FOLDER = "slurm"
POLL_INTERVAL_S = 1.0


class _ScriptOnlySlurmExecutor(SlurmExecutor):
    """Renders batch scripts where SLURM is not installed (``--dry-run`` on a
    laptop); the stock executor refuses to exist without ``srun``."""

    @classmethod
    def affinity(cls) -> int:
        return 1


def submitit_folder(job: Job) -> Path:
    """Where submitit keeps a job's pickles, batch scripts and logs: inside
    the version folder, so job ids of a restarted cluster never collide with
    another version's files."""
    return Path(job.version_dir).absolute() / SUBMITIT_FOLDER


def default_job_name(job: Job) -> str:
    command = job.command if re.fullmatch(r"[\w-]+", job.command or "") else "job"
    return f"runway-{job.experiment}-V{job.version}-{command}"


def make_executor(folder: Path, resources: SlurmResources, job_name: str, *, script_only: bool = False) -> SlurmExecutor:
    """A ``SlurmExecutor`` writing into ``folder`` with ``resources`` set."""
    if not script_only and (shutil.which("sbatch") is None or shutil.which("srun") is None):
        raise SlurmUnavailable(
            f"--launcher slurm needs SLURM's sbatch and srun on PATH, and {this_host()} has "
            "none. Run on a SLURM login node, or add --dry-run to see the batch script."
        )
    executor_class = _ScriptOnlySlurmExecutor if script_only else SlurmExecutor
    executor = executor_class(folder=folder, max_num_timeout=resources.max_timeouts)
    executor.update_parameters(**resources.executor_parameters(job_name))
    return executor


def command_for(job: Job, entry: str = RUNWAY_EXECUTE) -> RunwayCommand:
    """What the job's tasks run: the version folder's job (another ``entry`` for tests and tools)."""
    return RunwayCommand(Path(job.version_dir).absolute(), env=job.env, workdir=job.project_root, entry=entry)


def job_resources(job: Job) -> SlurmResources:
    """The job's ``launcher.slurm`` section, completed from its trainer settings."""
    return resources_for_job(job.resources, job.config)


def batch_script(job: Job, resources: SlurmResources | None = None) -> str:
    """The sbatch script that submitting ``job`` would hand to SLURM."""
    resources = resources or job_resources(job)
    job_name = default_job_name(job) if resources.job_name is None else resources.job_name
    executor = make_executor(submitit_folder(job), resources, job_name, script_only=True)
    return executor._make_submission_file_text(executor._submitit_command_str, "dry-run")


def _rejected(exc: FailedJobError, what: str, resources: SlurmResources) -> SlurmRejected:
    text = str(exc).strip()
    slurm_lines = [line for line in text.splitlines() if "error" in line.lower()] or text.splitlines()
    asked = f"partition={resources.partition or '(default)'}, nodes={resources.nodes}, " + (
        f"tasks_per_node={resources.tasks_per_node}, time={resources.time_minutes} min"
    )
    return SlurmRejected(
        f"SLURM refused {what} ({asked}):\n  "
        + "\n  ".join(slurm_lines)
        + f"\nFix the {SECTION} section of the config (`sinfo` lists partitions and nodes)."
    )


@contextlib.contextmanager
def _sbatch_errors(folder: Path, what: str, resources: SlurmResources):
    """Turn sbatch's refusal into a user error and remove the files that the
    refused submission left behind."""
    before = set(folder.iterdir()) if folder.is_dir() else set()
    captured = io.StringIO()
    try:
        # submitit echoes sbatch's stderr itself; it is shown once, in the error
        with contextlib.redirect_stderr(captured):
            yield
    except FailedJobError as exc:
        for leftover in (set(folder.iterdir()) if folder.is_dir() else set()) - before:
            if leftover.is_file():
                leftover.unlink()
        raise _rejected(exc, what, resources) from None


def _record(job: Job, job_id: str, folder: Path, resources: SlurmResources, job_name: str, **extra: Any) -> dict[str, Any]:
    record = {
        "launcher": LAUNCHER,
        "job_id": job_id,
        "submitted": now_iso(),
        "argv": list(job.argv),
        "command": job.command,
        "experiment": job.experiment,
        "version": job.version,
        "folder": str(folder),
        "job_name": job_name,
        "num_tasks": resources.num_tasks,
        **extra,
    }
    append_record(job.version_dir, record)
    return record


def with_dependency(resources: SlurmResources, after_ids: Sequence[str]) -> SlurmResources:
    """``resources`` of a job that starts once every job of ``after_ids`` completed
    (``--dependency=afterok:...``), and is cancelled when one of them fails."""
    if not after_ids:
        return resources
    extra = {**resources.additional_parameters, "dependency": "afterok:" + ":".join(after_ids), "kill_on_invalid_dep": "yes"}
    return dataclasses.replace(resources, additional_parameters=extra)


def submit(job: Job, *, entry: str = RUNWAY_EXECUTE, out: TextIO | None = None, after: Sequence[str] = ()) -> JobHandle:
    """Submit ``job`` and return at once (state ``submitted``).

    ``entry`` is the ``module:function`` that each task calls with the
    version folder; it is the job executor unless a test or tool says otherwise.
    ``after``: job ids that must complete first.
    """
    out = out or sys.stderr
    resources = with_dependency(job_resources(job), after)
    folder = submitit_folder(job)
    job_name = default_job_name(job) if resources.job_name is None else resources.job_name
    executor = make_executor(folder, resources, job_name)
    with _sbatch_errors(folder, f"the job {job_name!r}", resources):
        slurm_job = executor.submit(command_for(job, entry))
    record = _record(job, slurm_job.job_id, folder, resources, job_name)
    print(
        f"Submitted SLURM job {slurm_job.job_id} ({job_name}); logs: {slurm_job.paths.stdout}",
        file=out,
        flush=True,
    )
    return JobHandle(launcher=LAUNCHER, state="submitted", job_id=slurm_job.job_id, info={"record": record})


def submit_array(
    jobs: Sequence[Job],
    folder: Path,
    *,
    resources: SlurmResources | None = None,
    entry: str = RUNWAY_EXECUTE,
    job_name: str | None = None,
) -> list[JobHandle]:
    """Submit ``jobs`` as one SLURM job array (a sweep: one version each).

    All points share ``resources`` (default: the first job's section) and
    the submitit ``folder``; each job's record goes to its own
    ``jobs.jsonl``. Returns one handle per job, in order.
    """
    if not jobs:
        return []
    resources = resources or job_resources(jobs[0])
    folder = Path(folder).absolute()
    job_name = job_name or resources.job_name or f"runway-{jobs[0].experiment}-sweep"
    executor = make_executor(folder, resources, job_name)
    commands = [command_for(job, entry) for job in jobs]
    with _sbatch_errors(folder, f"the job array {job_name!r} of {len(jobs)} jobs", resources):
        slurm_jobs = executor.submit_array(commands)
    handles = []
    for index, (job, slurm_job) in enumerate(zip(jobs, slurm_jobs)):
        record = _record(job, slurm_job.job_id, folder, resources, job_name, array_index=index)
        handles.append(JobHandle(launcher=LAUNCHER, state="submitted", job_id=slurm_job.job_id, info={"record": record}))
    return handles


def with_array(resources: SlurmResources, indices: Sequence[int]) -> SlurmResources:
    """``resources`` of a job array whose task ids are ``indices`` (``--array=3,5``)."""
    from runway.pipeline.submit import index_ranges

    extra = {**resources.additional_parameters, "array": index_ranges(indices)}
    return dataclasses.replace(resources, additional_parameters=extra)


def submit_indexed_array(executor: SlurmExecutor, commands: dict[int, Any]) -> list[submitit.SlurmJob]:
    """Submit ``{task id: callable}`` as one job array whose task ids are those keys.

    submitit's own ``submit_array`` numbers the tasks ``0..n-1``; here the
    ids are chosen (``executor`` was made with :func:`with_array` of the same
    ids), so task 5 is ``<array id>_5`` in SLURM and in submitit's files: the
    batch script is submitit's array script, each task's pickle is moved to
    the name submitit's job runner looks for, and the logs are
    ``<array id>_<task id>_0_log.out/err``. Returns the tasks' jobs in id order.
    """
    from submitit.core.utils import DelayedSubmission, JobPaths

    indices = sorted(commands)
    staging = JobPaths.get_first_id_independent_folder(executor.folder)
    staging.mkdir(parents=True, exist_ok=True)
    timeout_min = executor.parameters.get("time", 5)
    pickles = []
    for index in indices:
        delayed = DelayedSubmission(commands[index])
        delayed.set_timeout(timeout_min, executor.max_num_timeout)
        path = staging / f"{uuid.uuid4().hex}.pkl"
        delayed.dump(path)
        pickles.append(path)
    executor.parameters["map_count"] = len(indices)  # submitit's array script: logs named %A_%a
    try:
        first = executor._submit_command(executor._submitit_command_str)
    except BaseException:
        for path in pickles:
            path.unlink(missing_ok=True)
        raise
    finally:
        executor.parameters.pop("map_count", None)
    jobs = [submitit.SlurmJob(folder=executor.folder, job_id=f"{first.job_id}_{index}", tasks=list(range(executor._num_tasks()))) for index in indices]
    for job, path in zip(jobs, pickles):
        job.paths.move_temporary_file(path, "submitted_pickle")
    return jobs


def follow(record: dict[str, Any], *, out: TextIO | None = None, poll_s: float = POLL_INTERVAL_S) -> JobHandle:
    """Print ``record``'s job state changes until it ends, then its result
    (or the tail of its stderr); returns a ``completed``/``failed`` handle."""
    out = out or sys.stderr
    job_id = record["job_id"]
    shown: JobState | None = None
    while True:
        state = query_state(job_id)
        if state != shown:
            reason = f" ({state.reason})" if state.reason else ""
            print(f"SLURM job {job_id}: {state.state}{reason}", file=out, flush=True)
            shown = state
        if state.final:
            break
        time.sleep(poll_s)
    slurm_job = submitit.SlurmJob(folder=record["folder"], job_id=job_id)
    info: dict[str, Any] = {"record": record, "slurm_state": state.state}
    if state.failed:
        info["stderr_tail"] = tail(slurm_job.paths.stderr)
        print(f"SLURM job {job_id} ended {state.state}; last lines of {slurm_job.paths.stderr}:", file=out)
        print(info["stderr_tail"] or "(empty)", file=out, flush=True)
        return JobHandle(launcher=LAUNCHER, state="failed", job_id=job_id, info=info)
    result = slurm_job.result()
    print(f"SLURM job {job_id} completed, result: {result!r}", file=out, flush=True)
    return JobHandle(launcher=LAUNCHER, state="completed", job_id=job_id, result=result, info=info)


def launch(job: Job, *, entry: str = RUNWAY_EXECUTE, out: TextIO | None = None) -> JobHandle:
    """``launch_job`` for ``--launcher slurm``: dry run, submit, or submit
    and follow (``job.wait``)."""
    resources = job_resources(job)
    if job.dry_run:
        script = batch_script(job, resources)
        print(
            f"# dry run: nothing submitted; each of the {resources.num_tasks} task(s) would run "
            f"`runway {' '.join(job.argv)}` in {job.project_root}",
            file=out or sys.stderr,
            flush=True,
        )
        print(script, flush=True)
        return JobHandle(launcher=LAUNCHER, state="dry-run", info={"sbatch_script": script})
    after: list[str] = []
    if resources.prepare_first and job.command in ("train", "run"):
        from runway_slurm.pipeline import submit_data_jobs

        after = submit_data_jobs(job, out=out)
    try:
        handle = submit(job, entry=entry, out=out, after=after)
    except BaseException:
        for job_id in after:  # the data jobs were for this job alone
            cancel(job_id)
        raise
    if not job.wait:
        return handle
    return follow(handle.info["record"], out=out)
