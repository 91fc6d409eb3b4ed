"""Launching costs, each against its baseline measured in the same run (interleaved).

1. The preemption callback: every training step asks whether a stop was
   requested. A tiny model (about 1 ms a step) trained for 1000 steps with
   core's ``PreemptionCheckpoint`` and without it, interleaved; the row is
   the time added per step against a 250 us budget. Most of it is
   Lightning's dispatch of every hook to every callback, which any callback
   pays; the check itself reads one variable.
2. One ``--launcher slurm`` submission (``runway_slurm.launcher.submit``:
   pickling the command, submitit's ``sbatch``, the ``jobs.jsonl`` record)
   against a bare ``sbatch --wrap true``. Jobs are submitted held and
   cancelled at once; without a cluster the row says skipped.

Run directly: ``python benchmarks/bench_launch.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run directly or by run.py
from _slurm import cancel, cluster_unavailable, held_sbatch  # noqa: E402

STEPS = 1000
ADDED_PER_STEP_BUDGET_S = 250e-6
MAX_SUBMIT_RATIO = 10.0
CALLBACK_ROW = "preemption callback: time added per training step vs a 250 us budget"
SUBMIT_ROW = "one `--launcher slurm` submission vs a bare sbatch"


def _fit_seconds(with_callback: bool, folder: Path) -> float:
    import lightning.pytorch as pl
    import torch

    from runway.launch.lightning_preemption import PreemptionCheckpoint

    class Tiny(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(8, 1)

        def training_step(self, batch, batch_idx):
            return self.layer(batch[0]).pow(2).mean()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    data = torch.utils.data.TensorDataset(torch.randn(STEPS, 8))
    loader = torch.utils.data.DataLoader(data, batch_size=1)
    callbacks = [PreemptionCheckpoint(folder / "last.ckpt")] if with_callback else []
    trainer = pl.Trainer(
        max_epochs=1, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=callbacks, default_root_dir=str(folder),
    )
    start = time.perf_counter()
    trainer.fit(Tiny(), loader)
    return time.perf_counter() - start


def _callback_row(repeats: int) -> dict:
    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        _fit_seconds(False, Path(tmp))  # warm imports and caches
        for _ in range(repeats):
            theirs.append(_fit_seconds(False, Path(tmp)))
            ours.append(_fit_seconds(True, Path(tmp)))
    with_callback, without = statistics.median(ours), statistics.median(theirs)
    added = max(0.0, with_callback - without) / STEPS
    return {"name": CALLBACK_ROW, "value": added, "baseline": ADDED_PER_STEP_BUDGET_S,
            "ratio": added / ADDED_PER_STEP_BUDGET_S, "limit": 1.0,
            "note": f"median of {repeats}; a step takes {without / STEPS * 1e3:.2f} ms without it"}


def _submit_seconds(root: Path, repeat: int) -> tuple[float, str]:
    import io

    from runway.launch.job import Job
    from runway_slurm.launcher import submit

    version_dir = root / f"bench_V{repeat + 1}"
    version_dir.mkdir(parents=True)
    job = Job(
        argv=["train", "bench", "--version", str(repeat + 1)], experiment="bench", version=repeat + 1,
        version_dir=version_dir, project_root=root, resources={"time": 5, "additional_parameters": {"hold": True}},
    )
    start = time.perf_counter()
    handle = submit(job, out=io.StringIO())
    return time.perf_counter() - start, handle.job_id or ""


def _submit_row(repeats: int) -> dict:
    reason = cluster_unavailable()
    if reason:
        return {"name": SUBMIT_ROW, "skipped": reason}
    import runway_slurm.launcher  # noqa: F401  (import cost is not submission cost)

    ours: list[float] = []
    theirs: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for repeat in range(repeats):
            seconds, job_id = held_sbatch(root)
            cancel(job_id)
            theirs.append(seconds)
            seconds, job_id = _submit_seconds(root, repeat)
            cancel(job_id)
            ours.append(seconds)
    value, baseline = statistics.median(ours), statistics.median(theirs)
    return {"name": SUBMIT_ROW, "value": value, "baseline": baseline, "ratio": value / baseline,
            "limit": MAX_SUBMIT_RATIO, "note": f"median of {repeats}, jobs held and cancelled"}


def run(repeats: int = 5) -> list[dict]:
    return [_callback_row(repeats), _submit_row(repeats)]


if __name__ == "__main__":
    for row in run():
        print(row)
