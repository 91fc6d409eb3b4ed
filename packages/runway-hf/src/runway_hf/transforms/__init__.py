"""The transforms that the ``hf`` plugin registers, by config name."""

from __future__ import annotations

from runway_hf.transforms.base import HFDatasetTransform
from runway_hf.transforms.columns import HFDatasetRemoveColumns, HFDatasetRenameColumns, HFDatasetSelectColumns
from runway_hf.transforms.loading import LoadHFDataset
from runway_hf.transforms.rows import HFDatasetFilter, HFDatasetMap, HFDatasetSelectRange, HFDatasetShuffle
from runway_hf.transforms.split import HFDatasetSplit, SplitHFDatasetToTrainTestValidation
from runway_hf.transforms.tokenize import HFDatasetTokenizeTransform

#: registered under their class names; ``HFDatasetTransform`` is a base, not a node
REGISTERED = (
    LoadHFDataset,
    HFDatasetTokenizeTransform,
    SplitHFDatasetToTrainTestValidation,
    HFDatasetSplit,
    HFDatasetRenameColumns,
    HFDatasetSelectColumns,
    HFDatasetRemoveColumns,
    HFDatasetFilter,
    HFDatasetMap,
    HFDatasetShuffle,
    HFDatasetSelectRange,
)

__all__ = [
    "REGISTERED",
    "HFDatasetFilter",
    "HFDatasetMap",
    "HFDatasetRemoveColumns",
    "HFDatasetRenameColumns",
    "HFDatasetSelectColumns",
    "HFDatasetSelectRange",
    "HFDatasetShuffle",
    "HFDatasetSplit",
    "HFDatasetTokenizeTransform",
    "HFDatasetTransform",
    "LoadHFDataset",
    "SplitHFDatasetToTrainTestValidation",
]
