"""Built-in plugin ``core-executor``: builds executors the project registered or names by class path.

Asked last (``trylast``), so an installed plugin's ``build_executor`` can take
over any name. ``executor.name`` is either a name registered with
``@runway.register_executor`` or a class path, ``package.module:Class`` or
``package.module.Class``, of an ``Executor`` subclass.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from runway.errors import ConfigError
from runway.experiment.registry import project_executors
from runway.hookspecs import hookimpl
from runway.support.imports import import_object


def resolve_executor_class(name: str) -> Any:
    """The class that ``executor.name`` names, or ``None`` when nobody has it."""
    registered = project_executors().get(name)
    if registered is not None:
        return registered
    if "." in name or ":" in name:
        package = name.partition(":")[0].split(".")[0]
        if not package or importlib.util.find_spec(package) is None:
            return None  # the path does not name a module: not ours
        return import_object(name, "executor.name")
    return None


@hookimpl(trylast=True)
def build_executor(name: str, config: dict, context: Any) -> Any:
    cls = resolve_executor_class(name)
    if cls is None:
        return None
    return cls(config=config, context=context)


@hookimpl
def validate_config(config: dict) -> list[str]:
    """Check the values of ``executor``, ``train``, ``test``, ``eval`` and ``meta`` before anything runs.

    Unknown keys and ``train.trainer_paras`` are checked by
    :func:`runway.experiment.settings.parse_settings` when a job is submitted.
    """
    from runway.experiment.settings import settings_problems

    return settings_problems(config, strict=False)
