"""LoRA on the transformers executors: only adapters (and the head) train; checkpoints restore them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from runway.cli.main import cli
from runway.errors import ConfigError
from runway.experiment.executor import ExecutorContext
from runway.experiment.preparation import build_executor, seed_everything
from runway.project import Project
from runway_hf.examples.text_classification import EXPERIMENT_NAME, write_example
from runway_hf.executors.lora import lora_settings, trainable_parameter_names

pytest.importorskip("peft", reason="LoRA needs runway-hf[lora] (peft), installed in the `all` environment")

LORA = {"target_modules": ["query", "value"], "r": 4, "alpha": 8, "dropout": 0.0}


def _kind(name: str) -> str:
    if "lora_" in name:
        return "adapter"
    if "modules_to_save" in name:
        return "head"
    return "base"


@pytest.mark.timeout(300)
def test_lora_trains_only_adapters_and_head_and_infer_restores_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runway_plugins
) -> None:
    root = tmp_path / "project"
    write_example(root, rows=120, epochs=2)  # the example's locally trained WordPiece tokenizer, a 2-layer BERT
    monkeypatch.chdir(root)
    result = CliRunner().invoke(cli, ["run", EXPERIMENT_NAME, "--opts", f"+train.lora={json.dumps(LORA)}"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    version = root / "experiments" / f"{EXPERIMENT_NAME}_V1"
    # infer rebuilt the LoRA-wrapped model from config.json and loaded best.ckpt strictly
    assert json.loads((version / "test-test" / "metrics.json").read_text())["accuracy"] >= 0
    from runway.experiment.records import read_records

    assert len(read_records(version / "test-test")) == 24

    trained = torch.load(version / "train" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    config = json.loads((version / "config.json").read_text())
    seed_everything(config)  # as training did, before building the model: the same initial weights
    context = ExecutorContext(experiment=EXPERIMENT_NAME, version=1, version_dir=version,
                              project=Project(root=root), plugins=runway_plugins)
    initial = build_executor(config, context, runway_plugins)
    assert sorted(trained) == sorted(initial.state_dict())
    changed = {name for name, value in initial.state_dict().items() if not torch.equal(value, trained[name])}
    kinds = {_kind(name) for name in changed}
    assert kinds == {"adapter", "head"}, sorted(changed)[:10]
    assert any(".lora_B." in name for name in changed)  # B starts at zero: training moved it
    assert {_kind(n) for n in trainable_parameter_names(initial.model)} == {"adapter", "head"}
    base = [n for n in trained if _kind(n) == "base"]
    assert len(base) > 20 and all(torch.equal(initial.state_dict()[n], trained[n]) for n in base)


def test_lora_settings_are_checked() -> None:
    assert lora_settings({}) is None and lora_settings({"lora": False}) is None
    assert lora_settings({"lora": {"target_modules": "query"}}) == {
        "r": 8, "alpha": 16, "dropout": 0.0, "bias": "none", "target_modules": ["query"]
    }
    with pytest.raises(ConfigError, match=r"train.lora: unknown key\(s\) rank; known: target_modules, r, alpha"):
        lora_settings({"lora": {"rank": 4}})
    with pytest.raises(ConfigError, match=r"train.lora.r: expected a positive integer"):
        lora_settings({"lora": {"r": 0}})


def test_missing_peft_names_the_extra(monkeypatch: pytest.MonkeyPatch, runway_plugins, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "peft", None)
    config = {
        "executor": {"name": "HFSequenceClassification",
                     "model": {"model_config": {"model_type": "bert", "vocab_size": 30, "hidden_size": 16,
                                                "num_hidden_layers": 1, "num_attention_heads": 2,
                                                "intermediate_size": 16}}},
        "train": {"lora": LORA},
    }
    context = ExecutorContext(experiment="e", version=1, version_dir=tmp_path, project=Project(root=tmp_path),
                              plugins=runway_plugins)
    with pytest.raises(ConfigError, match=r"pip install 'runway-hf\[lora\]'"):
        build_executor(config, context, runway_plugins)
