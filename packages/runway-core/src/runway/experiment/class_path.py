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
``test.batch_size``) in a :class:`PipelineDataModule`.

``best``: the checkpoint with the best ``train.monitor`` value (a name the
module logs; ``train.monitor_mode`` ``min``/``max``). Without ``train.monitor``
``best.ckpt`` is the latest epoch, because Runway cannot know what the module
logs. A checkpoint is restored with ``Cls.load_from_checkpoint(path,
**init_args)``.

Records (``runway infer``): each batch's output of ``predict_step`` (or of
``test_step`` when only that is defined) becomes one record per sample, see
:func:`records_from_batch`.

Errors in the two sections name the key: ``executor.class_path: cannot
import 'pkg.mod.Missing': No module named 'pkg'``, ``executor.init_args:
MyModel() got an unexpected keyword argument 'hiden'`` (exit code 2).

This module is also the built-in plugin ``core-class-path``: it checks the
sections (``validate_config``) and builds the module (``build_executor``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.errors import ConfigError, ExperimentError
from runway.hookspecs import hookimpl

EXECUTOR = "executor"
DATAMODULE = "datamodule"
#: keys that ``executor`` may hold beside ``class_path``
EXECUTOR_KEYS = ("class_path", "init_args", "data")
DATAMODULE_KEYS = ("class_path", "init_args")

#: where a prediction and its target are found in a dict that ``predict_step`` returns
PREDICTION_KEYS = ("preds", "predictions", "prediction")
TARGET_KEYS = ("targets", "target", "labels", "label")
#: where the target is found in a dict batch, when the output has none
BATCH_TARGET_KEYS = ("labels", "label", "targets", "target", "y")


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


def import_class(path: str, where: str) -> Any:
    """The object that ``path`` (``pkg.mod.Name`` or ``pkg.mod:Name``) names.

    :raises ConfigError: ``<where>: cannot import '<path>': <reason>``.
    """
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ConfigError(f"{where}: cannot import {path!r}: expected 'package.module.Class' or 'package.module:Class'")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"{where}: cannot import {path!r}: {exc}") from None
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            names = [n for n in dir(target) if not n.startswith("_")]
            from runway.errors import did_you_mean

            raise ConfigError(
                f"{where}: cannot import {path!r}: module {module_name!r} has no attribute {part!r}."
                f"{did_you_mean(part, names)}"
            ) from None
    return target


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
    cls = import_class(spec.class_path, where)
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


# --------------------------------------------------------------------------- data


@functools.cache
def _pipeline_datamodule_class() -> type:
    import lightning.pytorch as pl
    from torch.utils.data import DataLoader

    from runway.experiment.data import as_dataset

    class PipelineDataModule(pl.LightningDataModule):
        """Data loaders over pipeline outputs: ``train``, ``validation`` and ``test`` splits."""

        def __init__(self, data: Mapping[str, Any], *, batch_size: int, test_batch_size: int, num_workers: int = 0):
            super().__init__()
            self.data = dict(data)
            self.batch_size = batch_size
            self.test_batch_size = test_batch_size
            self.num_workers = num_workers

        def _loader(self, split: str, *, shuffle: bool, batch_size: int) -> Any:
            if split not in self.data:
                raise ConfigError(f"executor.data.{split}: not set; the {split} split has no data")
            return DataLoader(
                as_dataset(self.data[split]), batch_size=batch_size, shuffle=shuffle, num_workers=self.num_workers
            )

        def train_dataloader(self) -> Any:
            return self._loader("train", shuffle=True, batch_size=self.batch_size)

        def val_dataloader(self) -> Any:
            if "validation" not in self.data:
                return []
            return self._loader("validation", shuffle=False, batch_size=self.batch_size)

        def test_dataloader(self) -> Any:
            return self._loader("test", shuffle=False, batch_size=self.test_batch_size)

        def predict_dataloader(self) -> Any:
            return self.test_dataloader()

    return PipelineDataModule


def pipeline_datamodule(data: Mapping[str, Any], config: Mapping[str, Any]) -> Any:
    """A ``LightningDataModule`` over split data (``train``/``validation``/``test``)."""
    train = config.get("train") or {}
    test = config.get("test") or {}
    batch_size = int(train.get("batch_size", 32))
    return _pipeline_datamodule_class()(
        data,
        batch_size=batch_size,
        test_batch_size=int(test.get("batch_size", batch_size)),
        num_workers=int(train.get("num_workers", 0)),
    )


def datamodule_for(
    config: dict[str, Any], project: Any, plugins: Any, splits: Sequence[str], *, dummy: bool = False
) -> tuple[Any, dict[str, str]]:
    """The run's ``LightningDataModule`` and the pipeline cache keys it consumed.

    ``splits`` are the pipeline splits to prepare when the config has no
    ``datamodule`` (``train``/``validation``, or the test split); the test
    split is served as ``test``.
    """
    spec = class_spec(config, DATAMODULE)
    if spec is not None:
        return instantiate(spec), {}
    from runway.experiment.preparation import prepare_data

    data, keys = prepare_data(config, project, plugins, splits, dummy=dummy)
    test_split = str((config.get("test") or {}).get("split", "test"))
    if test_split in data and test_split != "test":
        data["test"] = data.pop(test_split)
    return pipeline_datamodule(data, config), keys


# --------------------------------------------------------------------------- records


def _plain(value: Any) -> Any:
    """A JSON-friendly value from a tensor, an array or a scalar."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        return value.item() if value.numel() == 1 else value.tolist()
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    return value


def _sized(value: Any) -> bool:
    if hasattr(value, "shape"):
        return len(getattr(value, "shape")) > 0
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _first(mapping: Mapping[str, Any], keys: Sequence[str]) -> tuple[str | None, Any]:
    for key in keys:
        if key in mapping and mapping[key] is not None:
            return key, mapping[key]
    return None, None


def targets_from_batch(batch: Any) -> Any:
    """The targets in a batch: a dict's ``labels``/``label``/``targets``/``target``/``y``,
    or the second item of an ``(inputs, targets)`` pair; ``None`` when there are none."""
    if isinstance(batch, Mapping):
        return _first(batch, BATCH_TARGET_KEYS)[1]
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[1]
    return None


def records_from_batch(outputs: Any, batch: Any) -> list[dict[str, Any]]:
    """One record per sample from a ``predict_step``/``test_step`` output and its batch.

    The output may be:

    - a dict with ``preds`` (or ``predictions``/``prediction``) and optionally
      ``targets`` (or ``target``/``labels``/``label``); other values with one
      item per sample are kept in the record under their own names;
    - a pair ``(preds, targets)``;
    - a list of dicts, already one per sample (each with ``prediction``);
    - the predictions alone (a tensor or a list).

    Targets missing from the output are taken from the batch
    (:func:`targets_from_batch`). Each record has ``prediction`` and, where
    known, ``target``.
    """
    if outputs is None:
        raise ExperimentError(
            "predict_step/test_step returned nothing to record; return the predictions, "
            "(preds, targets) or {'preds': ..., 'targets': ...}"
        )
    extras: dict[str, Any] = {}
    if isinstance(outputs, Mapping):
        pred_key, predictions = _first(outputs, PREDICTION_KEYS)
        if pred_key is None:
            raise ExperimentError(
                f"predict_step/test_step returned a dict with keys {sorted(map(str, outputs))}; "
                f"records need one of {', '.join(PREDICTION_KEYS)}"
            )
        target_key, targets = _first(outputs, TARGET_KEYS)
        size = len(predictions)
        extras = {
            str(k): v
            for k, v in outputs.items()
            if k not in (pred_key, target_key) and _sized(v) and len(v) == size
        }
    elif isinstance(outputs, list) and outputs and all(isinstance(o, Mapping) for o in outputs):
        return [dict(o) if "prediction" in o else {"prediction": o} for o in outputs]
    elif isinstance(outputs, tuple) and len(outputs) == 2 and all(_sized(o) for o in outputs):
        predictions, targets = outputs
    else:
        predictions, targets = outputs, None
    if targets is None:
        targets = targets_from_batch(batch)
    if targets is not None and len(targets) != len(predictions):
        targets = None  # not one per sample: do not guess
    records = []
    for i in range(len(predictions)):
        record: dict[str, Any] = {"prediction": _plain(predictions[i])}
        if targets is not None:
            record["target"] = _plain(targets[i])
        for name, values in extras.items():
            record[name] = _plain(values[i])
        records.append(record)
    return records


@functools.cache
def _record_collector_class() -> type:
    from lightning.pytorch.callbacks import Callback

    class RecordCollector(Callback):
        """Turns every predict/test batch's output into records as it ends."""

        def __init__(self) -> None:
            self.records: list[dict[str, Any]] = []

        def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
            self.records.extend(records_from_batch(outputs, batch))

        def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
            self.records.extend(records_from_batch(outputs, batch))

    return RecordCollector


def _defines(obj: Any, method: str, base: type) -> bool:
    """Whether ``obj``'s class overrides ``base.method``."""
    return getattr(type(obj), method, None) is not getattr(base, method, None)


# --------------------------------------------------------------------------- train / infer


def train_class_path(
    version: Any,
    config: dict[str, Any],
    project: Any,
    plugins: Any,
    *,
    logger_names: list[str],
    tags: dict[str, str] | None = None,
    resume: bool = False,
    dummy: bool = False,
) -> Any:
    """Fit the ``executor.class_path`` module into ``version`` (see the module docstring)."""
    from runway.experiment.data import TRAIN_SPLITS
    from runway.experiment.preparation import is_rank_zero, seed_everything
    from runway.experiment.training import LAST_CHECKPOINT, fit_into_version

    spec = class_spec(config, EXECUTOR)
    assert spec is not None, "train_class_path needs executor.class_path"
    seed_everything(config)
    rank_zero = is_rank_zero()
    datamodule, keys = datamodule_for(config, project, plugins, TRAIN_SPLITS, dummy=dummy)
    if rank_zero and keys:
        version.update_provenance(data=keys)
    last = version.checkpoints_dir / f"{LAST_CHECKPOINT}.ckpt"
    if resume and not last.is_file():
        raise ExperimentError(f"--resume: {version.label} has no {last}; train it without --resume")

    module = plugins.hook.build_executor(name=spec.class_path, config=config, context=None)
    if module is None:
        module = instantiate(spec)
    train = config.get("train") or {}
    monitor = train.get("monitor")
    mode = train.get("monitor_mode") or ("min" if str(monitor).endswith("loss") else "max")
    return fit_into_version(
        version, config, plugins, module, datamodule=datamodule,
        monitor=monitor, mode=mode, result_monitor=str(monitor) if monitor else "latest epoch",
        logger_names=logger_names, tags=tags, resume=resume,
    )


def restore_module(spec: ClassSpec, checkpoint: Path) -> Any:
    """``Cls.load_from_checkpoint(checkpoint, **init_args)`` on the CPU."""
    cls = resolve_class(spec)
    try:
        return cls.load_from_checkpoint(str(checkpoint), map_location="cpu", **spec.init_args)
    except TypeError as exc:
        raise ConfigError(f"executor.init_args: {cls.__name__}.load_from_checkpoint failed: {exc}") from exc


def infer_class_path(
    version: Any,
    suffix: str,
    config: dict[str, Any],
    project: Any,
    plugins: Any,
    *,
    checkpoint: str = "best",
    dummy: bool = False,
) -> Path:
    """Predict with the ``executor.class_path`` module and write ``test-<suffix>/``.

    ``predict_step`` runs when the module defines it (or defines no
    ``test_step``), over the datamodule's ``predict_dataloader`` or else its
    ``test_dataloader``; otherwise ``test_step`` runs through
    ``trainer.test`` and its logged metrics join ``summary.json``.
    """
    import lightning.pytorch as pl

    from runway.experiment.inference import predict_trainer, write_test_dir
    from runway.experiment.preparation import seed_everything
    from runway.experiment.training import find_checkpoint

    spec = class_spec(config, EXECUTOR)
    assert spec is not None, "infer_class_path needs executor.class_path"
    ckpt_path = find_checkpoint(version, checkpoint)
    split = str((config.get("test") or {}).get("split", "test"))
    seed_everything(config)
    datamodule, keys = datamodule_for(config, project, plugins, [split], dummy=dummy)
    module = restore_module(spec, ckpt_path)
    collector = _record_collector_class()()
    out_dir = version.test_dir(suffix)
    trainer = predict_trainer(config, out_dir, callbacks=[collector])
    test_metrics: dict[str, float] = {}
    use_predict = _defines(module, "predict_step", pl.LightningModule) or not _defines(module, "test_step", pl.LightningModule)
    if not use_predict:
        results = trainer.test(module, datamodule=datamodule, verbose=False) or [{}]
        test_metrics = {k: float(v) for k, v in results[0].items()}
        step = "test_step"
    elif _defines(datamodule, "predict_dataloader", pl.LightningDataModule):
        trainer.predict(module, datamodule=datamodule, return_predictions=False)
        step = "predict_step"
    else:
        # the datamodule serves test data only: run predict_step over it
        datamodule.prepare_data()
        datamodule.setup("test")
        trainer.predict(module, dataloaders=datamodule.test_dataloader(), return_predictions=False)
        step = "predict_step"
    lines = [{"index": index, **record} for index, record in enumerate(collector.records)]
    extra: dict[str, Any] = {"records_from": step}
    if test_metrics:
        extra["test_metrics"] = test_metrics
    write_test_dir(out_dir, version, suffix, config, lines, split=split, checkpoint=checkpoint, ckpt_path=ckpt_path, data=keys, **extra)
    return out_dir
