"""``HFSequenceClassification``: a ``transformers`` sequence classifier as a Runway executor."""

from __future__ import annotations

from typing import Any, ClassVar

from runway.errors import ConfigError

from runway_hf.executors.base import HFExecutor


class HFSequenceClassification(HFExecutor):
    """Train and test ``AutoModelForSequenceClassification``.

    ``executor.model.num_labels`` (default 2) sizes the head. Batches need
    ``input_ids`` and an integer ``labels`` column; predictions are class
    indices, and ``accuracy`` is logged as ``val/accuracy``.
    """

    auto_class: ClassVar[str] = "AutoModelForSequenceClassification"
    peft_task_type: ClassVar[str] = "SEQ_CLS"

    def config_overrides(self, model_config: dict[str, Any]) -> dict[str, Any]:
        num_labels = model_config.get("num_labels", 2)
        if not isinstance(num_labels, int) or isinstance(num_labels, bool) or num_labels < 1:
            raise ConfigError(f"executor.model.num_labels: expected a positive integer, got {num_labels!r}")
        return {"num_labels": num_labels}

    def step(self, batch: dict[str, Any]) -> dict[str, Any]:
        if "labels" not in batch:
            raise ConfigError(f"HFSequenceClassification: the batch has no 'labels' column (it has {', '.join(batch)})")
        labels = batch["labels"]
        out = self.model(**self.model_inputs(batch), labels=labels)
        predictions = out.logits.argmax(-1)
        accuracy = (predictions == labels).float().mean()
        return {"loss": out.loss, "predictions": predictions, "targets": labels, "metrics": {"accuracy": accuracy}}
