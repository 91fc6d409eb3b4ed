"""Hook implementations of the ``hf`` plugin.

Importing this module stays cheap: ``datasets``, ``transformers`` and torch
are imported only when a transform runs, a cache entry is read, or an
executor is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runway.hookspecs import hookimpl


@hookimpl
def register_transforms(register: Callable[..., None]) -> None:
    from runway_hf.transforms import REGISTERED

    for cls in REGISTERED:
        register(cls)


@hookimpl
def register_cache_formats(register: Callable[..., None]) -> None:
    from runway_hf.arrow_format import ArrowFormat

    register(ArrowFormat())


@hookimpl
def summarize_data(data: Any) -> dict | None:
    from runway_hf.summary import summarize_dataset

    return summarize_dataset(data)


@hookimpl
def build_executor(name: str, config: dict, context: Any) -> Any:
    from runway_hf.executors import EXECUTOR_NAMES

    if name not in EXECUTOR_NAMES:
        return None
    from runway_hf.executors import executor_class

    return executor_class(name)(config=config, context=context)
