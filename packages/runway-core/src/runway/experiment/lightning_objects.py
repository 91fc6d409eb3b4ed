"""``{class_path, init_args}`` objects wherever Lightning takes objects, as LightningCLI builds them.

``train.trainer_paras`` may give ``callbacks``, ``logger``, ``plugins``,
``profiler``, ``strategy`` and ``accelerator`` as objects (one, or a list)::

    trainer_paras: {
      callbacks: [{ class_path: 'lightning.pytorch.callbacks.EarlyStopping',
                    init_args: { monitor: 'val_loss', patience: 2 } }],
      logger: { class_path: 'lightning.pytorch.loggers.TensorBoardLogger', init_args: { save_dir: 'tb' } },
    }

Each class must be of the kind its key takes (a ``Callback`` for
``callbacks``, a ``Logger`` for ``logger``...), and its ``init_args`` must
bind to its constructor: both are checked when the config is loaded; the
callbacks are also built once before a version exists, so a value their
constructor refuses is found then. A logger given here joins Runway's
loggers instead of replacing them.

``executor.optimizer`` / ``executor.lr_scheduler`` in LightningCLI's form
are given to a ``class_path`` module as LightningCLI gives them
(:func:`inject_optimizers`): its ``configure_optimizers`` is replaced by
one returning that optimizer (built over ``module.parameters()``) and
scheduler, with the same warning LightningCLI prints when the module
defines its own.

Modules built on ``pytorch_lightning`` are refused with what to change
(:func:`legacy_lightning_problem`): Runway's callbacks, loggers and
checkpoint handling are ``lightning.pytorch`` classes, and Lightning does
not mix the classes of its two package names (a ``pytorch_lightning.Trainer``
takes no ``lightning.pytorch`` callback, and the other way round), so
training those modules would need a second copy of every Lightning-facing
class Runway has. The fix is one import line, because Lightning 2 ships the
same code under both names.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from runway.errors import ConfigError

#: trainer_paras keys that take objects, and the classes (by import path) each accepts
TRAINER_OBJECT_KINDS: dict[str, tuple[str, ...]] = {
    "callbacks": ("lightning.pytorch.callbacks.Callback",),
    "logger": ("lightning.pytorch.loggers.Logger",),
    "profiler": ("lightning.pytorch.profilers.Profiler",),
    "strategy": ("lightning.pytorch.strategies.Strategy",),
    "accelerator": ("lightning.pytorch.accelerators.Accelerator",),
    "plugins": (
        "lightning.pytorch.plugins.Precision",
        "lightning.fabric.plugins.CheckpointIO",
        "lightning.fabric.plugins.environments.ClusterEnvironment",
        "lightning.pytorch.plugins.LayerSync",
    ),
}
OPTIMIZER_KIND = ("torch.optim.Optimizer",)
LR_SCHEDULER_KIND = ("torch.optim.lr_scheduler.LRScheduler", "torch.optim.lr_scheduler.ReduceLROnPlateau")
_OBJECT_KEYS = ("class_path", "init_args", "dict_kwargs")


def is_class_object(value: Any) -> bool:
    """Whether ``value`` is a ``{class_path, init_args}`` object."""
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("class_path"), str)
        and all(key in _OBJECT_KEYS for key in value)
    )


def _kinds(paths: tuple[str, ...]) -> tuple[type, ...]:
    from runway.support.imports import import_object

    return tuple(import_object(p, "runway") for p in paths)


def legacy_lightning_problem(cls: type, where: str, path: str) -> str | None:
    """What to change when ``cls`` is built on ``pytorch_lightning`` (``None`` when it is not)."""
    legacy = [c for c in cls.__mro__ if c.__module__.split(".")[0] == "pytorch_lightning"]
    if not legacy:
        return None
    try:
        source = inspect.getsourcefile(cls) or cls.__module__
    except TypeError:
        source = cls.__module__
    base = legacy[0]
    return (
        f"{where}: {path!r} is built on pytorch_lightning ({base.__module__}.{base.__qualname__}); Runway trains "
        f"with lightning.pytorch, and Lightning's classes do not mix across its two package names. In {source} "
        "change `import pytorch_lightning as pl` to `import lightning.pytorch as pl` (and `from pytorch_lightning.X "
        "import ...` to `from lightning.pytorch.X import ...`): Lightning 2 ships the same code under both names"
    )


def resolve_object_class(spec: Mapping[str, Any], where: str, kinds: tuple[str, ...] | None, positional: int = 0) -> type:
    """The class of one ``{class_path, init_args}`` object, checked: importable, a class of
    ``kinds`` (any class when ``None``), built on ``lightning`` and taking its ``init_args``
    after ``positional`` arguments given by Runway (an optimizer's parameters)."""
    from runway.support.imports import import_object

    path = str(spec["class_path"]).strip()
    cls = import_object(path, f"{where}.class_path")
    if not inspect.isclass(cls):
        raise ConfigError(f"{where}.class_path: {path!r} is a {type(cls).__name__}, not a class")
    legacy = legacy_lightning_problem(cls, f"{where}.class_path", path)
    if legacy is not None:
        raise ConfigError(legacy)
    if kinds is not None:
        bases = _kinds(kinds)
        if not issubclass(cls, bases):
            names = " or ".join(f"{b.__module__}.{b.__qualname__}" for b in bases)
            raise ConfigError(f"{where}.class_path: {path!r} is not a {names}")
    init_args = {**dict(spec.get("init_args") or {}), **dict(spec.get("dict_kwargs") or {})}
    _check_arguments(cls, init_args, f"{where}.init_args", positional)
    return cls


def _check_arguments(cls: type, init_args: Mapping[str, Any], where: str, positional: int) -> None:
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return  # a builtin or C type: the call itself will tell
    try:
        signature.bind(*([None] * positional), **init_args)
    except TypeError as exc:
        accepted = [
            p.name
            for p in list(signature.parameters.values())[positional:]
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        raise ConfigError(f"{where}: {cls.__name__}() {exc}. It accepts: {', '.join(accepted) or 'no arguments'}") from None


def _each_object(paras: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """``(key, where, object)`` of every class object in ``paras``."""
    found = []
    for key, value in paras.items():
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if is_class_object(item):
                where = f"train.trainer_paras.{key}" + (f".{index}" if isinstance(value, list) else "")
                found.append((str(key), where, item))
    return found


def trainer_object_problems(paras: Mapping[str, Any]) -> list[str]:
    """Problems with the class objects in ``train.trainer_paras`` (imports, kinds, arguments)."""
    problems = []
    for key, where, item in _each_object(paras):
        try:
            resolve_object_class(item, where, TRAINER_OBJECT_KINDS.get(key))
        except ConfigError as exc:
            problems.append(str(exc))
    return problems


def instantiate_object(spec: Mapping[str, Any], where: str, kinds: tuple[str, ...] | None, *args: Any) -> Any:
    """``Cls(*args, **init_args)``; a constructor's refusal names ``where``."""
    cls = resolve_object_class(spec, where, kinds, len(args))
    init_args = {**dict(spec.get("init_args") or {}), **dict(spec.get("dict_kwargs") or {})}
    try:
        return cls(*args, **init_args)
    except Exception as exc:
        raise ConfigError(f"{where}: {cls.__name__}(**init_args) failed: {type(exc).__name__}: {exc}") from exc


def instantiate_trainer_objects(paras: Mapping[str, Any]) -> dict[str, Any]:
    """``paras`` with every class object built (a new dict; the config is untouched)."""
    built: dict[str, Any] = {}
    for key, value in paras.items():
        kinds = TRAINER_OBJECT_KINDS.get(str(key))
        if isinstance(value, list):
            built[key] = [
                instantiate_object(item, f"train.trainer_paras.{key}.{i}", kinds) if is_class_object(item) else item
                for i, item in enumerate(value)
            ]
        elif is_class_object(value):
            built[key] = instantiate_object(value, f"train.trainer_paras.{key}", kinds)
        else:
            built[key] = value
    return built


def check_callbacks(paras: Mapping[str, Any]) -> None:
    """Build the ``callbacks`` objects once, so that a value their constructor refuses is found now."""
    callbacks = paras.get("callbacks")
    if isinstance(callbacks, (list, Mapping)):
        instantiate_trainer_objects({"callbacks": callbacks})


def inject_optimizers(module: Any, optimizer: Mapping[str, Any], lr_scheduler: Mapping[str, Any] | None) -> None:
    """Give ``module`` LightningCLI's ``configure_optimizers`` for ``optimizer`` (and ``lr_scheduler``).

    As LightningCLI does: the optimizer is built over ``module.parameters()``
    now, the scheduler over the optimizer; a module that defines its own
    ``configure_optimizers`` gets the same warning LightningCLI gives.
    """
    from functools import partial, update_wrapper
    from types import MethodType

    import lightning.pytorch as pl
    from lightning.pytorch.utilities.rank_zero import rank_zero_warn

    if type(module).configure_optimizers is not pl.LightningModule.configure_optimizers:
        rank_zero_warn(
            f"`{type(module).__name__}.configure_optimizers` will be overridden by `LightningCLI.configure_optimizers`."
        )
    built = instantiate_object(optimizer, "executor.optimizer", OPTIMIZER_KIND, module.parameters())
    scheduler = (
        instantiate_object(lr_scheduler, "executor.lr_scheduler", LR_SCHEDULER_KIND, built) if lr_scheduler else None
    )
    fn = partial(lightning_cli_optimizers, optimizer=built, lr_scheduler=scheduler)
    update_wrapper(fn, lightning_cli_optimizers)  # Lightning's is_overridden reads the wrapped name
    module.configure_optimizers = MethodType(fn, module)


def lightning_cli_optimizers(lightning_module: Any, optimizer: Any, lr_scheduler: Any = None) -> Any:
    """What ``LightningCLI.configure_optimizers`` returns (written out: LightningCLI needs jsonargparse)."""
    from torch.optim.lr_scheduler import ReduceLROnPlateau

    if lr_scheduler is None:
        return optimizer
    if isinstance(lr_scheduler, ReduceLROnPlateau):
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": lr_scheduler, "monitor": lr_scheduler.monitor}}
    return [optimizer], [lr_scheduler]



