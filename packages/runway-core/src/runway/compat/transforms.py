"""runway_for_ml's transform API on top of Runway's.

``register_transform_functor`` and ``BaseTransform`` are what a seed
project's ``data_processing/`` imported; with these aliases such a module
needs only its import line changed::

    from runway.compat import BaseTransform, register_transform_functor

    @register_transform_functor
    class LowercaseText(BaseTransform):
        def setup(self, field="text"):
            self.field = field

        def _call(self, rows):
            return [{**r, self.field: r[self.field].lower()} for r in rows]

``self.global_config`` is the config of the command being run, read as
the seed read it (attribute access, the values ``runway migrate`` kept under
``_seed`` laid back in place; see :func:`runway.compat.executor.seed_view`).

Differences from the seed that a port may notice: ``_check_input`` or
``_check_output`` returning ``False`` stops the pipeline (the seed ignored
it); the cache is Runway's, so ``cache_dir`` is not set.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from runway.errors import PipelineError, PluginError
from runway.pipeline.transform import Transform, register_transform


#: the resolved config of the command being run, as the compat plugin's
#: validate_config saw it last; seed transforms read it as ``global_config``
_current: dict[str, Any] = {}


def remember_config(config: Mapping[str, Any]) -> None:
    _current["config"] = dict(config)


def current_seed_config() -> Any:
    from runway.compat.executor import seed_view

    return seed_view(_current.get("config") or {})


class BaseTransform(Transform):
    """The seed's ``BaseTransform``: a :class:`runway.Transform` that also accepts
    the seed's constructor arguments and keeps its attribute names."""

    _global_config: Mapping[str, Any] | None = None

    @property
    def global_config(self) -> Any:
        """The config as the seed passed it to every transform (see the module docstring)."""
        if self._global_config is not None:
            return self._global_config
        return current_seed_config()

    @global_config.setter
    def global_config(self, value: Mapping[str, Any] | None) -> None:
        self._global_config = value

    def __init__(
        self,
        *args: Any,
        name: str | None = None,
        input_mapping: Mapping[str, str] | None = None,
        output_mapping: Mapping[str, str] | None = None,
        use_dummy_data: bool = False,
        global_config: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._name = name
        self.input_mapping = input_mapping
        self.output_mapping = output_mapping
        self.use_dummy_data = use_dummy_data
        if global_config is not None:
            self._global_config = global_config

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # seed transforms often load their hub dataset in setup(); see _reported_hub_errors
        own_setup = cls.__dict__.get("setup")
        if callable(own_setup) and not getattr(own_setup, "_reports_hub_errors", False):
            cls.setup = _reported_hub_errors(own_setup)  # type: ignore[method-assign]

    def __call__(self, data: Any) -> Any:
        try:
            return super().__call__(data)
        except OSError as exc:
            reported = _hub_error(self, exc)
            if reported is None:
                raise
            raise reported from None

    @property
    def name(self) -> str:
        """The seed's ``self.name``: the given name, else the class name."""
        return self._name or type(self).__name__

    @name.setter
    def name(self, value: str) -> None:
        self._name = value


def _reported_hub_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method``, with a failed Hugging Face Hub download turned into a :class:`PipelineError`.

    Seed transforms call ``datasets.load_dataset`` themselves (the seed's
    examples do it in ``setup()``); without the Hub, the user should read
    which dataset needed it, not a traceback through ``datasets``.
    """

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except OSError as exc:
            reported = _hub_error(self, exc)
            if reported is None:
                raise
            raise reported from None

    wrapper._reports_hub_errors = True  # type: ignore[attr-defined]
    return wrapper


def _hub_error(transform: Any, exc: OSError) -> PipelineError | None:
    from runway.support.hub import hub_unreachable_message, unreachable_hub_dataset

    dataset = unreachable_hub_dataset(exc)
    if dataset is None:
        return None
    node = getattr(transform, "node_name", None)
    where = f"node {node!r} ({type(transform).__name__})" if node else type(transform).__name__
    return PipelineError(hub_unreachable_message(dataset, where))


class DummyTransform(BaseTransform):
    """The seed's ``DummyTransform``: its input, unchanged (a node that only names or joins)."""

    def setup(self) -> None:
        pass

    def _call(self, data: Any) -> Any:
        return data


def register_transform_functor(cls: type) -> type:
    """The seed's class decorator: registers ``cls`` under its class name.

    Same as ``@runway.register_transform``; ``cls`` must derive from
    :class:`BaseTransform` (or any ``runway.Transform``).
    """
    return register_transform(cls)


class HFAliasUnavailable(PluginError, ImportError):
    """``HFDatasetTransform`` was asked for and the ``hf`` plugin is not installed."""


_SEED_SPLITS = ("train", "test", "validation")


def hf_dataset_transform() -> type:
    """The seed's ``HFDatasetTransform`` over ``runway_hf.HFDatasetTransform``, built when first asked for.

    Its ``setup(rename_col_dict=None, splits_to_process=[train, test,
    validation], _num_proc=1)`` is the seed's, so a subclass calling
    ``super().setup(rename_col_dict)`` or ``super().setup(**kwargs)`` works
    as it did; the seed checked nothing about a transform's input, so a
    list of datasets (a node with several inputs) is accepted too.
    """
    try:
        from runway_hf import HFDatasetTransform as RunwayHFDatasetTransform
    except ImportError as exc:
        raise HFAliasUnavailable(
            "HFDatasetTransform (the seed's base class for transforms over Hugging Face datasets) "
            f"comes from the hf plugin, which is not importable ({exc}); install it with `pip install runway-hf`"
        ) from exc
    cached = _current.get("hf_class")
    if cached is not None:
        return cached

    class HFDatasetTransform(BaseTransform, RunwayHFDatasetTransform):
        """The seed's base class for transforms over ``datasets`` objects (see :func:`hf_dataset_transform`)."""

        def setup(  # type: ignore[override]
            self,
            rename_col_dict: Mapping[str, str] | None = None,
            splits_to_process: Any = _SEED_SPLITS,
            _num_proc: int = 1,
            *args: Any,
            **kwargs: Any,
        ) -> None:
            RunwayHFDatasetTransform.setup(self, splits_to_process=list(splits_to_process or _SEED_SPLITS), _num_proc=_num_proc)
            self.rename_col_dict = rename_col_dict
            self._num_proc = _num_proc

        def _check_input(self, data: Any) -> bool | None:
            return None

        def selected_splits(self, data: Any) -> list[str]:
            chosen = self.splits_to_process or list(data)
            return [s for s in chosen if s in data]

    HFDatasetTransform.__module__ = __name__
    _current["hf_class"] = HFDatasetTransform
    return HFDatasetTransform
