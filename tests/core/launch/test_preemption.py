"""Preemption in one process: a stop request saves last.ckpt of the current
state and leaves training; --resume continues from that step in the same
version and the same metrics.csv. (The SLURM round trip, signal and requeue
included, is tests/slurm/test_train_on_slurm.py.)"""

from __future__ import annotations

import json

import pytest

from runway.launch import Job, Preempted, preemption
from runway.logging.csv_logger import read_metrics, read_status


def _train_loss_steps(version_dir) -> list[int]:
    rows = read_metrics(version_dir / "train" / "logs" / "metrics.csv")
    return [row.step for row in rows if row.metric == "train/loss_step"]


@pytest.mark.slow
def test_a_stop_request_checkpoints_and_resume_continues_from_that_step(project, invoke, runway_builtin_plugins):
    import torch

    with pytest.raises(Preempted) as stopped:
        invoke("train", "tiny", "--opts", "executor.name=stopping_classifier")

    version_dir = project / "experiments" / "tiny_V1"
    last = version_dir / "train" / "checkpoints" / "last.ckpt"
    assert stopped.value.checkpoint == last and stopped.value.reason == "a test warning"
    saved_step = torch.load(last, weights_only=False)["global_step"]
    assert saved_step == stopped.value.global_step == 4  # asked during step 4, saved after its optimizer step
    status = json.loads((version_dir / "status.json").read_text())
    assert status["state"] == "interrupted" and "preempted at global step 4" in status["reason"]
    assert read_status(version_dir / "train" / "logs") == "interrupted"
    before = _train_loss_steps(version_dir)
    assert before and max(before) < saved_step
    assert not preemption.training_is_guarded() and preemption.stop_requested() is None
    assert list((version_dir / "train" / "checkpoints").glob(".*tmp")) == []

    resumed = invoke("train", "tiny", "--resume", "--opts", "executor.name=stopping_classifier")

    assert resumed.exit_code == 0, resumed.output
    assert sorted(p.name for p in (project / "experiments").iterdir() if not p.name.startswith(".")) == ["tiny_V1"]
    assert json.loads((version_dir / "status.json").read_text())["state"] == "completed"
    after = _train_loss_steps(version_dir)[len(before):]
    # the same csv goes on where the checkpoint was, not from step 0
    assert after and min(after) >= saved_step and after == sorted(after)
    final_step = torch.load(last, weights_only=False)["global_step"]
    # 130 training samples in batches of 16: 9 steps an epoch, 2 epochs
    assert final_step == 18


@pytest.mark.slow
def test_sigterm_saves_the_current_state_before_lightning_stops(project, invoke, runway_builtin_plugins):
    import torch

    # Lightning leaves with its SIGTERMException, a SystemExit without a code
    invoke("train", "tiny", "--opts", "executor.name=sigterm_classifier")

    version_dir = project / "experiments" / "tiny_V1"
    assert json.loads((version_dir / "status.json").read_text())["state"] == "interrupted"
    saved = torch.load(version_dir / "train" / "checkpoints" / "last.ckpt", weights_only=False)
    assert saved["global_step"] == 4  # not an epoch-end checkpoint: the step it was at


def test_jobs_know_whether_their_command_resumes(tmp_path):
    def job(command: str) -> Job:
        return Job(version_dir=tmp_path, experiment="e", version=1, command=command, project_root=tmp_path)

    assert job("train").resumable and job("run").resumable
    assert not job("infer").resumable
    assert preemption.resume_checkpoint(tmp_path) is None
    (tmp_path / "train" / "checkpoints").mkdir(parents=True)
    (tmp_path / "train" / "checkpoints" / "last.ckpt").write_bytes(b"x")
    assert preemption.resume_checkpoint(tmp_path) == tmp_path / "train" / "checkpoints" / "last.ckpt"


def test_a_request_that_training_never_reached_goes_to_the_launcher_when_training_ends():
    handed_over: list[str] = []
    preemption.set_unguarded_stop_handler(handed_over.append)
    try:
        with preemption.guarding_training():
            assert preemption.training_is_guarded()
            preemption.request_stop("warned after the last batch")
        assert handed_over == ["warned after the last batch"]
        assert preemption.stop_requested() is None and not preemption.training_is_guarded()
        with preemption.guarding_training():  # nothing requested: nothing handed over
            pass
        assert handed_over == ["warned after the last batch"]
    finally:
        preemption.set_unguarded_stop_handler(None)
        preemption.clear_stop_request()
