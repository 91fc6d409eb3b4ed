"""Experiments whose executor is any ``LightningModule``, named by import path.

.. code-block:: jsonnet

    executor: {
      class_path: "mypkg.models.MyModel",      // or "mypkg.models:MyModel"
      init_args: { hidden: 64, lr: 1e-3 },     // the constructor's keyword arguments
      data: { train: "output:train", test: "output:test" },  // only without a datamodule
    },
    datamodule: {                              // optional
      class_path: "mypkg.data.MyDataModule",
      init_args: { batch_size: 32 },
    },
    train: { epochs: 2, monitor: "val_loss", monitor_mode: "min" },

The module needs no Runway base class. Runway adds what it adds to every
experiment: the version folder, ``best.ckpt``/``last.ckpt`` in
``train/checkpoints/``, the enabled loggers (whatever the module logs with
``self.log`` reaches them), the launcher and the records of ``runway infer``.

Data: the ``datamodule`` when the config has one; otherwise the pipeline
outputs that ``executor.data`` names, batched by ``train.batch_size`` (and
``test.batch_size``); with neither, the module's own data loaders.

``best``: the checkpoint with the best ``train.monitor`` value (a name the
module logs; ``train.monitor_mode`` ``min``/``max``). Without ``train.monitor``
``best.ckpt`` is the latest epoch, because Runway cannot know what the module
logs. A checkpoint is restored with ``Cls.load_from_checkpoint(path,
**init_args)``.

Training and inference are the same as for a ``runway.Executor``
(:mod:`runway.experiment.modules` builds either form); records come from
``predict_step`` (or ``test_step``), see :mod:`runway.experiment.step_records`.

This module holds only what is particular to class paths: reading the two
sections, importing and checking the classes, building and restoring them.

Errors in the two sections name the key: ``executor.class_path: cannot
import 'pkg.mod.Missing': No module named 'pkg'``, ``executor.init_args:
MyModel() got an unexpected keyword argument 'hiden'`` (exit code 2).

This module is also the built-in plugin ``core-class-path``: it checks the
sections (``validate_config``) and builds the module (``build_executor``).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.errors import ConfigError
from runway.hookspecs import hookimpl
from runway.support.imports import import_object

EXECUTOR = "executor"
DATAMODULE = "datamodule"
#: keys that ``executor`` may hold beside ``class_path``
EXECUTOR_KEYS = ("class_path", "init_args", "data")
DATAMODULE_KEYS = ("class_path", "init_args")


# --------------------------------------------------------------------------- the config


@dataclass(frozen=True)
class ClassSpec:
    """A ``class_path`` and its ``init_args`` from one config section."""

    section: str
    class_path: str
    init_args: dict[str, Any] = field(default_factory=dict)


def uses_class_path(config: Mapping[str, Any]) -> bool:
    """Whether the experiment's executor is given by ``executor.class_path``."""
    executor = config.get(EXECUTOR)
    return isinstance(executor, Mapping) and "class_path" in executor


def class_spec(config: Mapping[str, Any], section: str) -> ClassSpec | None:
    """The section's class and arguments, or ``None`` when it names no class."""
    raw = config.get(section)
    if not isinstance(raw, Mapping) or "class_path" not in raw:
        return None
    path = raw.get("class_path")
    if not isinstance(path, str) or not path.strip():
        raise ConfigError(f"{section}.class_path: expected 'package.module.Class', got {path!r}")
    init_args = raw.get("init_args") or {}
    if not isinstance(init_args, Mapping):
        raise ConfigError(f"{section}.init_args: expected an object of keyword arguments, got {init_args!r}")
    return ClassSpec(section, path.strip(), dict(init_args))


def check_arguments(cls: Any, init_args: Mapping[str, Any], where: str) -> None:
    """Raise when ``cls(**init_args)`` would not bind: ``MyModel() got an unexpected keyword argument 'x'``."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return  # a builtin or C type: the call itself will tell
    try:
        signature.bind(**init_args)
    except TypeError as exc:
        accepted = [
            p.name
            for p in signature.parameters.values()
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        ]
        raise ConfigError(
            f"{where}: {cls.__name__}() {exc}. It accepts: {', '.join(accepted) or 'no arguments'}"
        ) from None


def _lightning_bases(kind: str) -> tuple[type, ...]:
    """``LightningModule``/``LightningDataModule`` of ``lightning`` (and of ``pytorch_lightning`` if loaded)."""
    import lightning.pytorch as pl

    bases = [getattr(pl, kind)]
    legacy = sys.modules.get("pytorch_lightning")
    if legacy is not None and hasattr(legacy, kind):
        bases.append(getattr(legacy, kind))
    return tuple(bases)


def resolve_class(spec: ClassSpec) -> type:
    """Import ``spec``'s class and check its kind and its ``init_args``."""
    where = f"{spec.section}.class_path"
    cls = import_object(spec.class_path, where)
    if not inspect.isclass(cls):
        raise ConfigError(f"{where}: {spec.class_path!r} is a {type(cls).__name__}, not a class")
    kind = "LightningModule" if spec.section == EXECUTOR else "LightningDataModule"
    if not issubclass(cls, _lightning_bases(kind)):
        raise ConfigError(f"{where}: {spec.class_path!r} is not a lightning {kind} subclass")
    if spec.section == EXECUTOR:
        from runway.experiment.executor import Executor

        if issubclass(cls, Executor):
            raise ConfigError(
                f"{where}: {spec.class_path!r} is a runway.Executor, which is built from the whole config; "
                f"name it with executor.name instead of executor.class_path"
            )
    check_arguments(cls, spec.init_args, f"{spec.section}.init_args")
    return cls


def instantiate(spec: ClassSpec) -> Any:
    """``Cls(**init_args)``; an argument the constructor rejects names the config key."""
    cls = resolve_class(spec)
    try:
        return cls(**spec.init_args)
    except TypeError as exc:
        # the signature bound, so this comes from inside the constructor: say where, keep the cause
        raise ConfigError(f"{spec.section}.init_args: {cls.__name__}(**init_args) failed: {exc}") from exc


def _project_on_path() -> None:
    """Let a class path name a module of the project around the current folder."""
    from runway.project import Project

    try:
        project = Project.find(required=False)
    except Exception:  # a broken runway.toml is reported by the command itself
        return
    if project is not None and str(project.root) not in sys.path:
        sys.path.insert(0, str(project.root))


# --------------------------------------------------------------------------- plugin hooks


@hookimpl
def validate_config(config: dict) -> list[str]:
    """Check ``executor.class_path``/``init_args`` and ``datamodule`` (importing the classes)."""
    problems: list[str] = []
    executor = config.get(EXECUTOR)
    by_class = uses_class_path(config)
    if by_class:
        if executor.get("name"):
            problems.append(
                "executor: give executor.name (a registered runway.Executor) or executor.class_path "
                "(any LightningModule), not both"
            )
        for key in executor:
            if key not in EXECUTOR_KEYS and key != "name":
                problems.append(
                    f"executor.{key}: not read for an executor given by class_path (it takes "
                    f"{', '.join(EXECUTOR_KEYS)}); pass the module's settings in executor.init_args"
                )
    elif isinstance(executor, Mapping) and "init_args" in executor:
        problems.append("executor.init_args: only read with executor.class_path (a LightningModule by import path)")
    datamodule = config.get(DATAMODULE)
    if datamodule:  # an empty section names no data module
        if not by_class:
            problems.append(
                "datamodule: only an executor given by executor.class_path reads a datamodule; "
                "a runway.Executor takes its data from executor.data"
            )
        for key in datamodule if isinstance(datamodule, Mapping) else ():
            if key not in DATAMODULE_KEYS:
                problems.append(f"datamodule.{key}: unknown key; a datamodule takes {', '.join(DATAMODULE_KEYS)}")
        if isinstance(datamodule, Mapping) and "class_path" not in datamodule:
            problems.append("datamodule.class_path: required, 'package.module.DataModule'")
    if problems:
        return problems
    _project_on_path()
    for section in (EXECUTOR, DATAMODULE):
        try:
            spec = class_spec(config, section)
            if spec is not None:
                resolve_class(spec)
        except ConfigError as exc:
            problems.append(str(exc))
    return problems


@hookimpl
def build_executor(name: str, config: dict, context: Any) -> Any:
    """Build ``executor.class_path`` when ``name`` is that class path; else ``None``.

    Not ``trylast``: it answers only for the config's own class path, and
    must be asked before core-executor's, which would call ``Cls(config=...,
    context=...)`` on any importable name.
    """
    spec = class_spec(config, EXECUTOR)
    if spec is None or name != spec.class_path:
        return None
    return instantiate(spec)


def restore_module(spec: ClassSpec, checkpoint: Path) -> Any:
    """``Cls.load_from_checkpoint(checkpoint, **init_args)`` on the CPU."""
    cls = resolve_class(spec)
    try:
        return cls.load_from_checkpoint(str(checkpoint), map_location="cpu", **spec.init_args)
    except TypeError as exc:
        raise ConfigError(f"executor.init_args: {cls.__name__}.load_from_checkpoint failed: {exc}") from exc
