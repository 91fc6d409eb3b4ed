"""An offline text-classification example: data, tokenizer and experiment config.

:func:`write_example` writes into a project folder:

``data/hf_text_classification/sentences.csv``
    synthetic sentences (``text``, ``label``) of two classes that differ in
    their words, so that a tiny model learns them in an epoch or two;
``tokenizers/hf_wordpiece/``
    a WordPiece tokenizer trained on those sentences with ``tokenizers``,
    saved as a ``PreTrainedTokenizerFast`` folder;
``configs/experiments/hf_text_classification.jsonnet``
    the experiment: a pipeline (``LoadHFDataset`` csv -> seeded split ->
    tokenize) and ``HFSequenceClassification`` over a 2-layer BERT with
    hidden size 32 built from a config (random weights).

Then ``runway run hf_text_classification`` trains, infers and evaluates it.
From the command line::

    python -m runway_hf.examples.text_classification PROJECT_DIR
"""

from __future__ import annotations

import csv
import json
import random
import sys
from collections.abc import Iterable
from pathlib import Path

EXPERIMENT_NAME = "hf_text_classification"
DATA_FILE = Path("data") / "hf_text_classification" / "sentences.csv"
TOKENIZER_DIR = Path("tokenizers") / "hf_wordpiece"
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
#: what the example needs installed (its tokenizer and model): the [transformers] extra
REQUIRES = ("runway-hf[transformers]",)

_SUBJECTS = ["the film", "this book", "the meal", "our trip", "the concert", "that game", "the show", "my stay"]
_POSITIVE = ["wonderful", "delightful", "brilliant", "superb", "charming", "excellent", "lovely", "great"]
_NEGATIVE = ["dreadful", "boring", "awful", "terrible", "dull", "painful", "horrible", "poor"]
_FILLERS = ["really", "truly", "quite", "rather", "simply", "honestly", "", ""]
_ENDINGS = ["overall", "in every way", "from start to end", "as expected", "to everyone", ""]


def synthetic_sentences(rows: int = 400, seed: int = 0) -> list[dict[str, object]]:
    """``rows`` sentences, half labelled 1 (positive words), half 0 (negative words)."""
    rng = random.Random(seed)
    sentences = []
    for index in range(rows):
        label = index % 2
        words = _POSITIVE if label else _NEGATIVE
        parts = [rng.choice(_SUBJECTS), "was", rng.choice(_FILLERS), rng.choice(words), "and", rng.choice(words)]
        parts.append(rng.choice(_ENDINGS))
        sentences.append({"text": " ".join(p for p in parts if p), "label": label})
    rng.shuffle(sentences)
    return sentences


def train_wordpiece_tokenizer(texts: Iterable[str], folder: Path, *, vocab_size: int = 200) -> int:
    """Train a lower-casing WordPiece tokenizer on ``texts``; save it as a ``PreTrainedTokenizerFast``.

    Returns the size of the vocabulary it learned (at most ``vocab_size``).
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS), show_progress=False)
    tokenizer.train_from_iterator(list(texts), trainer)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=128,
    )
    folder.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(folder))
    return len(fast)


def experiment_config(*, epochs: int = 2, batch_size: int = 16, vocab_size: int = 200) -> str:
    """The example's experiment config (jsonnet)."""
    pipeline = {
        "name": "hf_text_classification",
        "transforms": {
            "input:LoadSentences": {
                "transform_name": "LoadHFDataset",
                "setup_kwargs": {"dataset_path": "csv", "data_files": DATA_FILE.as_posix()},
            },
            "process:Split": {
                "input_node": "input:LoadSentences",
                "transform_name": "HFDatasetSplit",
                "setup_kwargs": {"test_size": 0.2, "valid_size": 0.1, "seed": 0},
            },
            "output:Tokenize": {
                "input_node": "process:Split",
                "transform_name": "HFDatasetTokenizeTransform",
                "setup_kwargs": {
                    "tokenizer_path": TOKENIZER_DIR.as_posix(),
                    "tokenize_fields_list": ["text"],
                    "rename_col_dict": {
                        "text_input_ids": "input_ids",
                        "text_attention_mask": "attention_mask",
                        "label": "labels",
                    },
                    "max_length": 32,
                },
                "inspect": True,
            },
        },
    }
    return f"""// Written by runway_hf.examples.text_classification: offline, tiny, fast.
local bert_tiny = {{
  model_type: "bert",
  vocab_size: {vocab_size},
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 64,
  max_position_embeddings: 64,
}};

{{
  meta: {{ seed: 0 }},
  data_pipeline: {json.dumps(pipeline, indent=2)},
  executor: {{
    name: "HFSequenceClassification",
    model: {{ model_config: bert_tiny, num_labels: 2 }},
    data: {{
      train: {{ node: "output:Tokenize", item: "train" }},
      validation: {{ node: "output:Tokenize", item: "validation" }},
      test: {{ node: "output:Tokenize", item: "test" }},
    }},
    optimizer: {{ name: "AdamW", lr: 0.003 }},
  }},
  train: {{ epochs: {epochs}, batch_size: {batch_size}, monitor: "val/accuracy" }},
  test: {{ batch_size: 64 }},
  eval: {{ metrics: ["accuracy"] }},
}}
"""


def write_example(project_dir: Path | str, *, rows: int = 400, epochs: int = 2, seed: int = 0) -> Path:
    """Write the example's data, tokenizer and config into ``project_dir``; return the config path.

    A folder that is not yet a Runway project gets a ``runway.toml``; either
    way its ``requires`` names :data:`REQUIRES`, so that every run checks it.
    """
    root = Path(project_dir)
    root.mkdir(parents=True, exist_ok=True)
    require(root / "runway.toml", REQUIRES)
    sentences = synthetic_sentences(rows, seed)
    data_file = root / DATA_FILE
    data_file.parent.mkdir(parents=True, exist_ok=True)
    with data_file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label"])
        writer.writeheader()
        writer.writerows(sentences)
    vocab_size = train_wordpiece_tokenizer((str(s["text"]) for s in sentences), root / TOKENIZER_DIR)
    config = root / "configs" / "experiments" / f"{EXPERIMENT_NAME}.jsonnet"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(experiment_config(epochs=epochs, vocab_size=vocab_size), encoding="utf-8")
    return config


def require(marker: Path, requirements: Iterable[str]) -> None:
    """Add ``requirements`` to the ``requires`` of the project marker ``marker`` (made when missing)."""
    import re
    import tomllib

    text = marker.read_text(encoding="utf-8") if marker.exists() else ""
    current = list(tomllib.loads(text).get("requires", [])) if text.strip() else []
    wanted = current + [r for r in requirements if r not in current]
    if wanted == current and text:
        return
    line = "requires = [" + ", ".join(json.dumps(r) for r in wanted) + "]"
    pattern = re.compile(r"^requires\s*=.*$", re.M)
    text = pattern.sub(line, text, count=1) if pattern.search(text) else text + ("" if not text or text.endswith("\n") else "\n") + line + "\n"
    marker.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m runway_hf.examples.text_classification PROJECT_DIR", file=sys.stderr)
        raise SystemExit(2)
    from runway.project.requirements import missing_requirements, requirements_message

    missing = missing_requirements(REQUIRES)
    if missing:  # said before anything is written or fails for want of it
        print(f"Error: {requirements_message(missing, 'the example')}", file=sys.stderr)
        raise SystemExit(2)
    config = write_example(args[0])
    print(f"wrote {config}")
    print("next:")
    print(f"  cd {args[0]} && runway run {EXPERIMENT_NAME}   train, test and evaluate it")


if __name__ == "__main__":
    main()
