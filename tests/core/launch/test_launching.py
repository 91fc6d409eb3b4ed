"""`train`/`run` hand a Job to the launcher named by --launcher; `status`,
`cancel` and `logs` follow what a launcher submitted (jobs.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runway import hookimpl
from runway.errors import RunwayError
from runway.launch import Job, JobHandle
from runway.launch.records import JOBS_FILE, append_job_record, read_job_records
from runway.support.clock import now_iso

FAKE = "fake"


class FakeLauncher:
    """A launcher that keeps the jobs it is given and answers the job hooks
    from its own fields: a stand-in for a cluster, next to the real SLURM
    tests in tests/slurm."""

    def __init__(self, logs: Path) -> None:
        self.jobs: list[Job] = []
        self.state = "RUNNING"
        self.final = False
        self.refusal: str | None = None
        self.wait_result = "completed"
        self.cancelled: list[str] = []
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        (logs / "out.txt").write_text("epoch 1 done\n")
        (logs / "err.txt").write_text("Traceback ...\nValueError: bad trainer option\n")

    @hookimpl
    def launch_job(self, job: Job, launcher: str) -> JobHandle | None:
        if launcher != FAKE:
            return None
        if self.refusal:
            raise RunwayError(self.refusal)
        self.jobs.append(job)
        if job.dry_run:
            return JobHandle(launcher=FAKE, state="dry-run")
        append_job_record(
            job.version_dir,
            {"launcher": FAKE, "job_id": "7", "command": job.command, "submitted": now_iso(), "folder": str(self.logs)},
        )
        if job.wait:
            exit_code = 0 if self.wait_result == "completed" else 1
            return JobHandle(launcher=FAKE, state=self.wait_result, job_id="7", info={"exit_code": exit_code})
        return JobHandle(launcher=FAKE, state="submitted", job_id="7")

    @hookimpl
    def job_status(self, record: dict) -> dict | None:
        if record.get("launcher") != FAKE:
            return None
        status: dict[str, Any] = {"state": self.state, "final": self.final}
        if self.state == "FAILED":
            status["stderr_tail"] = (self.logs / "err.txt").read_text()
        return status

    @hookimpl
    def cancel_job(self, record: dict) -> bool | None:
        if record.get("launcher") != FAKE:
            return None
        self.cancelled.append(record["job_id"])
        return not self.final

    @hookimpl
    def job_logs(self, record: dict) -> str | None:
        return "everything it wrote\n" if record.get("launcher") == FAKE else None

    @hookimpl
    def job_log_files(self, record: dict) -> dict[str, str] | None:
        if record.get("launcher") != FAKE:
            return None
        return {"stdout": str(self.logs / "out.txt"), "stderr": str(self.logs / "err.txt")}


@pytest.fixture
def fake(project, runway_builtin_plugins, register_plugin, tmp_path) -> FakeLauncher:
    return register_plugin(FakeLauncher(tmp_path / "fake-logs"), name=FAKE)


def test_train_hands_the_job_to_the_named_launcher_and_returns_at_once(project, invoke, fake):
    result = invoke("train", "tiny", "--launcher", FAKE, "--opts", "+launcher.fake.cpus=3")

    assert result.exit_code == 0, result.output
    assert "tiny_V1: submitted with launcher 'fake' as job 7" in result.output
    (job,) = fake.jobs
    assert job.argv == ["execute", str(project / "experiments" / "tiny_V1")] and job.command == "train"
    assert (job.experiment, job.version, job.version_dir) == ("tiny", 1, project / "experiments" / "tiny_V1")
    spec = json.loads((job.version_dir / "job.json").read_text())
    assert spec["command"] == "train" and spec["launcher"] == FAKE and spec["resources"] == {"cpus": 3}
    assert job.resources == {"cpus": 3}  # the config's launcher.<name> section, after --opts
    assert job.config["train"]["trainer_paras"]["devices"] == 1 and job.resumable
    assert (job.wait, job.dry_run) == (False, False)
    assert json.loads((job.version_dir / "status.json").read_text())["state"] == "pending"
    assert read_job_records(job.version_dir)[0]["job_id"] == "7"


@pytest.mark.slow
def test_a_submitted_job_runs_its_spec_even_after_the_experiment_file_breaks(project, invoke, fake):
    assert invoke("train", "tiny", "--launcher", FAKE, "--opts", "train.epochs=1", "executor.model.init_args.hidden=[6]").exit_code == 0
    (job,) = fake.jobs
    # while the job waits in a queue, the user breaks the experiment file
    (project / "configs" / "experiments" / "tiny.jsonnet").write_text("{ not: jsonnet", encoding="utf-8")

    executed = invoke("execute", str(job.version_dir))  # what the launcher's process runs

    assert executed.exit_code == 0, executed.output
    status = json.loads((job.version_dir / "status.json").read_text())
    assert status["state"] == "completed"
    import torch

    state = torch.load(job.version_dir / "train" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    first = next(v for k, v in state["state_dict"].items() if k.endswith("weight"))
    assert first.shape[0] == 6


def test_status_cancel_and_logs_follow_a_submitted_job(project, invoke, fake):
    assert invoke("train", "tiny", "--launcher", FAKE).exit_code == 0

    status = invoke("status", "tiny")
    assert status.exit_code == 0, status.output
    assert status.output.splitlines()[0].startswith("tiny_V1: pending launcher fake")
    assert "fake job 7: RUNNING" in status.output and "stderr" not in status.output

    cancelled = invoke("cancel", "tiny")
    assert cancelled.exit_code == 0 and "tiny_V1: cancelled fake job 7" in cancelled.output
    assert fake.cancelled == ["7"]

    fake.state, fake.final = "FAILED", True
    failed = invoke("status", "tiny", "--version", "1")
    assert "fake job 7: FAILED" in failed.output
    assert "last lines of its stderr:\n    Traceback ...\n    ValueError: bad trainer option" in failed.output
    assert "had already ended" in invoke("cancel", "tiny").output

    assert invoke("logs", "tiny").output == "everything it wrote\n"
    assert invoke("logs", "tiny", "--stderr").output == "Traceback ...\nValueError: bad trainer option\n"
    followed = invoke("logs", "tiny", "--follow")  # the job has ended: print what is there and stop
    assert followed.exit_code == 0
    assert "epoch 1 done\nTraceback ...\nValueError: bad trainer option\n" in followed.output
    assert "[fake job 7: FAILED]" in followed.output


def test_wait_follows_the_job_and_its_result_is_the_exit_code(project, invoke, fake):
    fake.wait_result = "failed"
    failed = invoke("run", "tiny", "--launcher", FAKE, "--wait")
    assert failed.exit_code == 1
    assert fake.jobs[-1].wait and fake.jobs[-1].command == "run"

    fake.wait_result = "completed"
    assert invoke("run", "tiny", "--launcher", FAKE, "--wait").exit_code == 0


def test_dry_run_allocates_no_version(project, invoke, fake):
    shown = invoke("train", "tiny", "--dry-run")  # the local launcher
    assert shown.exit_code == 0, shown.output
    assert f"runway execute {project / 'experiments' / 'tiny_V1'}" in shown.output
    assert not (project / "experiments" / "tiny_V1").exists()

    assert invoke("train", "tiny", "--launcher", FAKE, "--dry-run").exit_code == 0
    assert fake.jobs[-1].dry_run and not fake.jobs[-1].version_dir.exists()
    assert not (project / "experiments" / "tiny_V1").exists()


def test_a_job_the_launcher_refuses_takes_its_new_version_with_it(project, invoke, fake):
    fake.refusal = "SLURM refused the job: invalid partition specified: nope"
    refused = invoke("train", "tiny", "--launcher", FAKE)
    assert refused.exit_code == 2
    assert "Error: SLURM refused the job: invalid partition specified: nope" in refused.output
    assert "tiny_V1: removed (nothing was launched)" in refused.output
    assert not (project / "experiments" / "tiny_V1").exists()


def test_a_version_without_submitted_jobs_has_nothing_to_cancel_or_follow(project, invoke, fake):
    assert invoke("train", "tiny", "--launcher", FAKE).exit_code == 0
    (project / "experiments" / "tiny_V1" / JOBS_FILE).unlink()  # as if it had run locally
    assert invoke("status", "tiny").output.startswith("tiny_V1: pending")
    cancel = invoke("cancel", "tiny")
    assert cancel.exit_code == 2 and "no submitted jobs to cancel" in cancel.output
    logs = invoke("logs", "tiny")
    assert logs.exit_code == 2 and "no submitted jobs and no logs/output.log (it is pending)" in logs.output
