"""``LoadHFDataset``: a ``datasets`` object from local files, a saved dataset or the hub."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from runway.errors import PipelineError

from runway_hf.transforms.base import HFDatasetTransform

#: under ``--dummy``, each split is cut to this many rows
DUMMY_ROWS = 100


class LoadHFDataset(HFDatasetTransform):
    """Load a dataset; the node needs no input.

    Exactly one source:

    ``dataset_name``
        a hub dataset, as runway_for_ml named it: ``dataset_name`` alone
        (``"imdb"``), or ``dataset_path/dataset_name`` when ``dataset_path``
        is given too (``{dataset_path: "GEM", dataset_name:
        "schema_guided_dialog"}`` is ``GEM/schema_guided_dialog``).
    ``dataset_path``
        alone: a builder name (``"csv"``, ``"json"``, ``"parquet"``,
        ``"text"``, ``"arrow"``) with local ``data_files``; a local folder of
        data files; or a hub name (``"glue"``) where a network is reachable.
    ``load_from_disk``
        a folder written by ``Dataset.save_to_disk`` (memory-mapped).

    ``config_name`` is the hub configuration (``{dataset_path: "glue",
    config_name: "mrpc"}``); ``split`` selects one split (the result is then
    a ``Dataset``, else a ``DatasetDict``); ``load_kwargs.split`` as a list
    (runway_for_ml's form) gives a ``DatasetDict`` of those splits;
    ``load_kwargs`` go to ``datasets.load_dataset`` as they are. The files
    named by ``data_files`` (a path, a list of paths, or ``{split: path or
    paths}``) and ``load_from_disk`` join the cache key: editing them reruns
    the node. Relative paths start at the project root.
    """

    version: ClassVar[int] = 2
    file_inputs: ClassVar[Sequence[str]] = ("data_files", "load_from_disk")

    def setup(
        self,
        dataset_path: str | None = None,
        dataset_name: str | None = None,
        data_files: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
        split: str | None = None,
        load_from_disk: str | None = None,
        load_kwargs: Mapping[str, Any] | None = None,
        config_name: str | None = None,
        fields: Any = None,
    ) -> None:
        """Configure the source; see the class docstring (``fields`` is runway_for_ml's, unused there too)."""
        super().setup()
        if dataset_name is not None:
            if data_files is not None or load_from_disk is not None:
                raise PipelineError(
                    f"{self._where('dataset_name')}: names a hub dataset (dataset_path/dataset_name, as in "
                    f"runway_for_ml); a builder with data_files takes dataset_path alone, and its "
                    f"configuration is setup_kwargs.config_name"
                )
            dataset_path = f"{dataset_path}/{dataset_name}" if dataset_path else dataset_name
        if (dataset_path is None) == (load_from_disk is None):
            raise PipelineError(
                f"{self._where()}: give exactly one of setup_kwargs.dataset_name (a hub dataset), "
                f"setup_kwargs.dataset_path (a builder like 'csv' with data_files, or a hub name) "
                f"and setup_kwargs.load_from_disk"
            )
        if load_from_disk is not None and (data_files is not None or config_name is not None):
            raise PipelineError(
                f"{self._where('load_from_disk')}: a saved dataset takes no data_files or config_name"
            )
        self.dataset_path = dataset_path
        self.dataset_name = config_name
        self.data_files = data_files
        self.split = split
        self.saved_path = load_from_disk
        self.load_kwargs = dict(load_kwargs or {})

    def _check_input(self, data: Any) -> bool | None:
        return None  # a loader reads no input

    def _call(self, data: Any) -> Any:
        if self.saved_path is not None:
            dataset = self._load_saved()
        else:
            dataset = self._load_dataset()
        return self._dummy_sample(dataset) if self.use_dummy_data else dataset

    def _load_saved(self) -> Any:
        from datasets import DatasetDict, load_from_disk

        path = self._existing(self.saved_path, "load_from_disk")
        dataset = load_from_disk(str(path), keep_in_memory=False)
        if self.split is None:
            return dataset
        if not isinstance(dataset, DatasetDict):
            raise PipelineError(f"{self._where('split')}: {path} holds one Dataset, not splits")
        if self.split not in dataset:
            raise PipelineError(
                f"{self._where('split')}: no split {self.split!r} in {path}; it has {', '.join(dataset)}"
            )
        return dataset[self.split]

    def _load_dataset(self) -> Any:
        from datasets import load_dataset

        assert self.dataset_path is not None
        path: str = self.dataset_path
        local = self.project_path(path)
        if local.exists():  # a local folder of data files, not a builder or hub name
            path = str(local)
        kwargs: dict[str, Any] = dict(self.load_kwargs)
        if self.dataset_name is not None:
            kwargs["name"] = self.dataset_name
        if self.data_files is not None:
            kwargs["data_files"] = self._resolved_data_files(self.data_files)
        if self.split is not None:
            kwargs["split"] = self.split
        try:
            loaded = load_dataset(path, **kwargs)
        except ConnectionError as exc:
            from runway.support.hub import hub_unreachable_message, unreachable_hub_dataset

            name = unreachable_hub_dataset(exc)
            if name is None:
                raise
            raise PipelineError(hub_unreachable_message(name, self._where())) from None
        except FileNotFoundError as exc:
            raise PipelineError(f"{self._where('dataset_path')}: cannot load {self.dataset_path!r}: {exc}") from None
        except ValueError as exc:
            if "split" in str(exc).lower() and self.split is not None:
                raise PipelineError(f"{self._where('split')}: {exc}") from None
            raise
        splits = kwargs.get("split")
        if isinstance(splits, list) and isinstance(loaded, list):
            from datasets import DatasetDict

            return DatasetDict({str(name): ds for name, ds in zip(splits, loaded)})
        return loaded

    def _resolved_data_files(self, value: Any) -> Any:
        if isinstance(value, str):
            return str(self._existing(value, "data_files"))
        if isinstance(value, Mapping):
            return {str(split): self._resolved_data_files(files) for split, files in value.items()}
        if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
            return [str(self._existing(v, "data_files")) for v in value]
        raise PipelineError(
            f"{self._where('data_files')}: expected a path, a list of paths or {{split: paths}}, got {value!r}"
        )

    def _existing(self, written: str, key: str) -> Path:
        path = self.project_path(written)
        if any(ch in written for ch in "*?["):
            return path  # a glob: datasets expands it and reports an empty match
        if not path.exists():
            raise PipelineError(f"{self._where(key)}: file {written!r} does not exist (looked at {path})")
        return path

    def _dummy_sample(self, dataset: Any) -> Any:
        from datasets import DatasetDict

        def cut(ds: Any) -> Any:
            return ds.select(range(min(DUMMY_ROWS, len(ds))))

        if isinstance(dataset, DatasetDict):
            return DatasetDict({name: cut(ds) for name, ds in dataset.items()})
        return cut(dataset)
