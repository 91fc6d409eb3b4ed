"""Built-in plugin ``core-executor``: builds executors the project registered or names by class path.

Asked last (``trylast``), so an installed plugin's ``build_executor`` can take
over any name. ``executor.name`` is either a name registered with
``@runway.register_executor`` or a class path, ``package.module:Class`` or
``package.module.Class``, of an ``Executor`` subclass.
"""

from __future__ import annotations

import importlib
from typing import Any

from runway.errors import ConfigError
from runway.experiment.registry import project_executors
from runway.hookspecs import hookimpl


def _import_class_path(path: str) -> Any:
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        return None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            return None  # the path does not name a module: not ours
        raise
    target = module
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise ConfigError(f"executor.name: module {module_name!r} has no attribute {attr!r}")
    return target


def resolve_executor_class(name: str) -> Any:
    """The class that ``executor.name`` names, or ``None`` when nobody has it."""
    registered = project_executors().get(name)
    if registered is not None:
        return registered
    if "." in name or ":" in name:
        return _import_class_path(name)
    return None


@hookimpl(trylast=True)
def build_executor(name: str, config: dict, context: Any) -> Any:
    cls = resolve_executor_class(name)
    if cls is None:
        return None
    return cls(config=config, context=context)


@hookimpl
def validate_config(config: dict) -> list[str]:
    """Check ``executor``, ``train``, ``test`` and ``eval`` before anything runs."""
    from runway.experiment.data import DataRef
    from runway.experiment.optim import OPTIMIZERS, SCHEDULES

    problems: list[str] = []
    executor = config.get("executor")
    if isinstance(executor, dict):
        data = executor.get("data")
        if data is not None and not isinstance(data, dict):
            problems.append("executor.data: expected an object mapping splits to pipeline nodes")
        for split, ref in (data or {}).items() if isinstance(data, dict) else ():
            try:
                DataRef.parse(split, ref)
            except ConfigError as exc:
                problems.append(str(exc))
        optimizer = executor.get("optimizer") or {}
        name = optimizer.get("name", "AdamW") if isinstance(optimizer, dict) else None
        if not isinstance(name, str) or name.lower() not in {o.lower() for o in OPTIMIZERS}:
            problems.append(f"executor.optimizer.name: {name!r} is not one of {', '.join(OPTIMIZERS)}")
        scheduler = executor.get("scheduler")
        if isinstance(scheduler, dict):
            from runway.experiment.optim import _ALIASES

            raw = str(scheduler.get("name", "constant")).lower()
            if _ALIASES.get(raw, raw) not in SCHEDULES:
                problems.append(f"executor.scheduler.name: {raw!r} is not one of {', '.join(SCHEDULES)}")
    train = config.get("train")
    if isinstance(train, dict):
        for key in ("epochs", "batch_size"):
            value = train.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                problems.append(f"train.{key}: expected a positive integer, got {value!r}")
        paras = train.get("trainer_paras")
        if paras is not None and not isinstance(paras, dict):
            problems.append("train.trainer_paras: expected an object of lightning.Trainer arguments")
    evaluation = config.get("eval")
    if isinstance(evaluation, dict):
        metrics = evaluation.get("metrics")
        if metrics is not None and not (isinstance(metrics, list) and all(isinstance(m, str) for m in metrics)):
            problems.append("eval.metrics: expected a list of metric names")
    return problems
