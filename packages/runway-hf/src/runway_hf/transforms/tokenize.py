"""``HFDatasetTokenizeTransform``: tokenize text columns of a dataset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from runway.errors import PipelineError

from runway_hf.tokenizers import get_tokenizer, is_seed_tokenizer_config, load_tokenizer
from runway_hf.transforms.base import HFDatasetTransform, as_string_list, check_columns


class _FieldTokenizer:
    """The batched map function: tokenize ``field`` into ``{field}_{output}`` columns.

    A class rather than a closure so that it pickles for ``num_proc`` workers.
    """

    def __init__(self, tokenizer: Any, field: str, kwargs: Mapping[str, Any], *, seed_prefixes: bool = False) -> None:
        self.tokenizer = tokenizer
        self.field = field
        self.kwargs = dict(kwargs)
        # runway_for_ml prefixed these two outputs only; the others kept their names
        self.prefixed = ("input_ids", "attention_mask") if seed_prefixes else None

    def __call__(self, batch: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
        encoded = self.tokenizer(batch[self.field], **self.kwargs)
        return {
            f"{self.field}_{name}" if self.prefixed is None or name in self.prefixed else name: list(values)
            for name, values in encoded.items()
        }


class HFDatasetTokenizeTransform(HFDatasetTransform):
    """Tokenize each field of ``tokenize_fields_list`` into ``<field>_input_ids``, ``<field>_attention_mask``, ...

    Every output of the tokenizer gets the field's prefix (a field
    ``"_linearized"`` yields ``_linearized_input_ids`` and
    ``_linearized_attention_mask``); ``rename_col_dict`` then renames any
    column (``{"_linearized_input_ids": "input_ids"}``). The tokenizer comes
    from ``tokenizer_path`` (a local folder, whose files join the cache key)
    or ``tokenizer_config`` (see :func:`runway_hf.tokenizers.load_tokenizer`;
    its ``tokenize_kwargs`` are extra tokenizer call arguments, as in the
    seed). ``max_length``, ``truncation`` and ``padding`` go to the tokenizer
    call; padding is off by default because the executors' collator pads each
    batch.

    A ``tokenizer_config`` in runway_for_ml's schema (``version_name``,
    ``class_name``, ``from_pretrained_kwargs``, ``additional_tokens``,
    ``tokenize_kwargs``; see :func:`runway_hf.tokenizers.get_tokenizer`)
    keeps that schema's meaning: without ``tokenize_kwargs`` the call pads to
    ``max_length`` and truncates; only ``input_ids`` and ``attention_mask``
    get the field's prefix; only the ``train``, ``test`` and ``validation``
    splits are tokenized and returned, as runway_for_ml did.
    """

    version: ClassVar[int] = 2
    file_inputs: ClassVar[Sequence[str]] = ("tokenizer_path",)
    #: each row is tokenized on its own: ``setup_kwargs._shards: N`` may split the rows
    shardable: ClassVar[bool] = True

    def setup(
        self,
        tokenize_fields_list: str | Sequence[str],
        tokenizer_path: str | None = None,
        tokenizer_config: Mapping[str, Any] | None = None,
        rename_col_dict: Mapping[str, str] | None = None,
        max_length: int | None = None,
        truncation: bool | str = True,
        padding: bool | str = False,
        tokenize_kwargs: Mapping[str, Any] | None = None,
        remove_source_columns: bool = False,
        batch_size: int = 1000,
        splits_to_process: str | Sequence[str] | None = None,
        num_proc: int | None = None,
        _num_proc: int | None = None,
    ) -> None:
        """Load the tokenizer and keep the call options; see the class docstring."""
        super().setup(splits_to_process=splits_to_process, num_proc=num_proc, _num_proc=_num_proc)
        fields = as_string_list(tokenize_fields_list, where=self._where("tokenize_fields_list"))
        if not fields:
            raise PipelineError(f"{self._where('tokenize_fields_list')}: name at least one text column")
        self.fields = fields
        self.seed_schema = is_seed_tokenizer_config(tokenizer_config)
        if self.seed_schema:
            self._setup_seed(dict(tokenizer_config or {}), rename_col_dict, tokenize_kwargs)
            self.remove_source_columns = remove_source_columns
            self.batch_size = batch_size
            return
        self.tokenizer = load_tokenizer(
            tokenizer_path=tokenizer_path,
            tokenizer_config=tokenizer_config,
            resolve=lambda p: self.project_path(p),
            where=self._where(),
        )
        call: dict[str, Any] = {"truncation": truncation, "padding": padding}
        if max_length is not None:
            call["max_length"] = max_length
        call.update((tokenizer_config or {}).get("tokenize_kwargs") or {})
        call.update(tokenize_kwargs or {})
        for map_option in ("batched", "load_from_cache_file"):
            call.pop(map_option, None)  # seed configs put these map options among the call's
        self.call_kwargs = call
        self.rename_col_dict = dict(rename_col_dict or {})
        self.remove_source_columns = remove_source_columns
        self.batch_size = batch_size

    def _setup_seed(
        self, config: dict[str, Any], rename_col_dict: Mapping[str, str] | None, tokenize_kwargs: Mapping[str, Any] | None
    ) -> None:
        self.tokenizer = get_tokenizer(config, resolve=lambda p: self.project_path(p), where=self._where("tokenizer_config"))
        call = dict(config.get("tokenize_kwargs") or {"padding": "max_length", "truncation": True})
        call.update(tokenize_kwargs or {})
        for map_option in ("batched", "load_from_cache_file"):
            call.pop(map_option, None)
        self.call_kwargs = call
        self.rename_col_dict = dict(rename_col_dict or {})

    def _call(self, data: Any) -> Any:
        if not self.seed_schema:
            return super()._call(data)
        from datasets import DatasetDict

        if not isinstance(data, DatasetDict):
            return self._call_split(data, None)
        return DatasetDict({s: self._call_split(data[s], s) for s in ("train", "test", "validation") if s in data})

    def _call_split(self, dataset: Any, split: str | None) -> Any:
        check_columns(dataset, self.fields, where=self._where("tokenize_fields_list"), split=split)
        for field in self.fields:
            dataset = self.map(
                dataset,
                _FieldTokenizer(self.tokenizer, field, self.call_kwargs, seed_prefixes=self.seed_schema),
                batched=True,
                batch_size=self.batch_size,
                remove_columns=[field] if self.remove_source_columns else None,
            )
        if self.rename_col_dict:
            check_columns(dataset, self.rename_col_dict, where=self._where("rename_col_dict"), split=split)
            dataset = dataset.rename_columns(self.rename_col_dict)
        return dataset
