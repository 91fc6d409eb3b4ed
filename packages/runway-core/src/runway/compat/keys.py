"""runway_for_ml's config keys and the Runway keys that replace them.

Shared by validation (a seed key left in a config is reported with its
replacement) and by ``runway migrate`` (which rewrites them). Keys that
mean the same in both (``train.batch_size``, ``train.trainer_paras``,
``test.batch_size``, ``meta.seed``, the pipeline's nodes) are not listed:
they are supported as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MIGRATE_HINT = "`runway migrate FILE` rewrites it"

_NO_EQUIVALENT = "no Runway equivalent; delete it"

#: dotted seed key -> where its meaning lives in Runway
SEED_KEYS: dict[str, str] = {
    "experiment_name": "the experiment's name is NAME in `runway train NAME` (configs/experiments/NAME.jsonnet); delete the key",
    "test_suffix": "test.suffix (used by `runway run`), or SUFFIX in `runway infer NAME SUFFIX`",
    "exp_version": "--version N of `runway infer`/`runway eval`",
    "meta_config": "meta",
    "model_config": "executor.init_args.model_config",
    "tokenizer_config": (
        "setup_kwargs.tokenizer_config of the tokenizing node (HFDatasetTokenizeTransform reads the seed's form); "
        "an executor reads it as global_config.tokenizer_config (runway.compat's BaseExecutor, kept under _seed) "
        "or, with executor.class_path, as executor.init_args.tokenizer_config"
    ),
    "executor.ExecutorClass": (
        "executor.class_path ('package.module.Class', any LightningModule) "
        "or executor.name (a class registered with @runway.register_executor)"
    ),
    "executor.init_kwargs": "executor.init_args",
    "executor.model_config": "executor.init_args.model_config",
    "train.optimizer_config": (
        "executor.optimizer ({name: 'AdamW', lr: ...}) for a runway.Executor; "
        "a class_path module configures its own (configure_optimizers)"
    ),
    "train.model_checkpoint_callback_paras": "train.monitor and train.monitor_mode (Runway keeps best.ckpt and last.ckpt)",
    "train.trainer_fit_paras": "--resume of `runway train` (Runway passes the fit arguments)",
    "test.checkpoint_name": "--checkpoint best|last|FILE of `runway infer`",
    "test.trainer_paras": "train.trainer_paras (inference uses its accelerator)",
    "meta.logger_enable": "loggers (a list; csv is always on), e.g. loggers: ['wandb']",
    "meta.default_cache_dir": "cache_dir in the project's runway.toml",
    "meta.cache": "cache_dir in the project's runway.toml",
    "meta.EXPERIMENT_FOLDER": "experiments_dir in the project's runway.toml",
    "meta.WANDB": "plugins.wandb (project, entity, tags, mode)",
    "meta.DATA_FOLDER": _NO_EQUIVALENT + " (paths in setup_kwargs are relative to the project root)",
    "meta.TENSORBOARD_FOLDER": _NO_EQUIVALENT + " (metrics go to the enabled loggers)",
    "meta.platform_type": _NO_EQUIVALENT,
    "meta.ignore_pretrained_weights": _NO_EQUIVALENT,
    "meta.cuda": "train.trainer_paras.accelerator and devices",
    "meta.gpu_device": "train.trainer_paras.accelerator and devices",
    "data_pipeline.do_inspect": "inspect: true on each node (data_pipeline.transforms.NODE.inspect)",
    "data_pipeline.inspector_config": _NO_EQUIVALENT + " (inspect: true on a node prints summaries)",
    "data_pipeline.out_ops": "nodes named output:... (or `runway prepare --node NODE`)",
    "data_pipeline.DataPipelineLib": _NO_EQUIVALENT + " (the pipeline is Runway's)",
    "data_pipeline.DataPipelineClass": _NO_EQUIVALENT + " (the pipeline is Runway's)",
    "data_pipeline.in_features": (
        "data_pipeline.transforms (nodes with transform_name, input_node, setup_kwargs); "
        "the seed's early feature-loader pipeline is not translated automatically"
    ),
    "data_pipeline.dataloader_args": "train.batch_size and test.batch_size (or a datamodule)",
    "eval.pipeline_config": "eval.metrics (names registered with @runway.register_metric)",
    "eval.valid_eval_pipeline_config": "eval.metrics (names registered with @runway.register_metric)",
    "eval.eval_op_name": "eval.metrics (names registered with @runway.register_metric)",
    "eval.setup_kwargs": "eval.metrics (names registered with @runway.register_metric)",
}


def seed_key_hint(dotted: str) -> str | None:
    """The message for a seed key found in a config, or ``None`` for any other key."""
    replacement = SEED_KEYS.get(dotted)
    if replacement is None:
        return None
    return f"{dotted}: a runway_for_ml key; in Runway: {replacement}. {MIGRATE_HINT}"


def seed_keys_in(config: Mapping[str, Any]) -> list[str]:
    """The seed keys that ``config`` holds, in the order of :data:`SEED_KEYS`."""
    found = []
    for dotted in SEED_KEYS:
        node: Any = config
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                break
            node = node[part]
        else:
            found.append(dotted)
    return found
