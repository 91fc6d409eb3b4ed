"""``HFDatasetTransform``: the base of every transform over ``datasets`` objects.

A subclass implements either ``_call_split(dataset, split)`` (called once per
selected split of a ``DatasetDict``, or once with ``split=None`` for a bare
``Dataset``) or the whole ``_call(data)``. The base gives it:

* ``splits_to_process``: which splits of a ``DatasetDict`` to transform (the
  others pass through untouched); ``None`` means all of them.
* ``num_proc`` / ``_num_proc``: worker processes for ``map`` and ``filter``.
  A setup kwarg that begins with ``_`` does not join the cache key, so
  ``_num_proc`` can differ between a laptop and a cluster without rerunning.
* ``self.map(...)``, ``self.filter(...)``, ``self.shuffle(...)``: the
  ``datasets`` methods with our defaults (intermediate files go to a scratch
  folder, never into a cache entry; no reuse of ``datasets``' own cache, whose
  fingerprints Runway's cache key supersedes).
* ``_apply_mapping(data, {"old": "new"})``: rename the mapped columns and keep
  only those.
* ``project_path(path)``: a path from a config, relative to the project root.
* ``shard_input`` / ``merge_shards``: a ``Dataset`` (each split of a
  ``DatasetDict``) cut into contiguous row ranges, and the shards' outputs
  concatenated in order, for the transforms that declare ``shardable = True``
  (``HFDatasetMap``, ``HFDatasetFilter``, ``HFDatasetTokenizeTransform``):
  ``setup_kwargs._shards: N`` runs them as N processes
  (:mod:`runway.pipeline.shards`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from runway.errors import PipelineError
from runway.pipeline.transform import Transform

from runway_hf.scratch import scratch_file

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict


def is_hf_dataset(data: Any) -> bool:
    """True for a ``datasets.Dataset`` or ``DatasetDict`` (without importing datasets)."""
    import sys

    datasets = sys.modules.get("datasets")
    return datasets is not None and isinstance(data, (datasets.Dataset, datasets.DatasetDict))


def as_string_list(value: str | Sequence[str] | None, *, where: str) -> list[str] | None:
    """``"a"`` -> ``["a"]``; a list of strings as is; anything else is an error."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    raise PipelineError(f"{where}: expected a name or a list of names, got {value!r}")


class HFDatasetTransform(Transform):
    """Base class for transforms over a ``datasets.Dataset`` or ``DatasetDict``."""

    splits_to_process: list[str] | None = None
    num_proc: int | None = None
    #: imported once by the process that forks the local shards (see Transform.shard_imports)
    shard_imports: ClassVar[Sequence[str]] = ("datasets", "runway_hf.transforms")

    def setup(
        self,
        splits_to_process: str | Sequence[str] | None = None,
        num_proc: int | None = None,
        _num_proc: int | None = None,
    ) -> None:
        """Select the splits to transform and the worker processes for ``map``/``filter``."""
        self.splits_to_process = as_string_list(splits_to_process, where=self._where("splits_to_process"))
        chosen = _num_proc if _num_proc is not None else num_proc
        if chosen is not None and (not isinstance(chosen, int) or isinstance(chosen, bool) or chosen < 1):
            raise PipelineError(f"{self._where('num_proc')}: expected a positive integer, got {chosen!r}")
        self.num_proc = chosen if chosen and chosen > 1 else None

    # ------------------------------------------------------------ the calls

    def _preprocess(self, data: Any) -> Any:
        # a plain dict of Datasets (as older transforms returned) becomes a DatasetDict
        if isinstance(data, Mapping) and not is_hf_dataset(data) and data:
            from datasets import Dataset, DatasetDict

            if all(isinstance(v, Dataset) for v in data.values()):
                return DatasetDict(dict(data))
        return data

    def _check_input(self, data: Any) -> bool | None:
        if not is_hf_dataset(data):
            raise PipelineError(
                f"node {self.node_name!r}: {type(self).__name__} expects a datasets.Dataset or DatasetDict, "
                f"got a {type(data).__module__}.{type(data).__qualname__} (is its input node a LoadHFDataset?)"
            )
        return None

    def _call(self, data: Any) -> Any:
        from datasets import DatasetDict

        if isinstance(data, DatasetDict):
            chosen = set(self.selected_splits(data))
            return DatasetDict(
                {name: self._call_split(ds, name) if name in chosen else ds for name, ds in data.items()}
            )
        return self._call_split(data, None)

    def _call_split(self, dataset: Dataset, split: str | None) -> Dataset:
        """Transform one split (``split`` is ``None`` for a bare ``Dataset``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _call_split(dataset, split) or _call(data)")

    def selected_splits(self, data: DatasetDict) -> list[str]:
        """The splits of ``data`` that ``splits_to_process`` selects, in its order."""
        if self.splits_to_process is None:
            return list(data)
        missing = [s for s in self.splits_to_process if s not in data]
        if missing:
            raise PipelineError(
                f"{self._where('splits_to_process')}: no split {', '.join(repr(m) for m in missing)} "
                f"in the input; it has {', '.join(repr(s) for s in data) or 'no splits'}"
            )
        return list(self.splits_to_process)

    # ----------------------------------------------- datasets, our defaults

    def map(self, dataset: Dataset, function: Callable[..., Any], **kwargs: Any) -> Dataset:
        """``dataset.map(function, **kwargs)`` with ``num_proc`` and scratch output files."""
        return dataset.map(function, **self._write_options("map", kwargs))

    def filter(self, dataset: Dataset, function: Callable[..., Any], **kwargs: Any) -> Dataset:
        """``dataset.filter(function, **kwargs)`` with ``num_proc`` and scratch output files."""
        return dataset.filter(function, **self._write_options("filter", kwargs))

    def shuffle(self, dataset: Dataset, seed: int) -> Dataset:
        """A seeded shuffle whose index file goes to the scratch folder."""
        return dataset.shuffle(
            seed=seed,
            load_from_cache_file=False,
            indices_cache_file_name=scratch_file("shuffle"),
        )

    def _write_options(self, kind: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        options = dict(kwargs)
        options.setdefault("num_proc", self.num_proc)
        options.setdefault("load_from_cache_file", False)
        options.setdefault("cache_file_name", scratch_file(kind))
        # a fresh fingerprint skips hashing the function (and its warnings):
        # datasets' cache is never reused here, Runway's cache key decides
        options.setdefault("new_fingerprint", uuid.uuid4().hex)
        options.setdefault("desc", f"{self.node_name or type(self).__name__}")
        return options

    # ------------------------------------------------------------- shards

    def shard_input(self, data: Any, index: int, n_shards: int) -> Any:
        """Rows ``[len * index // n, len * (index + 1) // n)`` of a ``Dataset``, or of each split of a ``DatasetDict``."""
        from datasets import Dataset, DatasetDict
        from runway.pipeline.transform import shard_bounds

        def one(ds: Dataset) -> Dataset:
            start, stop = shard_bounds(len(ds), index, n_shards)
            return ds.select(range(start, stop))  # contiguous: a zero-copy slice

        if isinstance(data, DatasetDict):
            return DatasetDict({name: one(ds) for name, ds in data.items()})
        if isinstance(data, Dataset):
            return one(data)
        return super().shard_input(data, index, n_shards)

    def merge_shards(self, parts: Sequence[Any]) -> Any:
        """The shards' outputs concatenated in shard order (per split for a ``DatasetDict``)."""
        from datasets import Dataset, DatasetDict, concatenate_datasets

        def joined(pieces: list[Dataset]) -> Dataset:
            # an empty shard (fewer rows than shards) may lack the columns a map adds
            filled = [p for p in pieces if len(p)] or pieces[:1]
            return concatenate_datasets(filled) if len(filled) > 1 else filled[0]

        if parts and all(isinstance(p, DatasetDict) for p in parts):
            splits = list(parts[0])
            if any(list(p) != splits for p in parts):
                raise PipelineError(f"{self._where()}: its shards returned different splits: {[list(p) for p in parts]}")
            return DatasetDict({name: joined([p[name] for p in parts]) for name in splits})
        if parts and all(isinstance(p, Dataset) for p in parts):
            return joined(list(parts))
        return super().merge_shards(parts)

    # ------------------------------------------------------------- mapping

    def _apply_mapping(self, data: Any, in_out_col_mapping: Mapping[str, str]) -> Any:
        """Rename ``{"input_col": "output_col"}`` and keep only those columns."""
        from datasets import Dataset, DatasetDict

        def one(ds: Dataset, split: str | None) -> Dataset:
            check_columns(ds, in_out_col_mapping, where=self._where(), split=split)
            kept = ds.select_columns(list(in_out_col_mapping))
            renames = {src: out for src, out in in_out_col_mapping.items() if src != out}
            return kept.rename_columns(renames) if renames else kept

        if isinstance(data, DatasetDict):
            return DatasetDict({name: one(ds, name) for name, ds in data.items()})
        if isinstance(data, Dataset):
            return one(data, None)
        return super()._apply_mapping(data, in_out_col_mapping)

    # ---------------------------------------------------------------- paths

    def project_path(self, path: str | Path) -> Path:
        """``path`` as written in a config: absolute, or relative to the project root."""
        candidate = Path(path).expanduser()
        if candidate.is_absolute():
            return candidate
        return project_root_of(self) / candidate

    def _where(self, key: str | None = None) -> str:
        node = f"node {self.node_name!r}" if self.node_name else type(self).__name__
        return f"{node}: setup_kwargs.{key}" if key else node


def project_root_of(transform: Transform) -> Path:
    """The project root that relative paths in a transform's setup kwargs start from.

    The pipeline may hand the transform its project (``project`` or
    ``project_root``); otherwise the project found from the current folder,
    else the current folder itself.
    """
    root = getattr(transform, "project_root", None)
    if root is not None:
        return Path(root)
    project = getattr(transform, "project", None)
    if project is not None and getattr(project, "root", None) is not None:
        return Path(project.root)
    from runway.project import Project

    found = Project.find(required=False)
    return found.root if found is not None else Path.cwd()


def check_columns(dataset: Dataset, columns: Iterable[str], *, where: str, split: str | None) -> None:
    """Raise naming the columns that ``dataset`` lacks and those it has."""
    missing = [c for c in columns if c not in dataset.column_names]
    if missing:
        in_split = f" in split {split!r}" if split else ""
        raise PipelineError(
            f"{where}: no column {', '.join(repr(m) for m in missing)}{in_split}; "
            f"columns: {', '.join(dataset.column_names) or 'none'}"
        )
