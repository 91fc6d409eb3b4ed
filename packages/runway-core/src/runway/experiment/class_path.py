"""Experiments whose executor is any ``LightningModule``, named by import path.

.. code-block:: jsonnet

    executor: {
      class_path: "mypkg.models.MyModel",      // or "mypkg.models:MyModel"
      init_args: { hidden: 64, lr: 1e-3 },     // the constructor's keyword arguments
      data: { train: "output:train", test: "output:test" },  // only without a datamodule
    },
    executor+: {                               // optional, LightningCLI's optimizer and lr_scheduler
      optimizer: { class_path: "torch.optim.Adam", init_args: { lr: 0.01 } },
      lr_scheduler: { class_path: "torch.optim.lr_scheduler.StepLR", init_args: { step_size: 1 } },
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

``executor.optimizer`` and ``executor.lr_scheduler`` replace the module's
``configure_optimizers`` as LightningCLI's ``optimizer`` and ``lr_scheduler``
do (see :mod:`runway.experiment.lightning_objects`); a module without
``configure_optimizers`` needs them.

What each command needs is checked before a version exists
(:func:`command_problems`): a ``training_step``, an optimizer and train
data to train; a predict or test step and test data to infer.

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
EXECUTOR_KEYS = ("class_path", "init_args", "data", "optimizer", "lr_scheduler")
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
    """``LightningModule``/``LightningDataModule`` of ``lightning.pytorch`` (``pytorch_lightning``'s
    are refused earlier, saying what to change)."""
    import lightning.pytorch as pl

    return (getattr(pl, kind),)


def resolve_class(spec: ClassSpec) -> type:
    """Import ``spec``'s class and check its kind and its ``init_args``."""
    where = f"{spec.section}.class_path"
    cls = import_object(spec.class_path, where)
    if not inspect.isclass(cls):
        raise ConfigError(f"{where}: {spec.class_path!r} is a {type(cls).__name__}, not a class")
    kind = "LightningModule" if spec.section == EXECUTOR else "LightningDataModule"
    from runway.experiment.lightning_objects import legacy_lightning_problem

    legacy = legacy_lightning_problem(cls, where, spec.class_path)
    if legacy is not None:
        raise ConfigError(legacy)
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
        optimizer = executor.get("optimizer")
        if optimizer is not None and not (isinstance(optimizer, Mapping) and "class_path" in optimizer):
            problems.append(
                "executor.optimizer: a class_path module takes LightningCLI's form, "
                "{class_path: 'torch.optim.Adam', init_args: {lr: 0.01}}; its own configure_optimizers decides otherwise"
            )
    elif isinstance(executor, Mapping) and "init_args" in executor:
        problems.append(
            "executor.init_args: only read with executor.class_path (a LightningModule by import path); a LightningCLI "
            "model section without class_path fixed its class in code (LightningCLI(MyModel)): name it with "
            "model.class_path in the YAML or --opts +model.class_path=package.module.MyModel"
        )
    if isinstance(executor, Mapping) and executor.get("lr_scheduler") is not None and not by_class:
        problems.append("executor.lr_scheduler: only read with executor.class_path; a runway.Executor takes executor.scheduler")
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
    if by_class:
        from runway.experiment.lightning_objects import LR_SCHEDULER_KIND, OPTIMIZER_KIND, is_class_object, resolve_object_class

        for key, kinds in (("optimizer", OPTIMIZER_KIND), ("lr_scheduler", LR_SCHEDULER_KIND)):
            value = executor.get(key)
            if value is None:
                continue
            if not is_class_object(value):
                problems.append(f"executor.{key}: expected {{class_path: ..., init_args: {{...}}}}, got {value!r}")
                continue
            try:
                resolve_object_class(value, f"executor.{key}", kinds, positional=1)
            except ConfigError as exc:
                problems.append(str(exc))
    return problems


# --------------------------------------------------------------------------- what each command needs


def _defines(cls: type, method: str, base: type) -> bool:
    return getattr(cls, method, None) is not getattr(base, method, None)


def _forward_takes_the_batch(cls: type) -> bool:
    """Whether Lightning's default ``predict_step`` (``self(batch)``) can call ``cls.forward``."""
    try:
        parameters = list(inspect.signature(cls.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        return True
    required = [p for p in parameters if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(required) <= 1


def command_problems(command: str, config: Mapping[str, Any], settings: Any) -> list[str]:
    """What a ``class_path`` module lacks for ``command`` (``train``, ``run``, ``infer``), before a version exists.

    Training needs a ``training_step``, an optimizer (``configure_optimizers``
    or ``executor.optimizer``) and train data (a datamodule's
    ``train_dataloader``, ``executor.data.train`` or the module's own).
    Inference needs ``predict_step`` or ``test_step`` (or Lightning's default
    ``predict_step``, when ``forward`` takes the batch) and test data.
    """
    import lightning.pytorch as pl

    spec = class_spec(config, EXECUTOR)
    if spec is None:
        return []
    cls = resolve_class(spec)
    datamodule_spec = class_spec(config, DATAMODULE)
    data_cls = resolve_class(datamodule_spec) if datamodule_spec is not None else None
    pipeline = dict(settings.executor.data)
    name = cls.__name__
    problems = []

    def serves(split: str, *loaders: str) -> bool:
        # the data's source as build_module picks it: datamodule, else pipeline, else the module
        if data_cls is not None:
            return any(_defines(data_cls, loader, pl.LightningDataModule) for loader in loaders)
        if pipeline:
            return split in pipeline
        return any(_defines(cls, loader, pl.LightningModule) for loader in loaders)

    if command in ("train", "run"):
        if not _defines(cls, "training_step", pl.LightningModule):
            problems.append(f"executor.class_path: {name} defines no training_step; training needs one")
        if not _defines(cls, "configure_optimizers", pl.LightningModule) and settings.executor.optimizer.class_path is None:
            problems.append(
                f"executor.class_path: {name} defines no configure_optimizers; define it, or give LightningCLI's "
                "optimizer: executor.optimizer: {class_path: 'torch.optim.Adam', init_args: {lr: 0.001}}"
            )
        if not serves("train", "train_dataloader"):
            where = f"the datamodule {data_cls.__name__}" if data_cls is not None else name
            problems.append(
                f"executor.class_path: {where} serves no train_dataloader; give a datamodule that does, "
                "or executor.data.train (a pipeline node)"
            )
    if command in ("infer", "run"):
        tests = _defines(cls, "test_step", pl.LightningModule)
        predicts = _defines(cls, "predict_step", pl.LightningModule) or not tests
        if predicts and not _defines(cls, "predict_step", pl.LightningModule) and not _forward_takes_the_batch(cls):
            problems.append(
                f"executor.class_path: {name} defines neither predict_step nor test_step, and Lightning's default "
                f"predict_step, self(batch), cannot call {name}.forward, which takes more than the batch; "
                f"`runway {command}` predicts after training: define predict_step (or test_step), or use `runway train`"
            )
        else:
            loaders = ("predict_dataloader", "test_dataloader") if predicts else ("test_dataloader",)
            if not serves(settings.test.split, *loaders):
                where = f"the datamodule {data_cls.__name__}" if data_cls is not None else name
                problems.append(
                    f"executor.class_path: {where} serves no {' or '.join(loaders)}, which `runway {command}` "
                    f"predicts from; add one, or name the test data in executor.data.{settings.test.split}"
                )
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


def check_lightning_job(command: str, config: Mapping[str, Any], settings: Any) -> None:
    """Everything about the Lightning side of ``command`` that can be checked before a version exists:
    the steps and data a ``class_path`` module needs, ``train.ckpt_path``, and the callbacks, built once."""
    from pathlib import Path

    from runway.experiment.lightning_objects import check_callbacks
    from runway.experiment.settings import raise_problems

    problems = command_problems(command, config, settings) if settings.executor.by_class_path else []
    checkpoint = settings.train.ckpt_path
    if checkpoint and command in ("train", "run") and not Path(checkpoint).expanduser().is_file():
        problems.append(f"train.ckpt_path: {checkpoint} is not a file (LightningCLI's ckpt_path: the checkpoint the fit starts from)")
    raise_problems(problems)
    check_callbacks(settings.train.trainer_paras)
