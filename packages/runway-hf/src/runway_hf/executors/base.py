"""What the ``transformers`` executors share: the model from a path or a config, padded batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from runway.errors import ConfigError
from runway.experiment.executor import Executor

from runway_hf.executors.collate import PaddingCollator
from runway_hf.executors.lora import lora_settings, wrap_with_lora
from runway_hf.tokenizers import require_transformers

#: batch columns that the model receives (when present); the rest is for records
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "decoder_input_ids", "decoder_attention_mask")
#: keys of ``executor.model`` that are ours; the rest go to ``from_pretrained``
MODEL_KEYS = ("model_path", "model_config", "num_labels", "pad_token_id", "tokenizer_path", "generate_kwargs")


class HFExecutor(Executor):
    """Base of the ``transformers`` executors; a subclass names its ``auto_class``.

    With ``train.lora`` the model is wrapped with LoRA adapters (see
    :mod:`runway_hf.executors.lora`).
    """

    #: the ``transformers`` auto class, by name (``AutoModelForSequenceClassification``)
    auto_class: ClassVar[str] = ""
    #: peft's task type for LoRA (``SEQ_CLS``, ``SEQ_2_SEQ_LM``)
    peft_task_type: ClassVar[str] = ""

    def build_model(self, model_config: dict[str, Any]) -> Any:
        """The ``transformers`` model, LoRA-wrapped when ``train.lora`` is set."""
        model = self.build_transformers_model(model_config)
        settings = lora_settings(self.train_config)
        if settings is None:
            return model
        return wrap_with_lora(model, settings, self.peft_task_type)

    def build_transformers_model(self, model_config: dict[str, Any]) -> Any:
        """``executor.model.model_path`` (a local folder) or ``executor.model.model_config``."""
        transformers = require_transformers()
        auto = getattr(transformers, self.auto_class)
        path, spec = model_config.get("model_path"), model_config.get("model_config")
        if (path is None) == (spec is None):
            raise ConfigError(
                "executor.model: give exactly one of model_path (a local folder of save_pretrained files) "
                "and model_config ({model_type: 'bert', hidden_size: 32, ...})"
            )
        overrides = self.config_overrides(model_config)
        if path is not None:
            folder = self.project_path(str(path))
            if not folder.exists():
                raise ConfigError(f"executor.model.model_path: folder {str(path)!r} does not exist (looked at {folder})")
            extra = {k: v for k, v in model_config.items() if k not in MODEL_KEYS}
            return auto.from_pretrained(str(folder), **overrides, **extra)
        if not isinstance(spec, dict) or not spec.get("model_type"):
            raise ConfigError("executor.model.model_config: expected an object with model_type ('bert', 't5', ...)")
        fields = {k: v for k, v in spec.items() if k != "model_type"}
        try:
            config = transformers.AutoConfig.for_model(spec["model_type"], **{**fields, **overrides})
        except ValueError as exc:
            raise ConfigError(f"executor.model.model_config.model_type: {exc}") from None
        try:
            return auto.from_config(config)
        except ValueError as exc:
            raise ConfigError(f"executor.model.model_config: {self.auto_class} cannot build it: {exc}") from None

    def config_overrides(self, model_config: dict[str, Any]) -> dict[str, Any]:
        """Model-config fields that ``executor.model`` sets beside the model (``num_labels``)."""
        return {}

    def project_path(self, written: str) -> Path:
        path = Path(written).expanduser()
        root = getattr(self.context.project, "root", None)
        return path if path.is_absolute() or root is None else Path(root) / path

    # ------------------------------------------------------------ batches

    @property
    def pad_token_id(self) -> int:
        configured = (self.executor_config.get("model") or {}).get("pad_token_id")
        if configured is not None:
            return int(configured)
        found = getattr(self.model.config, "pad_token_id", None)
        return int(found) if found is not None else 0

    def collator(self) -> PaddingCollator:
        """The collate function of every data loader (override to change padding)."""
        return PaddingCollator(self.pad_token_id)

    def _loader(self, split: str, *, shuffle: bool, batch_size: int) -> Any:
        loader = super()._loader(split, shuffle=shuffle, batch_size=batch_size)
        loader.collate_fn = self.collator()
        return loader

    def model_inputs(self, batch: dict[str, Any]) -> dict[str, Any]:
        inputs = {k: batch[k] for k in MODEL_INPUTS if k in batch}
        if "input_ids" not in inputs:
            raise ConfigError(
                f"{type(self).__name__}: the batch has no 'input_ids' column (it has {', '.join(batch)}); "
                "rename the tokenized columns with rename_col_dict"
            )
        return inputs

    def describe_inputs(self, batch: Any) -> list[Any]:
        # token ids are long and unreadable in records: show the other columns (text)
        shown = {k: v for k, v in batch.items() if k not in (*MODEL_INPUTS, "labels")}
        if not shown:
            return super().describe_inputs({k: v for k, v in batch.items() if k != "labels"})
        return super().describe_inputs(shown)
