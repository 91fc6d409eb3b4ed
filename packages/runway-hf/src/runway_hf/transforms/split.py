"""Splitting one split into train, test and validation.

``HFDatasetSplit`` is Runway's (seeded by default, other splits kept);
``SplitHFDatasetToTrainTestValidation`` keeps runway_for_ml's meaning under
its name, so a migrated config splits as it did.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from runway.errors import PipelineError

from runway_hf.scratch import scratch_file
from runway_hf.transforms.base import HFDatasetTransform


def _is_size(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


class HFDatasetSplit(HFDatasetTransform):
    """Split one split (default ``train``) into ``train``, ``test`` and optionally ``validation``.

    ``test_size`` and ``valid_size`` are both fractions of the source (floats
    below 1) or both row counts (ints). The split is seeded (``seed``, default
    42), so a cached result and a rerun agree. ``stratify_by_column`` keeps
    class proportions (a ``ClassLabel`` column). Other splits of the input
    pass through; an output split that the input already has is an error.
    """

    version: ClassVar[int] = 1

    def setup(
        self,
        test_size: float | int,
        valid_size: float | int | None = None,
        seed: int = 42,
        source_split: str = "train",
        shuffle: bool = True,
        stratify_by_column: str | None = None,
    ) -> None:
        """Check the sizes; see the class docstring."""
        super().setup()
        if not _is_size(test_size) or (valid_size is not None and not _is_size(valid_size)):
            raise PipelineError(f"{self._where()}: test_size and valid_size must be positive numbers")
        sizes = [test_size] + ([valid_size] if valid_size is not None else [])
        if len({type(s) for s in sizes}) > 1:
            raise PipelineError(
                f"{self._where()}: test_size and valid_size must both be fractions or both row counts, "
                f"got {test_size!r} and {valid_size!r}"
            )
        if isinstance(test_size, float) and sum(sizes) >= 1.0:
            raise PipelineError(f"{self._where()}: test_size + valid_size must be below 1.0, got {sum(sizes)}")
        self.test_size = test_size
        self.valid_size = valid_size
        self.seed = seed
        self.source_split = source_split
        self.shuffle_rows = shuffle
        self.stratify_by_column = stratify_by_column

    def _call(self, data: Any) -> Any:
        from datasets import Dataset, DatasetDict

        if isinstance(data, Dataset):
            source, others = data, {}
        else:
            if self.source_split not in data:
                raise PipelineError(
                    f"{self._where('source_split')}: no split {self.source_split!r} in the input; "
                    f"it has {', '.join(repr(s) for s in data) or 'no splits'}"
                )
            source = data[self.source_split]
            others = {name: ds for name, ds in data.items() if name != self.source_split}
        test_rows, valid_rows = self._row_counts(len(source))
        first = self._split(source, test_rows + valid_rows)
        result = {"train": first["train"]}
        if not valid_rows:
            result["test"] = first["test"]
        else:
            second = self._split(first["test"], valid_rows)
            result["test"], result["validation"] = second["train"], second["test"]
        clash = sorted(set(result) & set(others))
        if clash:
            raise PipelineError(
                f"{self._where()}: the input already has split(s) {', '.join(map(repr, clash))}; "
                f"split a different source_split or remove them first"
            )
        return DatasetDict({**others, **result})

    def _row_counts(self, rows: int) -> tuple[int, int]:
        """Test and validation row counts; fractions round to the nearest row, at least one."""

        def count(size: float | int | None) -> int:
            if size is None:
                return 0
            return size if isinstance(size, int) else max(1, round(size * rows))

        test_rows, valid_rows = count(self.test_size), count(self.valid_size)
        if test_rows + valid_rows >= rows:
            raise PipelineError(
                f"{self._where()}: cannot hold out {test_rows + valid_rows} of the {rows} rows "
                f"of split {self.source_split!r}"
            )
        return test_rows, valid_rows

    def _split(self, dataset: Any, size: int) -> Any:
        return dataset.train_test_split(
            test_size=size,
            shuffle=self.shuffle_rows,
            seed=self.seed,
            stratify_by_column=self.stratify_by_column,
            load_from_cache_file=False,
            train_indices_cache_file_name=scratch_file("split-train"),
            test_indices_cache_file_name=scratch_file("split-test"),
        )


class SplitHFDatasetToTrainTestValidation(HFDatasetTransform):
    """runway_for_ml's split: ``train`` becomes ``train``, ``test`` and (with ``valid_size``) ``validation``.

    As in runway_for_ml: ``test_size`` and ``valid_size`` are sizes of the
    input's ``train`` split (fractions or row counts, as
    ``Dataset.train_test_split`` takes them); ``train_test_split_kwargs`` go
    to ``train_test_split`` as they are, so without a ``seed`` in them the
    rows drawn change whenever the node reruns; every other split of the
    input is dropped. :class:`HFDatasetSplit` is Runway's own split (seeded,
    other splits kept).
    """

    version: ClassVar[int] = 1

    def setup(  # type: ignore[override]
        self,
        test_size: float | int,
        train_test_split_kwargs: Mapping[str, Any] | None = None,
        valid_size: float | int | None = None,
    ) -> None:
        """Keep the sizes; see the class docstring."""
        super().setup()
        if not _is_size(test_size) or (valid_size is not None and not _is_size(valid_size)):
            raise PipelineError(f"{self._where()}: test_size and valid_size must be positive numbers")
        if train_test_split_kwargs is not None and not isinstance(train_test_split_kwargs, Mapping):
            raise PipelineError(
                f"{self._where('train_test_split_kwargs')}: expected keyword arguments of "
                f"Dataset.train_test_split, got {train_test_split_kwargs!r}"
            )
        self.test_size = test_size
        self.valid_size = valid_size
        self.held_out = test_size + valid_size if valid_size else test_size
        self.split_kwargs = dict(train_test_split_kwargs or {})

    def _call(self, data: Any) -> Any:
        from datasets import DatasetDict

        if "train" not in data:
            raise PipelineError(
                f"{self._where()}: splits the input's 'train' split, and the input has "
                f"{', '.join(repr(s) for s in data) or 'no splits'}"
            )
        first = self._split(data["train"], self.held_out)
        result = {"train": first["train"], "test": first["test"]}
        if self.valid_size is not None:
            second = self._split(first["test"], self.valid_size / self.held_out)
            result["test"], result["validation"] = second["train"], second["test"]
        return DatasetDict(result)

    def _split(self, dataset: Any, size: float | int) -> Any:
        kwargs = {
            "load_from_cache_file": False,
            "train_indices_cache_file_name": scratch_file("split-train"),
            "test_indices_cache_file_name": scratch_file("split-test"),
            **self.split_kwargs,
        }
        try:
            return dataset.train_test_split(size, **kwargs)
        except (TypeError, ValueError) as exc:
            raise PipelineError(f"{self._where()}: train_test_split({size!r}, ...) refused: {exc}") from None
