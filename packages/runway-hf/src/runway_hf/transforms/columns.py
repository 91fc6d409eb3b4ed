"""Column operations: rename, select and remove columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from runway.errors import PipelineError

from runway_hf.transforms.base import HFDatasetTransform, as_string_list, check_columns


class HFDatasetRenameColumns(HFDatasetTransform):
    """Rename columns: ``rename_col_dict: {"old": "new"}``; the others stay."""

    version: ClassVar[int] = 1

    def setup(self, rename_col_dict: Mapping[str, str], splits_to_process: str | Sequence[str] | None = None) -> None:
        """Keep the renames; every old name must exist in every processed split."""
        super().setup(splits_to_process=splits_to_process)
        if not isinstance(rename_col_dict, Mapping) or not rename_col_dict:
            raise PipelineError(f"{self._where('rename_col_dict')}: expected {{old: new, ...}}, got {rename_col_dict!r}")
        self.rename_col_dict = dict(rename_col_dict)

    def _call_split(self, dataset: Any, split: str | None) -> Any:
        check_columns(dataset, self.rename_col_dict, where=self._where("rename_col_dict"), split=split)
        return dataset.rename_columns(self.rename_col_dict)


class HFDatasetSelectColumns(HFDatasetTransform):
    """Keep only ``columns`` (in that order)."""

    version: ClassVar[int] = 1

    def setup(self, columns: str | Sequence[str], splits_to_process: str | Sequence[str] | None = None) -> None:
        """Keep the column names."""
        super().setup(splits_to_process=splits_to_process)
        self.columns = as_string_list(columns, where=self._where("columns")) or []

    def _call_split(self, dataset: Any, split: str | None) -> Any:
        check_columns(dataset, self.columns, where=self._where("columns"), split=split)
        return dataset.select_columns(self.columns)


class HFDatasetRemoveColumns(HFDatasetTransform):
    """Drop ``columns``; with ``missing_ok: true`` a column that is absent is no error."""

    version: ClassVar[int] = 1

    def setup(
        self,
        columns: str | Sequence[str],
        missing_ok: bool = False,
        splits_to_process: str | Sequence[str] | None = None,
    ) -> None:
        """Keep the column names."""
        super().setup(splits_to_process=splits_to_process)
        self.columns = as_string_list(columns, where=self._where("columns")) or []
        self.missing_ok = missing_ok

    def _call_split(self, dataset: Any, split: str | None) -> Any:
        columns = self.columns
        if self.missing_ok:
            columns = [c for c in columns if c in dataset.column_names]
        else:
            check_columns(dataset, columns, where=self._where("columns"), split=split)
        return dataset.remove_columns(columns) if columns else dataset
