"""`runway train|run NAME --launcher slurm` end to end on the real local cluster:
the `runway init` example, cut down, trained by SLURM jobs that run the
runway CLI in-process (see cluster.py for the cluster)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from runway_project import RANKS_EXECUTOR, SLOW_EXECUTOR, small_opts

from runway.experiment.store import ExperimentStore
from runway.launch.records import read_job_records
from runway.logging.csv_logger import read_metrics

LIMIT_S = 240


@pytest.fixture
def project(runway_project: Callable[..., Path], runway_plugins) -> Path:
    """A fresh `runway init` project as the working folder; SLURM jobs reach
    it because the node is this machine."""
    return runway_project(files={"executors/slow.py": SLOW_EXECUTOR, "executors/ranks.py": RANKS_EXECUTOR})


@pytest.fixture
def invoke(runway_cli: Callable[..., Result]) -> Callable[..., Result]:
    return runway_cli


def wait_until(predicate: Callable[[], object], what: str, limit_s: float = LIMIT_S) -> object:
    deadline = time.monotonic() + limit_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.5)


def only_version(project: Path, name: str = "example"):
    store = ExperimentStore(project / "experiments")
    assert store.versions(name) == [1]
    return store.get(name, 1)


def job_files(version, record: dict, task: int, kind: str) -> Path:
    return version.path / "slurm" / f"{record['job_id']}_{task}_{kind}"


@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_a_queued_job_trains_the_submitted_config_whatever_the_file_says_later(slurm_cluster, project, invoke):
    opts = [*small_opts(slurm_cluster.partition), "executor.model.init_args.hidden=[12]", '+launcher.slurm.additional_parameters={"hold": true}']
    submitted = invoke("train", "example", "--launcher", "slurm", "--opts", *opts)
    assert submitted.exit_code == 0, submitted.output
    version = only_version(project)
    (record,) = read_job_records(version.path)
    job_id = record["job_id"]
    try:
        wait_until(lambda: "JobHeld" in _squeue_reason(job_id) or "held" in _squeue_reason(job_id).lower(), "the job to be held")
        # the user edits the experiment while the job waits: a syntax error, nothing the job could train
        experiment_file = project / "configs" / "experiments" / "example.jsonnet"
        experiment_file.write_text("{ this is : not jsonnet", encoding="utf-8")
    finally:
        subprocess.run(["scontrol", "release", job_id], check=True)
    wait_until(lambda: version.status["state"] in ("completed", "failed"), "the job to end")

    assert version.status["state"] == "completed", version.status
    config = json.loads((version.path / "config.json").read_text())
    assert config["executor"]["model"]["init_args"]["hidden"] == [12]
    import torch

    state = torch.load(version.checkpoints_dir / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    hidden_weights = [v for k, v in state.items() if k.endswith("weight")][0]
    assert hidden_weights.shape[0] == 12  # the submitted width, not whatever the file says now


def _squeue_reason(job_id: str) -> str:
    out = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T %r"], capture_output=True, text=True)
    return out.stdout.strip()


@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_train_with_wait_trains_on_slurm_into_the_version(slurm_cluster, project, invoke):
    result = invoke("train", "example", "--launcher", "slurm", "--wait", "--opts", *small_opts(slurm_cluster.partition))

    assert result.exit_code == 0, result.output
    version = only_version(project)
    (record,) = read_job_records(version.path)
    assert f"SLURM job {record['job_id']}: COMPLETED" in result.output
    assert record["argv"] == ["execute", str(version.path)] and record["command"] == "train"
    assert record["version"] == 1 and record["num_tasks"] == 1
    assert {p.name for p in version.checkpoints()} == {"best.ckpt", "last.ckpt"}
    assert version.status["state"] == "completed" and version.status["job_type"] == "train"
    assert json.loads((version.path / "provenance.json").read_text())["launcher"] == "slurm"

    status = invoke("status", "example")
    assert status.exit_code == 0 and f"slurm job {record['job_id']}: COMPLETED" in status.output
    assert status.output.startswith("example_V1: completed (train)")
    followed = invoke("logs", "example", "--follow")  # an ended job: prints its logs and stops
    assert "Job completed successfully" in followed.output and "example_V1: trained" in followed.output


@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_two_tasks_train_with_ddp_into_one_version(slurm_cluster, project, invoke, monkeypatch, tmp_path):
    if slurm_cluster.cpus < 2:
        pytest.skip(f"the node has {slurm_cluster.cpus} CPU; two tasks need two")
    monkeypatch.setenv("RUNWAY_TEST_RANKS", str(tmp_path / "ranks"))  # sbatch passes it on to the job
    ddp = ["train.trainer_paras.devices=2", "+train.trainer_paras.strategy=ddp", "executor.name=rank_classifier"]

    result = invoke("train", "example", "--launcher", "slurm", "--wait", "--opts", *small_opts(slurm_cluster.partition), *ddp)

    assert result.exit_code == 0, result.output
    version = only_version(project)
    (record,) = read_job_records(version.path)
    assert record["num_tasks"] == 2  # tasks per node taken from the trainer's devices
    assert "#SBATCH --ntasks-per-node=2" in (version.path / "slurm" / f"{record['job_id']}_submission.sh").read_text()
    assert {p.name for p in version.checkpoints()} == {"best.ckpt", "last.ckpt"}
    assert version.status["state"] == "completed"
    for rank in (0, 1):  # each SLURM task ran as its own Lightning rank, on one node, and both finished
        assert job_files(version, record, rank, "result.pkl").is_file()
        seen = json.loads((tmp_path / "ranks" / f"{rank}.json").read_text())
        assert (seen["global_rank"], seen["local_rank"], seen["node_rank"], seen["world_size"]) == (rank, rank, 0, 2)


@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_a_warned_job_checkpoints_requeues_and_resumes_in_the_same_version_and_logger_run(
    slurm_cluster, project, invoke, monkeypatch
):
    import torch

    mlflow_tracking = pytest.importorskip("mlflow.tracking", reason="the mlflow logger is a test dependency of `all`")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # the project's local mlruns/ store, here and in the job

    # 130 training samples in batches of 8: 17 steps an epoch, 34 in all, 0.2 s each
    opts = [*small_opts(slurm_cluster.partition), "executor.name=slow_classifier", "train.epochs=2",
            "train.batch_size=8", "+train.log_every_n_steps=1"]
    submitted = invoke("train", "example", "--launcher", "slurm", "--logger", "mlflow", "--opts", *opts)
    assert submitted.exit_code == 0, submitted.output  # returned at once: the job runs on its own
    version = only_version(project)
    (record,) = read_job_records(version.path)
    metrics_csv = version.train_dir / "logs" / "metrics.csv"

    def loss_steps() -> list[int]:
        if not metrics_csv.is_file():
            return []
        return [row.step for row in read_metrics(metrics_csv) if row.metric == "train/loss_step"]

    wait_until(lambda: len(loss_steps()) >= 3, "three training steps in metrics.csv")
    logger_state = (version.path / "loggers" / "mlflow.json").read_text()
    subprocess.run(["scancel", "--signal=USR2", record["job_id"]], check=True)  # SLURM's warning

    followed = invoke("logs", "example", "--follow")  # until the requeued job ends

    assert followed.exit_code == 0
    assert f"[slurm job {record['job_id']}: COMPLETED]" in followed.output, followed.output[-3000:]
    saved = re.search(r"preempted at global step (\d+) \(SLURM sent SIGUSR2\); saved (\S+); requeueing", followed.output)
    assert saved, followed.output[-3000:]
    saved_step = int(saved[1])
    assert Path(saved[2]) == version.checkpoints_dir / "last.ckpt"
    # one version, one job (run twice), completed
    assert only_version(project).status["state"] == "completed"
    assert read_job_records(version.path) == [record]
    assert version.provenance["launcher"] == "slurm"
    # the global step went on from the checkpoint: the csv never restarts at 0
    steps = loss_steps()
    assert steps == sorted(set(steps)) and steps[0] == 0 and steps[-1] == 33
    assert 3 <= saved_step < 34 and any(step >= saved_step for step in steps)
    assert torch.load(version.checkpoints_dir / "last.ckpt", weights_only=False)["global_step"] == 34
    # one logger run: the same mlflow run id, holding both halves of the curve
    assert (version.path / "loggers" / "mlflow.json").read_text() == logger_state
    state = json.loads(logger_state)
    client = mlflow_tracking.MlflowClient(tracking_uri=state["tracking_uri"])
    assert [run.info.run_id for run in client.search_runs([state["experiment_id"]])] == [state["run_id"]]
    history = sorted(metric.step for metric in client.get_metric_history(state["run_id"], "train/loss_step"))
    assert history == steps
    assert client.get_run(state["run_id"]).info.status == "FINISHED"


@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_a_run_that_fails_on_the_cluster_exits_1_and_status_shows_its_stderr(slurm_cluster, project, invoke):
    # a layer of -1 units passes every check at submission and fails when the node builds the model
    opts = [*small_opts(slurm_cluster.partition), "executor.model.init_args.hidden=[-1]"]

    result = invoke("run", "example", "--launcher", "slurm", "--wait", "--opts", *opts)

    assert result.exit_code == 1
    version = only_version(project)
    (record,) = read_job_records(version.path)
    assert record["command"] == "run"
    assert version.status["state"] == "failed" and "negative dimension" in version.status["error"]
    status = invoke("status", "example")
    assert f"slurm job {record['job_id']}: FAILED" in status.output
    tail = status.output.split("last lines of its stderr:", 1)[1]
    assert "negative dimension" in tail and "failed" in tail
    assert "negative dimension" in invoke("logs", "example", "--stderr").output


@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_submission_returns_at_once_and_cancel_stops_the_job(slurm_cluster, project, invoke):
    result = invoke("train", "example", "--launcher", "slurm", "--opts", *small_opts(slurm_cluster.partition))

    assert result.exit_code == 0, result.output
    version = only_version(project)
    (record,) = read_job_records(version.path)
    assert f"example_V1: submitted with launcher 'slurm' as job {record['job_id']}" in result.output
    cancelled = invoke("cancel", "example")
    assert cancelled.exit_code == 0 and f"example_V1: cancelled slurm job {record['job_id']}" in cancelled.output
    wait_until(lambda: f"slurm job {record['job_id']}: CANCELLED" in invoke("status", "example").output, "CANCELLED")


@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_a_partition_slurm_refuses_is_shown_in_slurms_words_with_exit_2(slurm_cluster, project, invoke):
    opts = [*small_opts(slurm_cluster.partition), "launcher.slurm.partition=nope"]

    result = invoke("train", "example", "--launcher", "slurm", "--opts", *opts)

    assert result.exit_code == 2
    assert "invalid partition specified: nope" in result.output and "Traceback" not in result.output
    assert ExperimentStore(project / "experiments").versions("example") == []  # nothing left behind


def test_dry_run_prints_the_batch_script_and_allocates_nothing(project, invoke):
    opts = [*small_opts("debug"), "train.trainer_paras.devices=2", "+train.trainer_paras.strategy=ddp"]

    result = invoke("train", "example", "--launcher", "slurm", "--dry-run", "--opts", *opts)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for line in ["#SBATCH --ntasks-per-node=2", "#SBATCH --partition=debug", "#SBATCH --time=10",
                 "#SBATCH --signal=USR2@120", "#SBATCH --job-name=runway-example-V1-train"]:
        assert line in lines, line
    assert not (project / "experiments" / "example_V1").exists()

    mismatch = invoke("train", "example", "--launcher", "slurm", "--dry-run", "--opts", *opts,
                      "+launcher.slurm.tasks_per_node=3")
    assert mismatch.exit_code == 2
    assert "tasks_per_node is 3 but train.trainer_paras.devices asks for 2" in mismatch.output
