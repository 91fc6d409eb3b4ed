"""The transformers executors, built through ``build_executor`` from tiny configs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from datasets import Dataset

from runway.errors import ConfigError
from runway.experiment.executor import ExecutorContext
from runway.project import Project
from runway_hf.executors.collate import IGNORE_INDEX, PaddingCollator

TINY_BERT = {
    "model_type": "bert",
    "vocab_size": 50,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 32,
}
TINY_T5 = {
    "model_type": "t5",
    "vocab_size": 50,
    "d_model": 32,
    "d_kv": 8,
    "d_ff": 64,
    "num_layers": 1,
    "num_heads": 2,
    "pad_token_id": 0,
    "eos_token_id": 1,
    "decoder_start_token_id": 0,
}


def rows() -> Dataset:
    return Dataset.from_dict(
        {
            "text": ["a b", "c d e"],
            "input_ids": [[2, 5, 3], [2, 6, 7, 8, 3]],
            "attention_mask": [[1, 1, 1], [1, 1, 1, 1, 1]],
            "labels": [0, 1],
        }
    )


def build(plugins, name: str, model: dict, tmp_path: Path, data: dict | None = None):
    config = {"executor": {"name": name, "model": model}, "train": {"batch_size": 2}}
    context = ExecutorContext(
        experiment="e", version=1, version_dir=tmp_path, project=Project(root=tmp_path), data=data or {}, plugins=plugins
    )
    return plugins.hook.build_executor(name=name, config=config, context=context)


def test_collator_pads_ids_masks_and_labels() -> None:
    batch = PaddingCollator(pad_token_id=9)(
        [{"input_ids": [1, 2, 3], "attention_mask": [1, 1, 1], "labels": [4], "text": "x", "y": 1},
         {"input_ids": [1], "attention_mask": [1], "labels": [5, 6], "text": "y", "y": 0}]
    )
    assert batch["input_ids"].tolist() == [[1, 2, 3], [1, 9, 9]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[4, IGNORE_INDEX], [5, 6]]
    assert batch["text"] == ["x", "y"] and batch["y"].tolist() == [1, 0]


def test_sequence_classification_from_a_config(runway_plugins, tmp_path: Path) -> None:
    executor = build(runway_plugins, "HFSequenceClassification", {"model_config": TINY_BERT, "num_labels": 3}, tmp_path,
                     data={"train": rows()})
    assert executor.model.config.num_labels == 3 and executor.model.config.hidden_size == 32
    batch = next(iter(executor.train_dataloader()))
    assert batch["input_ids"].shape == (2, 5)
    out = executor.step(batch)
    assert out["loss"].requires_grad and out["predictions"].shape == (2,)
    out["loss"].backward()
    assert sorted(d["text"] for d in executor.describe_inputs(batch)) == ["a b", "c d e"]


def test_a_saved_model_loads_from_model_path(runway_plugins, tmp_path: Path) -> None:
    first = build(runway_plugins, "HFSequenceClassification", {"model_config": TINY_BERT}, tmp_path)
    first.model.save_pretrained(str(tmp_path / "models" / "tiny"))
    again = build(runway_plugins, "HFSequenceClassification", {"model_path": "models/tiny"}, tmp_path)
    weight = "bert.embeddings.word_embeddings.weight"
    assert torch.equal(first.model.state_dict()[weight], again.model.state_dict()[weight])


def test_seq2seq_trains_and_generates(runway_plugins, tmp_path: Path) -> None:
    data = Dataset.from_dict({"input_ids": [[5, 6, 1], [7, 1]], "labels": [[8, 1], [9, 9, 1]]})
    executor = build(runway_plugins, "HFSeq2Seq", {"model_config": TINY_T5, "generate_kwargs": {"max_new_tokens": 3}},
                     tmp_path, data={"train": data})
    batch = next(iter(executor.train_dataloader()))
    out = executor.step(batch)
    assert out["loss"].item() > 0 and 0.0 <= out["metrics"]["token_accuracy"].item() <= 1.0
    assert "predictions" not in out  # generation only when predicting
    assert sorted(executor._texts(batch["labels"])) == [[8, 1], [9, 9, 1]]  # -100 padding dropped


def test_seq2seq_inference_records_generated_ids(runway_plugins, tmp_path: Path) -> None:
    import lightning.pytorch as pl

    data = Dataset.from_dict({"input_ids": [[5, 6, 1], [7, 1]], "labels": [[8, 1], [9, 9, 1]]})
    executor = build(runway_plugins, "HFSeq2Seq", {"model_config": TINY_T5, "generate_kwargs": {"max_new_tokens": 3}},
                     tmp_path, data={"test": data})
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    records = [r for batch in trainer.predict(executor) for r in batch]
    assert [r["target"] for r in records] == [[8, 1], [9, 9, 1]]
    assert all(isinstance(r["prediction"], list) and len(r["prediction"]) <= 3 for r in records)


def test_model_errors_name_the_key(runway_plugins, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="exactly one of model_path"):
        build(runway_plugins, "HFSequenceClassification", {}, tmp_path)
    with pytest.raises(ConfigError, match="model_path: folder 'models/none' does not exist"):
        build(runway_plugins, "HFSequenceClassification", {"model_path": "models/none"}, tmp_path)
    with pytest.raises(ConfigError, match="model_config.model_type"):
        build(runway_plugins, "HFSequenceClassification", {"model_config": {"model_type": "no-such-model"}}, tmp_path)


def test_other_names_are_not_ours(runway_plugins, tmp_path: Path) -> None:
    from runway_hf import plugin

    assert plugin.build_executor(name="SomethingElse", config={}, context=None) is None
