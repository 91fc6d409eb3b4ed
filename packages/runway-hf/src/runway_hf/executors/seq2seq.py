"""``HFSeq2Seq``: a ``transformers`` encoder-decoder as a Runway executor."""

from __future__ import annotations

from typing import Any, ClassVar

from runway.errors import ConfigError

from runway_hf.executors.base import HFExecutor
from runway_hf.executors.collate import IGNORE_INDEX

DEFAULT_MAX_NEW_TOKENS = 32


class HFSeq2Seq(HFExecutor):
    """Train ``AutoModelForSeq2SeqLM`` with teacher forcing; infer by generating.

    Batches need ``input_ids`` and a token sequence ``labels`` (padded with
    -100 by the collator). Validation logs ``val/token_accuracy``. Inference
    generates with ``executor.model.generate_kwargs`` (default
    ``max_new_tokens: 32``); with ``executor.model.tokenizer_path`` the
    records hold decoded text, else token ids.
    """

    auto_class: ClassVar[str] = "AutoModelForSeq2SeqLM"
    peft_task_type: ClassVar[str] = "SEQ_2_SEQ_LM"

    def __init__(self, config: dict[str, Any], context: Any) -> None:
        super().__init__(config, context)
        model_section = self.executor_config.get("model") or {}
        self.generate_kwargs = {"max_new_tokens": DEFAULT_MAX_NEW_TOKENS, **(model_section.get("generate_kwargs") or {})}
        self._tokenizer_path = model_section.get("tokenizer_path")
        self._tokenizer: Any = None

    @property
    def tokenizer(self) -> Any:
        """The tokenizer that decodes generated ids, or ``None`` when not configured."""
        if self._tokenizer is None and self._tokenizer_path is not None:
            from runway_hf.tokenizers import load_tokenizer

            self._tokenizer = load_tokenizer(
                tokenizer_path=str(self._tokenizer_path),
                tokenizer_config=None,
                resolve=self.project_path,
                where="executor.model",
            )
        return self._tokenizer

    def step(self, batch: dict[str, Any]) -> dict[str, Any]:
        if "labels" not in batch:
            raise ConfigError(f"HFSeq2Seq: the batch has no 'labels' column (it has {', '.join(batch)})")
        labels = batch["labels"]
        inputs = self.model_inputs(batch)
        out = self.model(**inputs, labels=labels)
        result: dict[str, Any] = {"loss": out.loss, "metrics": {"token_accuracy": self._token_accuracy(out.logits, labels)}}
        if self._trainer is not None and self.trainer.predicting:
            generated = self.model.generate(
                input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask"), **self.generate_kwargs
            )
            result["predictions"] = self._texts(generated)
            result["targets"] = self._texts(labels)
        return result

    @staticmethod
    def _token_accuracy(logits: Any, labels: Any) -> Any:
        mask = labels != IGNORE_INDEX
        correct = (logits.argmax(-1) == labels) & mask
        return correct.sum().float() / mask.sum().clamp(min=1).float()

    def _texts(self, ids: Any) -> list[Any]:
        """Decoded strings (with a tokenizer) or id lists, without padding and -100."""
        pad = self.pad_token_id
        rows = [[int(t) for t in row if int(t) not in (IGNORE_INDEX, pad)] for row in ids]
        tokenizer = self.tokenizer
        if tokenizer is None:
            return rows
        return [tokenizer.decode(row, skip_special_tokens=True) for row in rows]
