"""A project written exactly in runway_for_ml's style, migrated, then run with no edit between."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

META = """
local seed = 2022;
local default_meta = {
  DATA_FOLDER: '',
  EXPERIMENT_FOLDER: './experiments/',
  TENSORBOARD_FOLDER: './tensorboards/',
  WANDB: { CACHE_DIR: 'cache/wandb_cache/', entity: 'someone', project: 'sentiment', tags: [] },
  logger_enable: ['tensorboard', 'metrics_history'],
  platform_type: 'pytorch',
  seed: seed,
  default_cache_dir: 'cache/',
  use_versioning: false,
};
{ default_meta: default_meta }
"""

DATA = """
local TokenizerConfig = {
  version_name: '%(tokenizer)s',
  class_name: 'PreTrainedTokenizerFast',
  tokenize_kwargs: { padding: 'max_length', truncation: true, max_length: 12 },
};
local sentiment_pipeline = {
  DataPipelineLib: 'data_modules',
  DataPipelineClass: 'DataPipeline',
  name: 'SentimentPipeline',
  regenerate: false,
  do_inspect: true,
  inspector_config: { log_dir: 'tests/' },
  out_ops: ['output:MakeDataloaders'],
  transforms: {
    'input:LoadReviews': {
      transform_name: 'LoadHFDataset',
      setup_kwargs: { dataset_name: 'data/reviews' },
      cache: true,
      regenerate: false,
    },
    'process:Tokenize': {
      input_node: 'input:LoadReviews',
      transform_name: 'HFDatasetTokenizeTransform',
      setup_kwargs: {
        tokenizer_config: TokenizerConfig,
        tokenize_fields_list: ['text'],
        rename_col_dict: { text_input_ids: 'input_ids', text_attention_mask: 'attention_mask' },
      },
      cache: true,
      regenerate: false,
      inspect: true,
    },
    'process:SplitValidation': {
      input_node: 'process:Tokenize',
      transform_name: 'SplitHFDataset',
      setup_kwargs: { src_split: 'train', tgt_split: 'valid', split_size: 8, split_kwargs: { seed: 1 } },
      cache: true,
      regenerate: false,
    },
    'process:CheckAgainstRaw': {
      input_node: ['process:SplitValidation', 'input:LoadReviews'],
      transform_name: 'CheckAgainstRaw',
      cache: false,
    },
    'output:MakeDataloaders': {
      input_node: 'process:CheckAgainstRaw',
      transform_name: 'MakeDataloaders',
      setup_kwargs: {},
      cache: false,
      regenerate: true,
    },
  },
};
{ sentiment_pipeline: sentiment_pipeline, tokenizer_config: TokenizerConfig }
"""

EVAL = """
{
  eval_pipeline: {
    name: 'EvalPipeline',
    out_ops: ['output:MergeAllEvalRecorderAndSave'],
    transforms: {
      'input:GetEvaluationRecorder': { transform_name: 'GetEvaluationRecorder', setup_kwargs: {} },
      'process:Evaluate': {
        input_node: 'input:GetEvaluationRecorder',
        transform_name: 'EvaluateBinaryClassification',
        setup_kwargs: { pred_field: 'predicted_class_id', ref_field: 'ground_truth_class_id' },
      },
    },
  },
}
"""

EXPERIMENT = """
local data = import 'data_config.libsonnet';
local eval = import 'eval_config.libsonnet';
local meta = import 'meta_config.libsonnet';

{
  experiment_name: 'sentiment',
  test_suffix: 'seedtest',
  meta: meta.default_meta,
  data_pipeline: data.sentiment_pipeline,
  tokenizer_config: data.tokenizer_config,
  model_config: { vocab_size: 400, hidden: 16 },
  executor: {
    ExecutorClass: 'SentimentExecutor',
    init_kwargs: { use_data_node: 'output:MakeDataloaders', dropout: 0.0 },
  },
  train: {
    batch_size: 8,
    trainer_paras: { max_epochs: 3, log_every_n_steps: 1, check_val_every_n_epoch: 1, accelerator: 'cpu' },
    model_checkpoint_callback_paras: {
      monitor: 'val_loss', mode: 'min', save_top_k: -1, filename: 'model_step_{step}', save_last: true,
    },
    optimizer_config: {
      optimizer_name: 'AdamW', optimizer_params: { lr: 0.05 }, scheduler: 'linear', scheduler_params: { num_warmup_steps: 0 },
    },
    use_lora: false,
  },
  test: { batch_size: 8, checkpoint_name: 'last.ckpt' },
  eval: { pipeline_config: eval.eval_pipeline },
}
"""

DATA_OPS = '''
from runway_for_ml.data_module.data_transforms import BaseTransform, HFDatasetTransform, register_transform_functor
from torch.utils.data import DataLoader


@register_transform_functor
class SplitHFDataset(HFDatasetTransform):
    def setup(self, src_split, tgt_split, split_size, split_kwargs={}, **kwargs):
        self.src_split = src_split
        self.tgt_split = tgt_split
        self.split_size = split_size
        self.split_kwargs = split_kwargs
        super().setup(**kwargs)

    def _call(self, data, *args, **kwargs):
        parts = data[self.src_split].train_test_split(self.split_size, **self.split_kwargs)
        data[self.src_split] = parts["train"]
        data[self.tgt_split] = parts["test"]
        return data


@register_transform_functor
class CheckAgainstRaw(HFDatasetTransform):
    def setup(self, *args, **kwargs):
        super().setup(*args, **kwargs)

    def _call(self, data):
        split, raw = data
        assert len(split["train"]) + len(split["valid"]) == len(raw["train"])
        return split


@register_transform_functor
class MakeDataloaders(BaseTransform):
    def setup(self, columns=("input_ids", "attention_mask", "label")):
        self.columns = list(columns)

    def _call(self, data):
        for split in ("train", "valid", "test"):
            data[split].set_format("torch", columns=self.columns)
        batch_size = self.global_config.train.get("batch_size", 1)
        return {
            "train_dataloaders": [DataLoader(data["train"], batch_size=batch_size, shuffle=True)],
            "val_dataloaders": [DataLoader(data["valid"], batch_size=batch_size)],
            "test_dataloaders": [DataLoader(data["test"], batch_size=self.global_config.test.get("batch_size", 1))],
        }
'''

EXECUTOR = '''
from typing import Any, Optional
from pytorch_lightning.utilities.types import STEP_OUTPUT
import torch
import torch.nn.functional as F
from runway_for_ml.executors.base_executor import BaseExecutor
from runway_for_ml.utils.global_variables import register_executor
from runway_for_ml.configs.configuration import (
    DataPipelineConfig,
    ModelConfig,
)


class BagOfWords(torch.nn.Module):
    def __init__(self, vocab_size, hidden, dropout):
        super().__init__()
        self.embed = torch.nn.EmbeddingBag(vocab_size, hidden, mode="mean")
        self.drop = torch.nn.Dropout(dropout)
        self.out = torch.nn.Linear(hidden, 2)

    def forward(self, input_ids, attention_mask):
        return self.out(self.drop(self.embed(input_ids, per_sample_weights=None)))


@register_executor
class SentimentExecutor(BaseExecutor):
    def __init__(self,
        data_pipeline_config: DataPipelineConfig,
        model_config: ModelConfig,
        mode,
        train_config={},
        test_config={},
        log_file_path=None,
        use_data_node=None,
        dropout=0.1,
        global_config=None,
        *args, **kwargs
        ):
        self.dropout = dropout
        super().__init__(
            data_pipeline_config,
            model_config,
            mode,
            train_config=train_config,
            test_config=test_config,
            log_file_path=log_file_path,
            use_data_node=use_data_node,
            global_config=global_config,
            *args, **kwargs
        )

    def _init_model(self, model_config):
        self.model = BagOfWords(model_config.vocab_size, model_config.hidden, self.dropout)

    def setup(self, stage):
        super().setup(stage)
        self.prepared_data = self.dp.get_data([self.use_data_node], explode=True)
        self.train_dataloaders = self.prepared_data.get("train_dataloaders", None)
        self.valid_dataloaders = self.prepared_data.get("val_dataloaders", None)
        self.test_dataloaders = self.prepared_data.get("test_dataloaders", None)

    def train_dataloader(self):
        return self.train_dataloaders[0]

    def val_dataloader(self):
        return self.valid_dataloaders[0]

    def test_dataloader(self):
        return self.test_dataloaders[0]

    def training_step(self, batch, batch_idx):
        logits = self.model(batch["input_ids"], batch["attention_mask"])
        loss = F.cross_entropy(logits, batch["label"])
        self.log("train_loss", loss, prog_bar=True, on_epoch=True, on_step=True, logger=True)
        return loss

    def validation_step(self, batch, batch_idx):
        logits = self.model(batch["input_ids"], batch["attention_mask"])
        loss = F.cross_entropy(logits, batch["label"])
        self.log("val_loss", loss)
        self.valid_eval_recorder.log_sample_dict_batch({
            "predicted_class_id": logits.argmax(-1).tolist(),
            "ground_truth_class_id": batch["label"].tolist(),
        })

    def test_step(self, batch, batch_idx):
        logits = self.model(batch["input_ids"], batch["attention_mask"])
        self.test_eval_recorder.log_sample_dict_batch({
            "predicted_class_id": logits.argmax(-1).tolist(),
            "ground_truth_class_id": batch["label"].tolist(),
        })
'''

MAIN = '''
import sys
sys.path.append('.')
from runway_for_ml.utils import config_system as rw_conf
from runway_for_ml.experiment import RunwayExperiment
'''

GOOD = ["great", "lovely", "superb", "fine", "happy"]
BAD = ["awful", "boring", "dreadful", "sad", "poor"]


def _reviews(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        label = i % 2
        words = rng.choices(GOOD if label else BAD, k=4) + ["movie"]
        rows.append({"text": " ".join(words), "label": label})
    return rows


def write_seed_style_project(root: Path, tokenizer: Path) -> None:
    files = {
        "configs/meta_config.libsonnet": META,
        "configs/data_config.libsonnet": DATA % {"tokenizer": tokenizer},
        "configs/eval_config.libsonnet": EVAL,
        "configs/sentiment/exp_config.jsonnet": EXPERIMENT.replace("import '", "import '../"),
        "src/data_ops/sentiment_data_ops.py": DATA_OPS,
        "src/executors/SentimentExecutor.py": EXECUTOR,
        "src/main.py": MAIN,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    for split, count, seed in (("train", 40, 1), ("test", 16, 2)):
        lines = "".join(json.dumps(row) + "\n" for row in _reviews(count, seed))
        (root / "data" / "reviews").mkdir(parents=True, exist_ok=True)
        (root / "data" / "reviews" / f"{split}.jsonl").write_text(lines, encoding="utf-8")


@pytest.fixture
def runway_project_packages() -> tuple[str, ...]:
    return ("src", "data_processing", "executors", "modeling", "metrics")


@pytest.fixture
def seed_style_project(tmp_path, monkeypatch, tokenizer_dir, runway_plugins, runway_clean_process) -> Path:
    root = tmp_path / "sentiment"
    write_seed_style_project(root, tokenizer_dir)
    monkeypatch.chdir(root)
    return root


def test_before_migrate_a_seed_import_names_the_command(seed_style_project, runway_cli):
    (seed_style_project / "runway.toml").write_text('code_dirs = ["src/data_ops"]\n', encoding="utf-8")
    probe = seed_style_project / "configs" / "experiments" / "probe.jsonnet"
    probe.parent.mkdir()
    probe.write_text("{data_pipeline: {transforms: {'input:X': {transform_name: 'DummyTransform'}}}}")
    result = runway_cli("prepare", "probe")
    assert result.exit_code == 2, result.output
    assert "src/data_ops/sentiment_data_ops.py imports runway_for_ml" in result.output
    assert "runway migrate" in result.output and "Traceback" not in result.output


def test_dry_run_shows_the_diff_and_writes_nothing(seed_style_project, runway_cli):
    before = {p: p.read_bytes() for p in seed_style_project.rglob("*") if p.is_file()}
    result = runway_cli("migrate", ".", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "-from runway_for_ml.data_module.data_transforms import" in result.output
    assert "+from runway.compat import BaseTransform, HFDatasetTransform, register_transform_functor" in result.output
    assert "+from lightning.pytorch.utilities.types import STEP_OUTPUT" in result.output
    assert '+code_dirs = ["src/data_ops", "src/executors"]' in result.output
    assert "--dry-run: nothing written" in result.output
    assert {p: p.read_bytes() for p in seed_style_project.rglob("*") if p.is_file()} == before


@pytest.mark.slow
def test_migrate_then_run_with_no_edit_between(seed_style_project, runway_cli):
    migrated = runway_cli("migrate", ".")
    assert migrated.exit_code == 0, migrated.output
    out = migrated.output
    assert "experiments: sentiment" in out and ".runway_migrate_backup" in out
    assert "executor.ExecutorClass -> executor.name (found in src/executors/SentimentExecutor.py" in out
    assert "executor.init_kwargs.use_data_node -> executor.data" in out
    assert "meta.logger_enable -> loggers" in out and "metrics_history' dropped" in out
    assert "meta.use_versioning: no Runway equivalent" in out
    assert "! src/main.py: the seed's command-line entry point" in out
    backups = list((seed_style_project / ".runway_migrate_backup").rglob("SentimentExecutor.py"))
    assert backups and "runway_for_ml" in backups[0].read_text()

    shown = runway_cli("config", "show", "sentiment")
    assert shown.exit_code == 0, shown.output
    config = json.loads(shown.output[: shown.output.rindex("}") + 1])
    assert config["executor"]["name"] == "SentimentExecutor"
    assert config["executor"]["data"] == {"train": "output:MakeDataloaders", "test": "output:MakeDataloaders"}
    assert config["executor"]["scheduler"] == {"name": "linear", "warmup_steps": 0}
    assert config["loggers"] == ["tensorboard"]

    ran = runway_cli("run", "sentiment")
    assert ran.exit_code == 0, ran.output
    version = seed_style_project / "experiments" / "sentiment_V1"
    checkpoints = {p.name for p in (version / "train" / "checkpoints").iterdir()}
    assert {"best.ckpt", "last.ckpt"} <= checkpoints
    assert any(name.startswith("model_step_") for name in checkpoints)  # the seed's save_top_k: -1
    metrics = (version / "train" / "logs" / "metrics.csv").read_text()
    assert "val_loss" in metrics and "train_loss" in metrics
    test_dir = version / "test-seedtest"
    from runway.experiment.records import read_records

    records = read_records(test_dir)
    assert len(records) == 16
    assert all(r["prediction"] in (0, 1) and r["target"] in (0, 1) for r in records)
    evaluation = json.loads((test_dir / "metrics.json").read_text())
    accuracy = evaluation.get("accuracy", evaluation.get("metrics", {}).get("accuracy"))
    assert accuracy is not None and 0.0 <= accuracy <= 1.0
