"""``runway.Executor`` logs its epoch-only values once an epoch (``EpochMeans``): the
same metrics, steps and values as ``self.log`` at every batch, with real Lightning
fits (and a two-rank gloo DDP fit) of both ways side by side."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from epoch_means_fit import SAMPLES, Gathered, PerBatch, fit

TRAIN_BATCHES = -(-SAMPLES // 7)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="whole-epochs"),
        pytest.param({"max_steps": TRAIN_BATCHES + 3}, id="max_steps-ends-an-epoch-early"),
        pytest.param({"limit_train_batches": 3, "limit_val_batches": 2}, id="limited-batches"),
        pytest.param({"validation_loaders": 2, "test": True}, id="two-validation-loaders-and-a-test"),
        pytest.param({"loader": "unsized"}, id="loaders-of-unknown-length"),
        pytest.param({"val_check_interval": 3, "check_val_every_n_epoch": None, "max_epochs": 1}, id="validation-mid-epoch"),
    ],
)
def test_gathered_epoch_means_log_what_logging_every_batch_logs(options):
    ours, theirs = fit(Gathered, **options), fit(PerBatch, **options)
    assert ours["metrics"] == theirs["metrics"]
    assert ours["logged"] == theirs["logged"]
    assert {"train/accuracy", "train/two", "train/loss_epoch", "train/loss_step", "val/loss"} <= {
        k.split("/dataloader_idx")[0] for k in ours["metrics"]
    }


def test_a_training_step_calls_self_log_once():
    ours, theirs = fit(Gathered), fit(PerBatch)
    validation_batches = -(-SAMPLES // 5)
    # per epoch: the loss at every training batch, then train/accuracy, two, rank once;
    # val/loss, accuracy, two, rank once (and once for Lightning's two-batch sanity check)
    assert ours["log_calls"] == 2 * (TRAIN_BATCHES + 3 + 4) + 4
    assert theirs["log_calls"] == 2 * (4 * TRAIN_BATCHES + 4 * validation_batches) + 4 * 2


def test_values_that_are_not_scalars_are_logged_as_they_come():
    from torchmetrics.classification import MulticlassAccuracy

    class WithMetricObject(Gathered):
        def setup(self, stage):
            self.accuracies = torch.nn.ModuleList(MulticlassAccuracy(num_classes=3, average="micro") for _ in range(2))

        def step(self, batch):
            out = super().step(batch)
            accuracy = self.accuracies[int(self.training)]  # one for training, one for validation
            accuracy(out["predictions"], out["targets"])
            return {**out, "metrics": {**out["metrics"], "metric_object": accuracy}}

    result = fit(WithMetricObject)
    for prefix in ("train", "val"):
        assert result["metrics"][f"{prefix}/metric_object"] == result["metrics"][f"{prefix}/accuracy"]


def test_a_direct_call_without_a_trainer_logs_at_once():
    module = Gathered({"executor": {}, "train": {}}, None)
    logged = []
    module.log = lambda name, value, **kwargs: logged.append((name, float(value), kwargs["batch_size"]))
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    module._log_step("val", module.step((x, y)), (x, y), 0)
    assert [name for name, _, _ in logged] == ["val/loss", "val/accuracy", "val/two", "val/rank"]
    assert {size for _, _, size in logged} == {6}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_under_ddp_the_means_are_weighted_over_both_ranks(tmp_path):
    out, port = tmp_path / "results.json", str(_free_port())
    script = Path(__file__).with_name("epoch_means_fit.py")
    ranks = [
        subprocess.Popen([sys.executable, str(script), str(rank), "2", port, str(out)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for rank in range(2)
    ]
    outputs = [rank.communicate(timeout=300)[0] for rank in ranks]
    assert [rank.returncode for rank in ranks] == [0, 0], "\n".join(outputs)
    results = json.loads(out.read_text())
    ours, theirs = results["Gathered"], results["PerBatch"]
    assert ours["metrics"] == theirs["metrics"] and ours["logged"] == theirs["logged"]
    # each rank logged its own rank number: the synced mean is over both
    assert ours["metrics"]["val/rank"] == ours["metrics"]["train/rank"] == 0.5
