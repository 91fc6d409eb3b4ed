"""Submitting, resuming and owning versions, through the CLI in-process on the tiny project."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from runway.experiment.store import ExperimentStore

pytestmark = pytest.mark.slow


def _store(project):
    return ExperimentStore(project / "experiments")


def _folders(project):
    root = project / "experiments"
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


BAD_SETTINGS = [
    (["--opts", "+train.epohcs=3"], "train.epohcs"),
    (["--opts", "executor.optimizer.lr=abc"], "executor.optimizer.lr"),
    (["--opts", "+train.trainer_paras.acelerator=cpu"], "train.trainer_paras.acelerator"),
    (["--opts", "+train.trainer_paras.accelerator=gpux"], "gpux"),
    (["--opts", "train.epochs=many"], "train.epochs"),
]


@pytest.mark.parametrize(("args", "named"), BAD_SETTINGS, ids=[b[1] for b in BAD_SETTINGS])
def test_bad_settings_exit_2_before_a_version_exists(project, invoke, args, named):
    result = invoke("train", "tiny", *args)
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert "Traceback" not in result.output
    assert _folders(project) == []


def test_an_unknown_key_typed_in_the_jsonnet_is_refused(project, invoke):
    (project / "configs" / "experiments" / "typo.jsonnet").write_text(
        "(import 'experiments/tiny.jsonnet') + { train+: { epohcs: 3 } }", encoding="utf-8"
    )
    result = invoke("train", "typo")
    assert result.exit_code == 2 and "train.epohcs" in result.output and "epochs" in result.output
    assert _folders(project) == []


def test_version_without_resume_is_refused(project, invoke):
    result = invoke("train", "tiny", "--version", "1")
    assert result.exit_code == 2 and "--resume" in result.output
    assert _folders(project) == []


def test_resume_uses_the_versions_own_config_and_records_extensions(project, invoke):
    # trained with an override the experiment file does not have
    first = invoke("train", "tiny", "--opts", "executor.model.init_args.hidden=[8]")
    assert first.exit_code == 0, first.output
    version = _store(project).get("tiny", 1)

    # resuming needs no --opts: the module is rebuilt from the version's config (hidden=[8])
    plain = invoke("train", "tiny", "--resume")
    assert plain.exit_code == 0, plain.output
    assert version.status["state"] == "completed"

    # a setting that would change what the version is: refused, nothing changes
    before = (version.path / "config.json").read_text()
    refused = invoke("train", "tiny", "--resume", "--opts", "executor.optimizer.lr=0.5")
    assert refused.exit_code == 2 and "executor.optimizer.lr" in refused.output
    shorter = invoke("train", "tiny", "--resume", "--opts", "train.epochs=1")
    assert shorter.exit_code == 2 and "train.epochs" in shorter.output
    assert (version.path / "config.json").read_text() == before
    assert version.status["state"] == "completed"

    # extending train.epochs is allowed, and recorded where the config is
    longer = invoke("train", "tiny", "--resume", "--version", "1", "--opts", "train.epochs=3")
    assert longer.exit_code == 0, longer.output
    config = json.loads((version.path / "config.json").read_text())
    assert config["train"]["epochs"] == 3
    assert config["executor"]["model"]["init_args"]["hidden"] == [8]
    job = json.loads((version.path / "job.json").read_text())
    assert [s["segment"] for s in job["segments"]] == [0, 1, 2]
    assert job["segments"][2]["changes"] == {"train.epochs": [2, 3]}
    assert version.provenance["segments"] == job["segments"]
    import torch

    saved = torch.load(version.checkpoints_dir / "last.ckpt", map_location="cpu", weights_only=True)
    assert saved["epoch"] == 2  # trained on to the third epoch, from where the second ended
    assert version.status["state"] == "completed"
    assert _folders(project) == ["tiny_V1"]


def test_resume_without_a_checkpoint_is_bad_input_and_keeps_the_status(project, invoke):
    assert invoke("train", "tiny", "--opts", "train.epochs=1").exit_code == 0
    version = _store(project).get("tiny", 1)
    (version.checkpoints_dir / "last.ckpt").unlink()
    result = invoke("train", "tiny", "--resume")
    assert result.exit_code == 2 and "last.ckpt" in result.output
    assert version.status["state"] == "completed"


HOLD_LEASE = textwrap.dedent(
    """
    import sys, time
    from runway.job.lease import holding
    with holding(sys.argv[1], "held"):
        print("held", flush=True)
        time.sleep(120)
    """
)


def test_a_second_process_cannot_run_a_version_another_one_owns(project, invoke):
    assert invoke("train", "tiny", "--opts", "train.epochs=1").exit_code == 0
    version = _store(project).get("tiny", 1)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LEASE, str(version.path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        resumed = invoke("train", "tiny", "--resume", "--opts", "train.epochs=2")
        assert resumed.exit_code == 2, resumed.output
        assert "is running" in resumed.output and str(holder.pid) in resumed.output
        executed = invoke("execute", str(version.path))
        assert executed.exit_code == 2 and "is running" in executed.output
    finally:
        holder.kill()
        holder.wait()
    assert version.status["state"] == "completed"
    assert json.loads((version.path / "config.json").read_text())["train"]["epochs"] == 1


def test_execute_refuses_an_edited_config(project, invoke):
    assert invoke("train", "tiny", "--opts", "train.epochs=1").exit_code == 0
    version = _store(project).get("tiny", 1)
    path = version.path / "config.json"
    edited = json.loads(path.read_text())
    edited["train"]["epochs"] = 9
    path.write_text(json.dumps(edited))
    for args in (("execute", str(version.path)), ("rerun", "tiny:1"), ("infer", "tiny", "again")):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "train.epochs" in result.output and "Traceback" not in result.output


def test_infer_opts_may_change_only_test_settings(project, invoke):
    assert invoke("train", "tiny", "--opts", "train.epochs=1").exit_code == 0
    refused = invoke("infer", "tiny", "t", "--opts", "executor.optimizer.lr=1")
    assert refused.exit_code == 2 and "executor.optimizer.lr" in refused.output
    allowed = invoke("infer", "tiny", "t", "--opts", 'eval.metrics=["accuracy"]')
    assert allowed.exit_code == 0, allowed.output


def test_a_job_that_ran_is_never_executed_again(project, invoke):
    assert invoke("train", "tiny", "--opts", "train.epochs=1").exit_code == 0
    version = _store(project).get("tiny", 1)
    before = (version.checkpoints_dir / "last.ckpt").stat().st_mtime_ns
    again = invoke("execute", str(version.path))
    assert again.exit_code == 2 and "already run" in again.output and "--resume" in again.output
    assert (version.checkpoints_dir / "last.ckpt").stat().st_mtime_ns == before
    assert version.status["state"] == "completed"


def test_infer_into_a_read_only_folder_is_exit_2_without_a_traceback(project, invoke):
    assert invoke("train", "tiny", "--opts", "train.epochs=1").exit_code == 0
    version = _store(project).get("tiny", 1)
    target = version.test_dir("ro")
    target.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(target)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here ({mounted.stderr.strip()}); needs root on Linux")
    try:
        result = invoke("infer", "tiny", "ro")
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)
    assert result.exit_code == 2, result.output
    assert "Error: cannot write" in result.output and "Traceback" not in result.output
    assert version.status["state"] == "completed"


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_resume_from_a_damaged_checkpoint_is_refused_and_keeps_the_status(project, invoke, damage):
    assert invoke("train", "tiny", "--opts", "train.epochs=1").exit_code == 0
    version = _store(project).get("tiny", 1)
    last = version.checkpoints_dir / "last.ckpt"
    data = last.read_bytes()
    last.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"not a checkpoint at all")
    result = invoke("train", "tiny", "--resume", "--opts", "train.epochs=2")
    assert result.exit_code == 2, result.output
    assert "last.ckpt" in result.output and "Traceback" not in result.output
    assert version.status["state"] == "completed"
    assert json.loads((version.path / "config.json").read_text())["train"]["epochs"] == 1
