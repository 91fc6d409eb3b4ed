"""Row operations: filter and map by a registered function, shuffle, select a range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from runway.errors import PipelineError

from runway_hf.functions import get_hf_function
from runway_hf.transforms.base import HFDatasetTransform, as_string_list, check_columns


class _ByFunction(HFDatasetTransform):
    """Shared setup of the transforms that apply a registered function."""

    def setup(  # type: ignore[override]
        self,
        function_name: str,
        fn_kwargs: Mapping[str, Any] | None = None,
        batched: bool = False,
        batch_size: int = 1000,
        input_columns: str | Sequence[str] | None = None,
        splits_to_process: str | Sequence[str] | None = None,
        num_proc: int | None = None,
        _num_proc: int | None = None,
    ) -> None:
        super().setup(splits_to_process=splits_to_process, num_proc=num_proc, _num_proc=_num_proc)
        if not isinstance(function_name, str):
            raise PipelineError(f"{self._where('function_name')}: expected the name of a registered hf function")
        self.function_name = function_name
        self.function = get_hf_function(function_name, where=self._where("function_name"))
        self.fn_kwargs = dict(fn_kwargs or {})
        self.batched = batched
        self.batch_size = batch_size
        self.input_columns = as_string_list(input_columns, where=self._where("input_columns"))

    def _options(self, dataset: Any, split: str | None) -> dict[str, Any]:
        if self.input_columns:
            check_columns(dataset, self.input_columns, where=self._where("input_columns"), split=split)
        return {
            "fn_kwargs": self.fn_kwargs or None,
            "batched": self.batched,
            "batch_size": self.batch_size,
            "input_columns": self.input_columns,
        }


class HFDatasetFilter(_ByFunction):
    """Keep the rows for which the registered function ``function_name`` returns true.

    ``function(example, **fn_kwargs) -> bool`` (or, with ``batched: true``,
    ``function(batch, **fn_kwargs) -> list[bool]``); register it with
    ``@runway_hf.register_hf_function``. Shardable (``setup_kwargs._shards: N``).
    """

    version: ClassVar[int] = 1
    shardable: ClassVar[bool] = True

    def _call_split(self, dataset: Any, split: str | None) -> Any:
        return self.filter(dataset, self.function, **self._options(dataset, split))


class HFDatasetMap(_ByFunction):
    """Apply the registered function ``function_name`` to each row (or batch), adding or replacing columns.

    ``function(example, **fn_kwargs) -> dict`` of new column values;
    ``remove_columns`` drops input columns afterwards. Shardable
    (``setup_kwargs._shards: N``): the function must map rows independently.
    """

    version: ClassVar[int] = 1
    shardable: ClassVar[bool] = True

    def setup(  # type: ignore[override]
        self,
        function_name: str,
        fn_kwargs: Mapping[str, Any] | None = None,
        batched: bool = False,
        batch_size: int = 1000,
        input_columns: str | Sequence[str] | None = None,
        remove_columns: str | Sequence[str] | None = None,
        splits_to_process: str | Sequence[str] | None = None,
        num_proc: int | None = None,
        _num_proc: int | None = None,
    ) -> None:
        """Resolve the function; see the class docstring."""
        super().setup(
            function_name,
            fn_kwargs=fn_kwargs,
            batched=batched,
            batch_size=batch_size,
            input_columns=input_columns,
            splits_to_process=splits_to_process,
            num_proc=num_proc,
            _num_proc=_num_proc,
        )
        self.remove_columns = as_string_list(remove_columns, where=self._where("remove_columns"))

    def _call_split(self, dataset: Any, split: str | None) -> Any:
        if self.remove_columns:
            check_columns(dataset, self.remove_columns, where=self._where("remove_columns"), split=split)
        return self.map(dataset, self.function, remove_columns=self.remove_columns, **self._options(dataset, split))


class HFDatasetShuffle(HFDatasetTransform):
    """Shuffle the rows with a fixed ``seed`` (default 42)."""

    version: ClassVar[int] = 1

    def setup(self, seed: int = 42, splits_to_process: str | Sequence[str] | None = None) -> None:
        """Keep the seed."""
        super().setup(splits_to_process=splits_to_process)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise PipelineError(f"{self._where('seed')}: expected an integer, got {seed!r}")
        self.seed = seed

    def _call_split(self, dataset: Any, split: str | None) -> Any:
        return self.shuffle(dataset, self.seed)


class HFDatasetSelectRange(HFDatasetTransform):
    """Keep rows ``start`` (inclusive) to ``stop`` (exclusive), clipped to the split's length."""

    version: ClassVar[int] = 1

    def setup(
        self,
        stop: int | None = None,
        start: int = 0,
        splits_to_process: str | Sequence[str] | None = None,
    ) -> None:
        """Keep the bounds."""
        super().setup(splits_to_process=splits_to_process)
        for key, value in (("start", start), ("stop", stop)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise PipelineError(f"{self._where(key)}: expected a non-negative integer, got {value!r}")
        if stop is not None and stop < start:
            raise PipelineError(f"{self._where('stop')}: {stop} is before start {start}")
        self.start = start
        self.stop = stop

    def _call_split(self, dataset: Any, split: str | None) -> Any:
        stop = len(dataset) if self.stop is None else min(self.stop, len(dataset))
        # a contiguous range is a zero-copy slice of the Arrow table
        return dataset.select(range(min(self.start, stop), stop))
