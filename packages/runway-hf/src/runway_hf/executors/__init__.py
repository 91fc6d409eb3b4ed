"""``transformers`` executors, built through the ``build_executor`` hook.

``HFSequenceClassification``
    ``AutoModelForSequenceClassification``; batches of ``input_ids``,
    ``attention_mask`` (``token_type_ids``) and an integer ``labels``.
``HFSeq2Seq``
    ``AutoModelForSeq2SeqLM``; ``labels`` is a token sequence; inference
    generates.

Both take ``executor.model``: ``model_path`` (a local folder of
``save_pretrained`` files, relative to the project root) or ``model_config``
(``{model_type: "bert", hidden_size: 32, ...}``: ``AutoConfig.for_model``
then ``from_config``, random weights). This module stays light: the
classes (torch, Lightning, transformers) load on first use.
"""

from __future__ import annotations

from typing import Any

EXECUTOR_NAMES: dict[str, str] = {
    "HFSequenceClassification": "runway_hf.executors.classification:HFSequenceClassification",
    "HFSeq2Seq": "runway_hf.executors.seq2seq:HFSeq2Seq",
}


def executor_class(name: str) -> Any:
    """The executor class registered as ``name`` (imports it)."""
    import importlib

    module_name, _, attr = EXECUTOR_NAMES[name].partition(":")
    return getattr(importlib.import_module(module_name), attr)
