"""Training across the two nodes of the local test cluster: each node a
slurmd in its own network namespace, with its own address and hostname
(scripts/slurm/README.md). DDP runs with gloo over the bridge between them."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from runway.launch.records import read_job_records
from runway.logging.csv_logger import read_metrics
from runway_project import RANKS_EXECUTOR, SLOW_EXECUTOR, small_opts
from test_train_on_slurm import job_files, only_version, wait_until

LIMIT_S = 300


@pytest.fixture
def project(runway_project: Callable[..., Path], runway_plugins) -> Path:
    return runway_project(files={"executors/slow.py": SLOW_EXECUTOR, "executors/ranks.py": RANKS_EXECUTOR})


@pytest.fixture
def two_nodes(slurm_cluster):
    if len(slurm_cluster.nodes) < 2:
        pytest.skip(f"the cluster has {len(slurm_cluster.nodes)} node(s); start the two-node one with scripts/slurm/start_slurm.sh")
    return slurm_cluster


def loss_steps(version) -> list[int]:
    metrics_csv = version.train_dir / "logs" / "metrics.csv"
    if not metrics_csv.is_file():
        return []
    return [row.step for row in read_metrics(metrics_csv) if row.metric == "train/loss_step"]


@pytest.mark.slow
@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_two_nodes_train_one_version_with_ddp_over_gloo(two_nodes, project, runway_cli: Callable[..., Result], monkeypatch, tmp_path):
    from runway_slurm.nodes import job_hosts, job_nodes, node_address
    from runway_slurm.plugin import job_status

    monkeypatch.setenv("RUNWAY_TEST_RANKS", str(tmp_path / "ranks"))  # sbatch passes it on to the job
    opts = [*small_opts(two_nodes.partition), "+launcher.slurm.nodes=2", "+train.log_every_n_steps=1", "executor.name=rank_classifier"]

    result = runway_cli("train", "example", "--launcher", "slurm", "--wait", "--opts", *opts)

    assert result.exit_code == 0, result.output
    version = only_version(project)
    (record,) = read_job_records(version.path)  # one job, one version
    assert record["num_tasks"] == 2
    script = (version.path / "slurm" / f"{record['job_id']}_submission.sh").read_text()
    assert "#SBATCH --nodes=2" in script and "#SBATCH --ntasks-per-node=1" in script
    assert version.status["state"] == "completed"
    # each node's hostname in the job record's nodes, and the ranks met at the first node's SLURM address
    assert job_hosts(record) == list(two_nodes.nodes[:2])
    assert job_status(record)["hosts"] == list(two_nodes.nodes[:2])
    lines = job_nodes(record)
    assert {line["master_addr"] for line in lines} == {node_address(two_nodes.nodes[0])}
    # one Lightning rank per node, in a world of two, talking gloo
    ranks = [json.loads((tmp_path / "ranks" / f"{rank}.json").read_text()) for rank in (0, 1)]
    assert [(r["global_rank"], r["node_rank"], r["local_rank"], r["world_size"]) for r in ranks] == [(0, 0, 0, 2), (1, 1, 0, 2)]
    assert [r["hostname"] for r in ranks] == list(two_nodes.nodes[:2]) and {r["backend"] for r in ranks} == {"gloo"}
    assert all(job_files(version, record, task, "result.pkl").is_file() for task in (0, 1))
    provenance = json.loads((version.path / "provenance.json").read_text())
    assert provenance["world_size"] == 2 and provenance["num_nodes"] == 2
    # rank zero alone wrote: one metrics file with each step once, one checkpoint pair
    steps = loss_steps(version)
    assert steps and steps == sorted(set(steps))
    assert [p.name for p in (version.train_dir / "logs").iterdir() if p.suffix == ".csv"] == ["metrics.csv"]
    assert {p.name for p in version.checkpoints()} == {"best.ckpt", "last.ckpt"}
    assert not list(version.path.rglob("*.tmp*"))


@pytest.mark.slow
@pytest.mark.slurm
@pytest.mark.timeout(LIMIT_S)
def test_two_nodes_preempted_checkpoint_once_requeue_and_resume_in_the_same_version(
    two_nodes, project, runway_cli: Callable[..., Result]
):
    import torch
    from runway_slurm.nodes import job_nodes

    # 130 training samples, half per rank, in batches of 8: 9 steps an epoch, 18 in all, 0.2 s each
    opts = [*small_opts(two_nodes.partition), "+launcher.slurm.nodes=2", "executor.name=slow_classifier",
            "train.epochs=2", "train.batch_size=8", "+train.log_every_n_steps=1"]
    submitted = runway_cli("train", "example", "--launcher", "slurm", "--opts", *opts)
    assert submitted.exit_code == 0, submitted.output
    version = only_version(project)
    (record,) = read_job_records(version.path)

    wait_until(lambda: len(loss_steps(version)) >= 3, "three training steps in metrics.csv", LIMIT_S / 2)
    subprocess.run(["scancel", "--signal=USR2", record["job_id"]], check=True)  # SLURM's warning, to every task

    followed = runway_cli("logs", "example", "--follow")  # until the requeued job ends

    assert f"[slurm job {record['job_id']}: COMPLETED]" in followed.output, followed.output[-3000:]
    saved = re.findall(r"preempted at global step (\d+) \(SLURM sent SIGUSR2\); saved (\S+); requeueing", followed.output)
    assert len(saved) == 1, followed.output[-3000:]  # one checkpoint, saved once
    saved_step, saved_path = int(saved[0][0]), Path(saved[0][1])
    assert saved_path == version.checkpoints_dir / "last.ckpt"
    # one version, one job record (the job ran twice, on both nodes each time), completed
    assert only_version(project).status["state"] == "completed"
    assert read_job_records(version.path) == [record]
    assert {(line["node_index"], line["restart"]) for line in job_nodes(record)} == {(0, 0), (1, 0), (0, 1), (1, 1)}
    # resumed from the checkpoint: metrics.csv goes on from the saved step, never from 0 again
    steps = loss_steps(version)
    assert steps == sorted(set(steps)) and steps[0] == 0
    assert 3 <= saved_step <= steps[-1] and any(step >= saved_step for step in steps)
    assert torch.load(version.checkpoints_dir / "last.ckpt", weights_only=False)["global_step"] == steps[-1] + 1
