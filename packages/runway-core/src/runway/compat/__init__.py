"""Bringing runway_for_ml ("the seed") projects to Runway.

Aliases for the seed's transform API, so that a seed project's
``data_processing/`` runs after changing its import line::

    from runway.compat import BaseTransform, HFDatasetTransform, register_transform_functor

and the config migration behind ``runway migrate FILE``:
:func:`migrate_config` maps the seed's keys to Runway's and says, key by
key, what it changed. :data:`SEED_KEYS` lists every seed key and its
replacement; a seed key left in a config is reported with it.

``HFDatasetTransform`` is ``runway_hf.HFDatasetTransform`` (``pip install
runway-hf``), imported on first use. There is no ``runway_for_ml`` import
shim: a stand-in package of that name would shadow the real one and hide
which code runs; the one-line import change is explicit.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> "module:attribute", imported on first access
_LAZY: dict[str, str] = {
    "BaseTransform": "runway.compat.transforms:BaseTransform",
    "register_transform_functor": "runway.compat.transforms:register_transform_functor",
    "register_transform": "runway.pipeline.transform:register_transform",
    "migrate_config": "runway.compat.migration:migrate_config",
    "Migration": "runway.compat.migration:Migration",
    "Change": "runway.compat.migration:Change",
    "SEED_KEYS": "runway.compat.keys:SEED_KEYS",
}


def __getattr__(name: str) -> Any:
    if name == "HFDatasetTransform":
        from runway.compat.transforms import hf_dataset_transform

        value = hf_dataset_transform()
    else:
        target = _LAZY.get(name)
        if target is None:
            raise AttributeError(f"module 'runway.compat' has no attribute {name!r}")
        module_name, _, attr = target.partition(":")
        value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, "HFDatasetTransform"])


# HFDatasetTransform is left out of __all__: a star import must not need runway-hf
__all__ = [*_LAZY]
