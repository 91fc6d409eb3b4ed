"""Built-in plugin ``core-compat``: runway_for_ml projects under Runway.

- ``validate_config``: a runway_for_ml key left inside a section
  (``executor.ExecutorClass``, ``meta.logger_enable``, ...) is reported with
  the Runway key that replaces it (top-level seed keys are reported by the
  section check itself, through :func:`runway.compat.keys.seed_key_hint`).
  It also remembers the config, which seed transforms read as
  ``self.global_config``.
- ``build_executor``: an executor class derived from the seed's
  ``BaseExecutor`` (:mod:`runway.compat.executor`), named by
  ``executor.name``, is built with the seed's constructor arguments.
  Asked before ``core-executor``, which would call ``Cls(config=...,
  context=...)``; any other class is left to it (``None``).
- ``register_transforms``: the seed's ``DummyTransform``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runway.compat.keys import seed_key_hint, seed_keys_in
from runway.hookspecs import hookimpl


@hookimpl
def validate_config(config: dict) -> list[str]:
    from runway.compat.transforms import remember_config

    remember_config(config)
    return [seed_key_hint(key) or key for key in seed_keys_in(config) if "." in key]


@hookimpl
def build_executor(name: str, config: dict, context: Any) -> Any:
    from runway.experiment.executor_plugin import resolve_executor_class

    try:
        cls = resolve_executor_class(name)
    except Exception:  # not importable here: core-executor reports it
        return None
    from runway.compat.executor import build_seed_executor, is_seed_executor

    if not is_seed_executor(cls):
        return None
    from runway.compat.transforms import remember_config

    remember_config(config)
    return build_seed_executor(cls, config, context)


@hookimpl
def register_transforms(register: Callable[..., None]) -> None:
    from runway.compat.transforms import DummyTransform

    register(DummyTransform)
