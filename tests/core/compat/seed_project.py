"""A small project in runway_for_ml's shape: meta/data libsonnet files imported by
an experiment config, transforms written with the seed's decorator and base class,
and an executor named by its registry name."""

from __future__ import annotations

from pathlib import Path

META = """
// the seed's meta config: folders, loggers, wandb, cache
local seed = 2022;
local default_meta = {
  EXPERIMENT_FOLDER: './experiments/',
  TENSORBOARD_FOLDER: './tensorboards/',
  WANDB: { CACHE_DIR: 'cache/wandb_cache/', entity: 'someone', project: 'seed_demo', tags: ['demo'] },
  logger_enable: ['csv', 'tensorboard', 'wandb'],
  platform_type: 'pytorch',
  seed: seed,
  default_cache_dir: 'cache/',
  cuda: 0,
  gpu_device: 0,
};
{ default_meta: default_meta }
"""

DATA = """
local numbers_pipeline = {
  DataPipelineLib: 'data_modules',
  DataPipelineClass: 'DataPipeline',
  name: 'NumbersPipeline',
  regenerate: false,
  do_inspect: false,
  inspector_config: { log_dir: 'tests/' },
  out_ops: ['output:Parity'],
  transforms: {
    'input:LoadNumbers': {
      transform_name: 'LoadNumbers',
      setup_kwargs: { count: 12 },
      cache: true,
      regenerate: false,
      inspect: true,
    },
    'process:Square': {
      input_node: 'input:LoadNumbers',
      transform_name: 'SquareNumbers',
      cache: true,
    },
    'output:Parity': {
      input_node: ['process:Square', 'input:LoadNumbers'],
      transform_name: 'LabelParity',
      setup_kwargs: { field: 'square' },
      cache: false,
    },
  },
};
{ numbers_pipeline: numbers_pipeline }
"""

EXPERIMENT = """
local data = import 'data_config.libsonnet';
local meta = import 'meta_config.libsonnet';

{
  experiment_name: 'numbers',
  test_suffix: 'seedtest',
  meta: meta.default_meta,
  data_pipeline: data.numbers_pipeline,
  executor: {
    ExecutorClass: 'NumberClassifier',
    init_kwargs: { use_data_node: 'output:Parity', hidden: 8 },
    model_config: { width: 4 },
  },
  train: {
    batch_size: 16,
    trainer_paras: { max_epochs: 2, log_every_n_steps: 5 },
    model_checkpoint_callback_paras: { monitor: 'val_loss', mode: 'min', save_top_k: 1, save_last: true },
    optimizer_config: { optimizer_name: 'AdamW', optimizer_params: { lr: 1e-3 } },
  },
  test: { batch_size: 32, checkpoint_name: 'last.ckpt' },
  eval: { eval_op_name: 'ComputeAccuracy', setup_kwargs: {} },
}
"""

TRANSFORMS = '''
"""Transforms written against the seed's API; only the import line changed."""

from runway.compat import BaseTransform, register_transform_functor


@register_transform_functor
class LoadNumbers(BaseTransform):
    def setup(self, count=10):
        self.count = count

    def _call(self, data):
        return [{"n": i} for i in range(self.count)]


@register_transform_functor
class SquareNumbers(BaseTransform):
    def setup(self):
        pass

    def _call(self, rows):
        return [{**row, "square": row["n"] ** 2} for row in rows]


@register_transform_functor
class LabelParity(BaseTransform):
    def setup(self, field="n"):
        self.field = field

    def _call(self, data):
        squares, originals = data
        assert len(squares) == len(originals)
        return [{**row, "label": row[self.field] % 2, "by": self.name} for row in squares]
'''

EXECUTOR = '''
"""The seed's executor, ported to a plain LightningModule."""

import lightning.pytorch as pl
import torch


class NumberClassifier(pl.LightningModule):
    def __init__(self, model_config, use_data_node=None, hidden=8):
        super().__init__()
        self.net = torch.nn.Linear(model_config["width"], hidden)
'''


def write_seed_project(root: Path) -> Path:
    """Write the project under ``root``; returns the experiment config's path."""
    (root / "configs").mkdir(parents=True)
    (root / "runway.toml").write_text("", encoding="utf-8")
    (root / "configs" / "meta_config.libsonnet").write_text(META, encoding="utf-8")
    (root / "configs" / "data_config.libsonnet").write_text(DATA, encoding="utf-8")
    experiment = root / "configs" / "exp_config.jsonnet"
    experiment.write_text(EXPERIMENT, encoding="utf-8")
    for folder, name, text in (("data_processing", "seed_transforms.py", TRANSFORMS), ("executors", "seed_executor.py", EXECUTOR)):
        (root / folder).mkdir()
        (root / folder / name).write_text(text, encoding="utf-8")
    return experiment
