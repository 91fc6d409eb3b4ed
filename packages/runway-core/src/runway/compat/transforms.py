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

Differences from the seed that a port may notice: ``setup`` receives only
the node's ``setup_kwargs`` (no ``global_config``); ``_check_input`` or
``_check_output`` returning ``False`` stops the pipeline (the seed ignored
it); the cache is Runway's, so ``cache_dir`` is not set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runway.errors import PluginError
from runway.pipeline.transform import Transform, register_transform


class BaseTransform(Transform):
    """The seed's ``BaseTransform``: a :class:`runway.Transform` that also accepts
    the seed's constructor arguments and keeps its attribute names."""

    #: the seed passed the whole config here; Runway gives a transform only its setup_kwargs
    global_config: Mapping[str, Any] | None = None

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
            self.global_config = global_config

    @property
    def name(self) -> str:
        """The seed's ``self.name``: the given name, else the class name."""
        return self._name or type(self).__name__

    @name.setter
    def name(self, value: str) -> None:
        self._name = value


def register_transform_functor(cls: type) -> type:
    """The seed's class decorator: registers ``cls`` under its class name.

    Same as ``@runway.register_transform``; ``cls`` must derive from
    :class:`BaseTransform` (or any ``runway.Transform``).
    """
    return register_transform(cls)


class HFAliasUnavailable(PluginError, ImportError):
    """``HFDatasetTransform`` was asked for and the ``hf`` plugin is not installed."""


def hf_dataset_transform() -> type:
    """``runway_hf.HFDatasetTransform``, imported when first asked for."""
    try:
        from runway_hf import HFDatasetTransform
    except ImportError as exc:
        raise HFAliasUnavailable(
            "HFDatasetTransform (the seed's base class for transforms over Hugging Face datasets) "
            f"comes from the hf plugin, which is not importable ({exc}); install it with `pip install runway-hf`"
        ) from exc
    return HFDatasetTransform
