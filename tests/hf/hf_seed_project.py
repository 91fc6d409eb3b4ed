"""A project shaped like the seed's example: load dialogues, linearise them, filter, tokenize."""

from __future__ import annotations

import json
from pathlib import Path

LINEARIZE_MODULE = '''
"""The project's own transform, as the seed wrote them: a subclass of HFDatasetTransform."""

from pathlib import Path

import runway
import runway_hf
from runway_hf import HFDatasetTransform


@runway_hf.register_hf_function
def has_acts(example):
    return len(example["_linearized"]) > 0


@runway.register_transform
class LinearizeDialogActsTransform(HFDatasetTransform):
    def setup(self, separator=" ; ", _calls_log=None, splits_to_process=None):
        super().setup(splits_to_process=splits_to_process)
        self.separator = separator
        self.calls_log = _calls_log

    def _call(self, data):
        if self.calls_log:  # lets the test see whether this ran or was loaded from the cache
            with Path(self.calls_log).open("a") as log:
                log.write("called\\n")
        return super()._call(data)

    def _call_split(self, dataset, split):
        separator = self.separator
        return self.map(dataset, lambda row: {"_linearized": separator.join(row["acts"])})
'''

CONFIG = '''
local T5TokenizerConfig = {
  tokenizer_path: "%(tokenizer)s",
  tokenizer_class: "PreTrainedTokenizerFast",
};

{
  data_pipeline: {
    name: "sgd",
    transforms: {
      "input:LoadSGDData": {
        transform_name: "LoadHFDataset",
        setup_kwargs: {
          dataset_path: "json",
          data_files: %(data_files)s,
        },
      },
      "process:Linearize": {
        input_node: "input:LoadSGDData",
        transform_name: "LinearizeDialogActsTransform",
        setup_kwargs: { separator: " ; ", _calls_log: "%(calls_log)s" },
        regenerate: false,
        cache: true,
        inspect: true,
      },
      "process:DropEmpty": {
        input_node: "process:Linearize",
        transform_name: "HFDatasetFilter",
        setup_kwargs: { function_name: "has_acts" },
      },
      "output:T5-Tokenize": {
        input_node: "process:DropEmpty",
        transform_name: "HFDatasetTokenizeTransform",
        setup_kwargs: {
          rename_col_dict: {
            target_input_ids: "labels",
            target_attention_mask: "output_mask",
            _linearized_input_ids: "input_ids",
            _linearized_attention_mask: "attention_mask",
          },
          tokenizer_config: T5TokenizerConfig,
          tokenize_fields_list: ["target", "_linearized"],
          max_length: %(max_length)d,
        },
        regenerate: false,
        cache: true,
        inspect: true,
      },
    },
  },
}
'''

#: the files as a list; ``{split: files}`` waits for core's cache key to accept mappings
DATA_FILES = '["data/sgd/train.jsonl", "data/sgd/test.jsonl"]'
DATA_FILES_BY_SPLIT = '{ train: "data/sgd/train.jsonl", test: "data/sgd/test.jsonl" }'

DIALOGUES = [
    {"acts": ["inform restaurant name", "request phone number"], "target": "hello how are you"},
    {"acts": ["confirm date time"], "target": "the meal was great"},
    {"acts": [], "target": "bye"},
    {"acts": ["request phone number"], "target": "the show was dull"},
]


def write_seed_project(root: Path, tokenizer_dir: Path, *, max_length: int = 16, data_files: str = DATA_FILES) -> Path:
    """Write the project; return its folder. The calls log is ``root/calls.log``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "runway.toml").write_text("", encoding="utf-8")
    data = root / "data" / "sgd"
    data.mkdir(parents=True, exist_ok=True)
    for split, rows in (("train", DIALOGUES * 3), ("test", DIALOGUES)):
        (data / f"{split}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    code = root / "data_processing"
    code.mkdir(exist_ok=True)
    (code / "linearize.py").write_text(LINEARIZE_MODULE, encoding="utf-8")
    write_seed_config(root, tokenizer_dir, max_length=max_length, data_files=data_files)
    return root




def write_seed_config(
    root: Path, tokenizer_dir: Path, *, max_length: int = 16, data_files: str = DATA_FILES
) -> Path:
    config = root / "configs" / "experiments" / "sgd.jsonnet"
    config.parent.mkdir(parents=True, exist_ok=True)
    values = {
        "tokenizer": str(tokenizer_dir),
        "calls_log": str(root / "calls.log"),
        "max_length": max_length,
        "data_files": data_files,
    }
    config.write_text(CONFIG % values, encoding="utf-8")
    return config
