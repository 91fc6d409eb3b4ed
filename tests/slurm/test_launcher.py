"""``--launcher slurm`` against the real local cluster (see cluster.py)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from runway.errors import RunwayError
from runway.plugins import make_plugin_manager
from runway_slurm.errors import SlurmRejected
from runway_slurm.launcher import follow, submit
from runway_slurm.records import read_records

WAIT_LIMIT_S = 120


@pytest.fixture(scope="module")
def plugins():
    """Only the slurm plugin, so that any answer is its own."""
    return make_plugin_manager(builtins={}, allow=["slurm"])


def wait_for_state(plugins, record, wanted: set[str], limit_s: float = WAIT_LIMIT_S) -> dict:
    """Poll the job_status hook until the job reaches one of ``wanted``."""
    deadline = time.monotonic() + limit_s
    while True:
        status = plugins.hook.job_status(record=record)
        if status["state"] in wanted:
            return status
        if time.monotonic() > deadline:
            pytest.fail(f"job {record['job_id']} never reached {wanted}; last status {status}")
        time.sleep(0.5)


def wait_for_file(path: Path, limit_s: float = WAIT_LIMIT_S) -> None:
    deadline = time.monotonic() + limit_s
    while not path.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"{path} never appeared")
        time.sleep(0.5)


@pytest.mark.slurm
@pytest.mark.timeout(WAIT_LIMIT_S)
def test_a_job_runs_its_version_folder_on_slurm_and_is_recorded(slurm_cluster, plugins, make_job, job_entries_on_path, capsys):
    job = make_job([], partition=slurm_cluster.partition)

    handle = follow(submit(job, entry=f"{job_entries_on_path}:record_call").info["record"])

    assert handle.launcher == "slurm" and handle.state == "completed" and handle.result == 0
    (record,) = [json.loads(line) for line in (job.version_dir / "jobs.jsonl").read_text().splitlines()]
    assert record["job_id"] == handle.job_id
    assert record["launcher"] == "slurm" and record["argv"] == ["execute", str(job.version_dir)] and record["command"] == "train"
    assert record["folder"] == str(job.version_dir / "slurm") and record["submitted"]
    assert (job.version_dir / "called").read_text() == f"{job.version_dir} requeued=False"
    progress = capsys.readouterr().err
    assert f"SLURM job {handle.job_id}: COMPLETED" in progress
    assert plugins.hook.job_status(record=record)["state"] == "COMPLETED"
    assert "===== stderr" in plugins.hook.job_logs(record=record)
    assert plugins.hook.cancel_job(record=record) is False  # nothing left to cancel


def test_hooks_leave_other_launchers_alone(plugins, make_job):
    assert plugins.hook.launch_job(job=make_job(["plugins"]), launcher="local") is None
    other = {"launcher": "local", "job_id": "1", "folder": "/nowhere"}
    assert plugins.hook.job_status(record=other) is None
    assert plugins.hook.cancel_job(record=other) is None
    assert plugins.hook.job_logs(record=other) is None


def test_dry_run_prints_the_batch_script_and_submits_nothing(plugins, make_job, capsys):
    job = make_job(
        [],
        dry_run=True,
        partition="gpu-long",
        time="00:30:00",
        mem="2G",
        tasks_per_node=2,
        setup=["module load cuda/12"],
        additional_parameters={"exclusive": True},
    )

    handle = plugins.hook.launch_job(job=job, launcher="slurm")

    script = capsys.readouterr().out
    assert handle.state == "dry-run" and handle.job_id is None
    for line in [
        "#SBATCH --partition=gpu-long",
        "#SBATCH --time=30",
        "#SBATCH --mem=2G",
        "#SBATCH --ntasks-per-node=2",
        "#SBATCH --signal=USR2@120",
        "#SBATCH --exclusive",
        "#SBATCH --job-name=runway-exp-V1-train",
        "module load cuda/12",
    ]:
        assert line in script.splitlines(), line
    assert str(job.version_dir / "slurm") in script
    assert not (job.version_dir / "jobs.jsonl").exists()
    assert not (job.version_dir / "slurm").exists()


@pytest.mark.slurm
@pytest.mark.timeout(WAIT_LIMIT_S)
def test_unknown_partition_shows_slurms_message_as_a_user_error(slurm_cluster, plugins, make_job):
    job = make_job(["plugins"], partition="no-such-partition")

    with pytest.raises(SlurmRejected) as info:
        plugins.hook.launch_job(job=job, launcher="slurm")

    assert isinstance(info.value, RunwayError) and info.value.exit_code == 2
    message = str(info.value)
    assert "invalid partition specified: no-such-partition" in message  # SLURM's own words
    assert "launcher.slurm" in message
    assert not (job.version_dir / "jobs.jsonl").exists()
    assert list((job.version_dir / "slurm").iterdir()) == []  # the refused pickle is gone


@pytest.mark.slurm
@pytest.mark.timeout(WAIT_LIMIT_S)
def test_submission_returns_at_once_and_cancel_stops_the_job(slurm_cluster, plugins, make_job, job_entries_on_path):
    job = make_job(["300"], partition=slurm_cluster.partition)

    handle = submit(job, entry=f"{job_entries_on_path}:sleep")

    assert handle.state == "submitted"
    (record,) = read_records(job.version_dir)
    wait_for_state(plugins, record, {"RUNNING"})
    assert plugins.hook.cancel_job(record=record) is True
    wait_for_state(plugins, record, {"CANCELLED"})
    assert plugins.hook.cancel_job(record=record) is False


@pytest.mark.slurm
@pytest.mark.timeout(WAIT_LIMIT_S)
def test_a_failing_command_fails_the_slurm_job(slurm_cluster, plugins, make_job, job_entries_on_path, capsys):
    job = make_job(["3"], partition=slurm_cluster.partition)

    record = submit(job, entry=f"{job_entries_on_path}:exit_with").info["record"]
    handle = follow(record)

    assert handle.state == "failed" and handle.info["slurm_state"] == "FAILED"
    status = plugins.hook.job_status(record=record)
    assert status["state"] == "FAILED"
    assert "exited with status 3" in status["stderr_tail"]
    assert "exited with status 3" in capsys.readouterr().err


@pytest.mark.slurm
@pytest.mark.timeout(WAIT_LIMIT_S)
def test_every_task_of_a_two_task_job_runs(slurm_cluster, make_job, job_entries_on_path, tmp_path):
    if slurm_cluster.cpus < 2:
        pytest.skip(f"the node has {slurm_cluster.cpus} CPU; two tasks need two")
    out = tmp_path / "ranks"
    out.mkdir()
    job = make_job([str(out)], partition=slurm_cluster.partition, tasks_per_node=2)

    handle = follow(submit(job, entry=f"{job_entries_on_path}:write_rank").info["record"])

    assert handle.state == "completed"
    assert sorted(p.name for p in out.iterdir()) == ["rank-0", "rank-1"]
    # both ranks saw two tasks and the job's version folder
    assert {p.read_text() for p in out.iterdir()} == {f"2 {job.version_dir.name}"}


def requeue_by_admin(record: dict) -> None:
    """SLURM kills and requeues the job itself; no checkpoint() is called."""
    subprocess.run(["scontrol", "requeue", record["job_id"]], check=True)


@pytest.mark.slurm
@pytest.mark.timeout(180)
def test_a_job_that_slurm_requeues_by_itself_restarts_with_resume(
    slurm_cluster, plugins, make_job, job_entries_on_path, tmp_path
):
    # SLURM's warning (USR2) on a real training job: test_train_on_slurm.py
    out = tmp_path / "markers"
    out.mkdir()
    job = make_job([str(out)], partition=slurm_cluster.partition)
    record = submit(job, entry=f"{job_entries_on_path}:resumable").info["record"]
    wait_for_file(out / "first-run")
    wait_for_state(plugins, record, {"RUNNING"})

    requeue_by_admin(record)
    handle = follow(record, poll_s=1.0)

    assert handle.state == "completed"
    first_job_id, requeued = (out / "resumed").read_text().split()
    assert first_job_id == record["job_id"]  # the same SLURM job, run again
    assert requeued == "requeued=True"
    assert len(read_records(job.version_dir)) == 1
    # the killed first run did not leave a failed result behind
    stdout, _, stderr = plugins.hook.job_logs(record=record).partition("===== stderr")
    assert "SlurmJobFailed" not in stderr
    assert "Job completed successfully" in stdout
