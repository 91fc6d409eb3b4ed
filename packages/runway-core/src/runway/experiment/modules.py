"""Either executor form as one thing to fit and predict: a module, its data, a record maker.

A config names its executor in one of two ways: ``executor.name``, a
registered ``runway.Executor`` built from the whole config (it serves the
pipeline data that ``executor.data`` names through its own loaders), or
``executor.class_path``, any ``LightningModule`` (see
:mod:`runway.experiment.class_path`), whose data comes from the config's
``datamodule``, else from the pipeline outputs of ``executor.data`` in a
:class:`PipelineDataModule`, else from the module's own loaders.
:func:`build_module` turns either into a :class:`BuiltModule`, and
:mod:`runway.experiment.training` and :mod:`runway.experiment.inference` run
that, whatever the form.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.errors import ConfigError, ExperimentError
from runway.experiment.data import TRAIN_SPLITS
from runway.experiment.settings import Settings
from runway.experiment.step_records import RecordMaker, records_from_batch

FIT = "fit"
PREDICT = "predict"
STAGES = (FIT, PREDICT)
EXECUTOR_FORM = "executor"
CLASS_PATH_FORM = "class_path"


@dataclass
class BuiltModule:
    """What training and inference run.

    ``datamodule`` is ``None`` when the module serves its own data loaders.
    ``records`` turns a predict (or test) step's output and its batch into
    per-sample records. ``data_keys`` are the pipeline cache keys consumed.
    ``default_monitor`` is what ``best.ckpt`` is chosen by when
    ``train.monitor`` is not set (``None``: the latest epoch).
    """

    module: Any
    datamodule: Any
    records: RecordMaker = records_from_batch
    data_keys: dict[str, str] = field(default_factory=dict)
    default_monitor: str | None = None
    form: str = EXECUTOR_FORM


def build_module(
    config: dict[str, Any],
    settings: Settings,
    context: Any,
    plugins: Any,
    stage: str,
    *,
    checkpoint: Path | None = None,
    dummy: bool = False,
) -> BuiltModule:
    """Build the experiment's module and data for ``stage`` (``fit`` or ``predict``).

    ``context`` is an :class:`~runway.experiment.executor.ExecutorContext`
    naming the version and project; the data, the stage and the settings are
    filled in here. With ``checkpoint`` the module gets its weights from it.
    For ``predict`` the data is the ``test.split`` split, served as ``test``.
    """
    if stage not in STAGES:
        raise ValueError(f"build_module: stage must be one of {STAGES}, got {stage!r}")
    if settings.executor.by_class_path:
        return _class_path_module(config, settings, context, plugins, stage, checkpoint=checkpoint, dummy=dummy)
    return _executor_module(config, settings, context, plugins, stage, checkpoint=checkpoint, dummy=dummy)


def _split_data(
    config: dict[str, Any], settings: Settings, context: Any, plugins: Any, stage: str, *, dummy: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """The pipeline data by role (``train``/``validation``, or ``test``) and its cache keys."""
    from runway.experiment.preparation import prepare_data

    split = settings.test.split
    splits = TRAIN_SPLITS if stage == FIT else (split,)
    data, keys = prepare_data(config, context.project, plugins, splits, dummy=dummy, settings=settings)
    if stage == FIT:
        if "train" not in data:
            raise ExperimentError("executor.data.train: not set; training needs a train split")
        return data, keys
    if split not in data:
        raise ConfigError(f"test.split: {split!r} is not a key of executor.data")
    return {"test": data[split]}, keys


def _executor_module(
    config: dict[str, Any], settings: Settings, context: Any, plugins: Any, stage: str, *, checkpoint: Path | None, dummy: bool
) -> BuiltModule:
    from runway.experiment.preparation import build_executor

    data, keys = _split_data(config, settings, context, plugins, stage, dummy=dummy)
    context = dataclasses.replace(context, data=data, plugins=plugins, stage=stage, settings=settings)
    executor = build_executor(config, context, plugins)
    if checkpoint is not None:
        load_weights(executor, checkpoint)
    return BuiltModule(
        module=executor,
        datamodule=None,  # an Executor serves the pipeline data through its own loaders
        data_keys=keys,
        default_monitor="val/loss" if "validation" in data else "train/loss",
        form=EXECUTOR_FORM,
    )


def _class_path_module(
    config: dict[str, Any], settings: Settings, context: Any, plugins: Any, stage: str, *, checkpoint: Path | None, dummy: bool
) -> BuiltModule:
    from runway.experiment.class_path import DATAMODULE, EXECUTOR, ClassSpec, class_spec, instantiate, restore_module

    spec = ClassSpec(EXECUTOR, str(settings.executor.class_path), dict(settings.executor.init_args))
    datamodule_spec = class_spec(config, DATAMODULE)  # the section is class_path's own, checked there
    keys: dict[str, str] = {}
    if datamodule_spec is not None:
        datamodule = instantiate(datamodule_spec)
    elif settings.executor.data:
        data, keys = _split_data(config, settings, context, plugins, stage, dummy=dummy)
        datamodule = pipeline_datamodule(data, settings)
    else:
        datamodule = None  # the module brings its own data loaders
    if checkpoint is not None:
        module = restore_module(spec, checkpoint)
    else:
        context = dataclasses.replace(context, plugins=plugins, stage=stage, settings=settings)
        module = plugins.hook.build_executor(name=spec.class_path, config=config, context=context)
        if module is None:
            module = instantiate(spec)
    optimizer = settings.executor.optimizer
    if stage == FIT and optimizer.class_path is not None:
        from runway.experiment.lightning_objects import inject_optimizers

        inject_optimizers(
            module, {"class_path": optimizer.class_path, "init_args": optimizer.init_args}, settings.executor.lr_scheduler
        )
    return BuiltModule(module=module, datamodule=datamodule, data_keys=keys, default_monitor=None, form=CLASS_PATH_FORM)


def load_weights(module: Any, checkpoint: Path) -> None:
    """Load a Lightning checkpoint's ``state_dict`` into ``module`` (strictly)."""
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    if not isinstance(state, Mapping) or "state_dict" not in state:
        raise ConfigError(f"{checkpoint}: not a Lightning checkpoint (no 'state_dict')")
    module.load_state_dict(state["state_dict"], strict=True)


# --------------------------------------------------------------------------- pipeline data


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


def pipeline_datamodule(data: Mapping[str, Any], settings: Settings) -> Any:
    """A ``LightningDataModule`` over split data (``train``/``validation``/``test``),
    batched by ``train.batch_size`` and ``test.batch_size``."""
    return _pipeline_datamodule_class()(
        data,
        batch_size=settings.train.batch_size,
        test_batch_size=settings.test.batch_size,
        num_workers=settings.train.num_workers,
    )


# --------------------------------------------------------------------------- which step records


def overrides(obj: Any, method: str, base: type) -> bool:
    """Whether ``obj``'s class overrides ``base.method``."""
    return getattr(type(obj), method, None) is not getattr(base, method, None)
