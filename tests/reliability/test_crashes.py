"""``kill -9`` at seeded random points of ``prepare``, ``train`` and ``infer``.

Each command is first run to the end once to measure its duration; kill
delays are then drawn from a seeded RNG over that duration. After every
kill, whatever was on disk must be consistent (complete cache entries only,
JSON records that parse, checkpoints that load), the killed version reads
``interrupted``, and the next run succeeds: ``train --resume`` where the
killed run left a ``last.ckpt``, a plain rerun otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from reliability_helpers import (
    LightProject,
    assert_cache_consistent,
    assert_records_readable,
    cache_entries,
    kill_after,
    kill_delays,
    light_pipeline,
    make_digits_project,
    run_runway,
    start_runway,
)

from runway.experiment.status import read_status
from runway.pipeline.cache import COMPLETE_MARKER, node_folder_name

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="SIGKILL semantics are POSIX"),
]

SEEDS = (11, 23, 37)


def _complete(project: LightProject, node: str) -> bool:
    folder = project.cache_dir / node_folder_name(node)
    return folder.is_dir() and any((entry / COMPLETE_MARKER).is_file() for entry in folder.iterdir() if entry.is_dir())


def _expected_recomputations(project: LightProject, pipeline: dict, node: str) -> set[str]:
    """The nodes a rerun must compute: those without a complete entry that the output still needs."""
    if _complete(project, node):
        return set()
    spec = pipeline["transforms"][node]
    inputs = spec.get("input_node") or []
    inputs = [inputs] if isinstance(inputs, str) else inputs
    needed = {node}
    for upstream in inputs:
        needed |= _expected_recomputations(project, pipeline, upstream)
    return needed


def test_prepare_killed_anywhere_leaves_only_complete_entries_and_no_lost_work(tmp_path):
    project = LightProject(tmp_path / "proj")
    pipeline = light_pipeline(n=20000, sleep=0.15)
    project.write_config("light", pipeline)

    measured = run_runway(project.root, "prepare", "light")
    assert measured.code == 0, measured.err
    reference_keys = {e.parent.name + "/" + e.name for e in cache_entries(project.cache_dir)}
    assert len(reference_keys) == 6

    for seed in SEEDS:
        shutil.rmtree(project.cache_dir)
        project.log.unlink()
        (delay,) = kill_delays(seed, measured.seconds, 1)
        killed = kill_after(project.root, ("prepare", "light"), delay)
        assert_cache_consistent(project.cache_dir)
        must_compute = _expected_recomputations(project, pipeline, "output:wrapped")
        computed_before = project.calls()

        again = run_runway(project.root, "prepare", "light")
        assert again.code == 0, f"seed {seed}, killed after {delay:.2f}s:\n{again.err}"
        assert "Traceback" not in again.err
        assert assert_cache_consistent(project.cache_dir) == 6
        assert {e.parent.name + "/" + e.name for e in cache_entries(project.cache_dir)} == reference_keys
        computed_now = project.calls() - computed_before
        # what was complete is reused, what was not is computed exactly once
        assert set(computed_now) == must_compute, f"seed {seed} (exit {killed.code} after {delay:.2f}s)"
        assert all(count == 1 for count in computed_now.values())


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> tuple[Path, float]:
    """A digits project with version 1 trained in a subprocess, and that run's duration."""
    root = make_digits_project(tmp_path_factory.mktemp("digits") / "proj", epochs=3)
    trained = run_runway(root, "train", "tiny")
    assert trained.code == 0, trained.err
    return root, trained.seconds


def _versions(root: Path) -> list[Path]:
    experiments = root / "experiments"
    return sorted(experiments.glob("tiny_V*"), key=lambda p: int(p.name.rsplit("_V", 1)[1]))


def test_train_killed_anywhere_reads_interrupted_and_resumes(digits):
    root, duration = digits
    resumed = 0
    for seed in SEEDS[:2]:
        before = _versions(root)
        (delay,) = kill_delays(seed, duration, 1)
        killed = kill_after(root, ("train", "tiny"), delay)
        assert_cache_consistent(root / "local_cache")
        assert_records_readable(root / "experiments")
        after = _versions(root)
        if killed.code == 0 or after == before:
            continue  # finished before the kill, or killed before it allocated a version
        victim = after[-1]
        status = read_status(victim)
        if status["state"] == "completed":  # the kill landed while the finished process was exiting
            assert (victim / "train" / "checkpoints" / "last.ckpt").is_file(), f"seed {seed}: completed without last.ckpt"
            continue
        assert status["state"] == "interrupted", f"seed {seed}, killed after {delay:.2f}s: {status}"

        if (victim / "train" / "checkpoints" / "last.ckpt").is_file():
            number = victim.name.rsplit("_V", 1)[1]
            again = run_runway(root, "train", "tiny", "--resume", "--version", number)
            finished = victim
            resumed += 1
        else:
            again = run_runway(root, "train", "tiny")
            finished = _versions(root)[-1]
        assert again.code == 0, f"seed {seed}, killed after {delay:.2f}s:\n{again.err}"
        assert_records_readable(root / "experiments")
        assert read_status(finished)["state"] == "completed"
    # the seeds are fixed: record which branch they took, so a change in timing is visible
    print(f"resumed from last.ckpt: {resumed} of {len(SEEDS[:2])}")


def test_infer_killed_anywhere_never_leaves_a_torn_record(digits):
    root, _ = digits
    measured = run_runway(root, "infer", "tiny", "reliab", "--version", "1")
    assert measured.code == 0, measured.err
    test_dir = root / "experiments" / "tiny_V1" / "test-reliab"
    reference = json.loads((test_dir / "metrics.json").read_text())

    for seed in SEEDS[:2]:
        shutil.rmtree(test_dir)
        (delay,) = kill_delays(seed, measured.seconds, 1)
        kill_after(root, ("infer", "tiny", "reliab", "--version", "1"), delay)
        assert_records_readable(root / "experiments")
        assert read_status(root / "experiments" / "tiny_V1")["state"] == "completed"  # infer does not own it

        # a run killed after its summary is a finished run, replaced only on request
        again = run_runway(root, "infer", "tiny", "reliab", "--version", "1", "--overwrite")
        assert again.code == 0, f"seed {seed}, killed after {delay:.2f}s:\n{again.err}"
        assert json.loads((test_dir / "metrics.json").read_text()) == reference


def test_train_killed_before_it_marks_itself_running_reads_interrupted(digits):
    """The window between allocating a version (``pending``) and the job writing ``running``."""
    root, _ = digits
    proc = start_runway(root, "train", "tiny")
    line = proc.stdout.readline()  # "tiny_V<n>: <folder>", printed right after allocation
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    folder = Path(line.split(": ", 1)[1].strip())
    status = read_status(folder)
    assert status["state"] == "interrupted", status
    assert_records_readable(root / "experiments")


def test_a_checkpoint_save_that_fails_midway_keeps_the_previous_one(tmp_path):
    """The save path every Runway trainer uses (trainer_kwargs adds it): the old file stays whole."""
    import torch

    from runway.experiment.checkpoint_io import AtomicCheckpointIO

    class FailsWhileWriting:
        def __reduce__(self):
            raise OSError(28, "No space left on device")

    io = AtomicCheckpointIO()
    target = tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"state_dict": {"w": torch.ones(1000)}, "epoch": 1}, target)
    from runway.experiment.checkpoint_io import CheckpointNotSaved

    with pytest.raises(CheckpointNotSaved, match="No space left"):  # exit 2, naming the file
        io.save_checkpoint({"state_dict": {"w": torch.zeros(1000)}, "tail": FailsWhileWriting()}, target)
    assert torch.load(target, weights_only=True)["epoch"] == 1
    assert sorted(p.name for p in target.parent.iterdir()) == ["last.ckpt"]  # nothing partial left
