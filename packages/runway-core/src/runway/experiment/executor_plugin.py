"""Built-in plugin ``core-executor``: builds executors the project registered or names by class path.

Asked last (``trylast``), so an installed plugin's ``build_executor`` can take
over any name. ``executor.name`` is either a name registered with
``@runway.register_executor`` or a class path, ``package.module:Class`` or
``package.module.Class``, of an ``Executor`` subclass.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from runway.experiment.registry import project_executors
from runway.hookspecs import hookimpl
from runway.support.imports import import_class


def resolve_executor_class(name: str) -> Any:
    """The class that ``executor.name`` names, or ``None`` when nobody has it."""
    registered = project_executors().get(name)
    if registered is not None:
        return registered
    if "." in name or ":" in name:
        package = name.partition(":")[0].split(".")[0]
        if not package or importlib.util.find_spec(package) is None:
            return None  # the path does not name a module: not ours
        import lightning.pytorch as pl

        return import_class(name, "executor.name", pl.LightningModule)
    return None


def check_executor_classes(config: dict, settings: Any) -> None:
    """Resolve, before a version exists, the classes a ``runway.Executor`` config names:
    ``executor.name`` given as an import path, and ``executor.model.class_path`` (each
    checked to be a class of its kind, never a function)."""
    if settings.executor.by_class_path:
        return  # a LightningModule by class path: runway.experiment.class_path checks it
    name = settings.executor.name
    if name:
        resolve_executor_class(name)
    model = settings.executor.model
    if isinstance(model, dict) and model.get("class_path"):
        from runway.experiment.executor import model_class

        model_class(model)


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
