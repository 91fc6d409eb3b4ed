"""Training one experiment version: data, executor, Lightning Trainer, checkpoints.

The ``train`` section of the config:

.. code-block:: jsonnet

    train: {
      epochs: 10,             // max_epochs
      batch_size: 64,
      num_workers: 0,
      monitor: "val/accuracy", // what "best" means; default val/loss (train/loss without validation)
      monitor_mode: "max",     // default: min for names ending in "loss", else max
      trainer_paras: {},       // passed to lightning.Trainer as they are (they win)
    }

Checkpoints go to ``train/checkpoints/``: ``best.ckpt`` by the monitored
metric and ``last.ckpt``; ``resume=True`` continues from ``last.ckpt``.
Each validation epoch's per-sample records go to
``train/validation/epoch-<n>.jsonl`` (``train.validation_records: false``
turns them off; see :mod:`runway.experiment.validation_records`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.errors import ExperimentError
from runway.experiment.data import TRAIN_SPLITS
from runway.experiment.lightning_noise import quiet_lightning
from runway.experiment.preparation import build_executor, is_rank_zero, prepare_data, seed_everything
from runway.experiment.store import Version

BEST_CHECKPOINT = "best"
LAST_CHECKPOINT = "last"


@dataclass
class TrainResult:
    best_checkpoint: str | None
    best_score: float | None
    monitor: str
    metrics: dict[str, float] = field(default_factory=dict)


def monitored_metric(train: dict[str, Any], has_validation: bool) -> tuple[str, str]:
    monitor = train.get("monitor") or ("val/loss" if has_validation else "train/loss")
    mode = train.get("monitor_mode") or ("min" if str(monitor).endswith("loss") else "max")
    return str(monitor), str(mode)


def trainer_kwargs(config: dict[str, Any], version: Version) -> dict[str, Any]:
    """Runway's Trainer defaults, overridden by ``train.trainer_paras``."""
    train = config.get("train") or {}
    kwargs: dict[str, Any] = {
        "default_root_dir": str(version.train_dir),
        "max_epochs": int(train.get("epochs", 1)),
        "deterministic": True,
        "enable_progress_bar": sys.stderr.isatty(),
        "enable_model_summary": False,
        "log_every_n_steps": int(train.get("log_every_n_steps", 10)),
    }
    kwargs.update(train.get("trainer_paras") or {})
    # checkpoints are renamed into place, never copied onto the final name
    from runway.experiment.checkpoint_io import with_atomic_checkpoints

    with_atomic_checkpoints(kwargs)
    # a launcher's preemption warning saves last.ckpt and stops (runway.launch.preemption)
    from runway.launch.lightning_preemption import add_launch_support

    return add_launch_support(kwargs, version.checkpoints_dir / f"{LAST_CHECKPOINT}.ckpt")


def train_version(
    version: Version,
    config: dict[str, Any],
    project: Any,
    plugins: Any,
    *,
    logger_names: list[str],
    tags: dict[str, str] | None = None,
    resume: bool = False,
    dummy: bool = False,
) -> TrainResult:
    """Prepare the data, build the executor and fit it into ``version``."""
    from runway.experiment import class_path

    if class_path.uses_class_path(config):  # any LightningModule by import path: see class_path.py
        return class_path.train_class_path(
            version, config, project, plugins, logger_names=logger_names, tags=tags, resume=resume, dummy=dummy
        )
    from runway.experiment.executor import ExecutorContext
    from runway.experiment.validation_records import validation_callbacks

    seed_everything(config)
    rank_zero = is_rank_zero()
    data, keys = prepare_data(config, project, plugins, TRAIN_SPLITS, dummy=dummy)
    if "train" not in data:
        raise ExperimentError("executor.data.train: not set; training needs a train split")
    if rank_zero:
        version.update_provenance(data=keys)

    last = version.checkpoints_dir / f"{LAST_CHECKPOINT}.ckpt"
    if resume and not last.is_file():
        raise ExperimentError(f"--resume: {version.label} has no {last}; train it without --resume")

    context = ExecutorContext(
        experiment=version.name,
        version=version.number,
        version_dir=version.path,
        project=project,
        data=data,
        plugins=plugins,
        stage="fit",
    )
    executor = build_executor(config, context, plugins)
    monitor, mode = monitored_metric(config.get("train") or {}, "validation" in data)
    return fit_into_version(
        version, config, plugins, executor,
        monitor=monitor, mode=mode, result_monitor=monitor, logger_names=logger_names, tags=tags, resume=resume,
        callbacks=validation_callbacks(config, version.train_dir),
    )


def fit_into_version(
    version: Version,
    config: dict[str, Any],
    plugins: Any,
    module: Any,
    *,
    monitor: str | None,
    mode: str,
    result_monitor: str,
    logger_names: list[str],
    tags: dict[str, str] | None,
    resume: bool,
    callbacks: list[Any] | None = None,
    datamodule: Any = None,
) -> TrainResult:
    """Fit ``module`` into ``version``: best/last checkpoints on ``monitor``, the
    version's loggers (rank zero only) told how the fit ended, resuming from
    ``last.ckpt`` when ``resume``. ``callbacks`` join the checkpoint callback
    ahead of ``train.trainer_paras.callbacks``."""
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import ModelCheckpoint

    from runway.logging.lightning import RunwayLightningLogger
    from runway.logging.loggers import LoggerSet
    from runway.logging.run import Run

    last = version.checkpoints_dir / f"{LAST_CHECKPOINT}.ckpt"
    checkpoint = ModelCheckpoint(
        dirpath=str(version.checkpoints_dir),
        filename=BEST_CHECKPOINT,
        monitor=monitor,
        mode=mode,
        save_top_k=1,
        save_last=True,
        auto_insert_metric_name=False,
        enable_version_counter=False,
    )
    run = Run(
        experiment=version.name,
        version=version.number,
        version_dir=version.path,
        config=version.config,  # the redacted copy: backends never see secrets
        tags=tags or {},
        job_type="train",
    )
    loggers = LoggerSet(logger_names, run, plugins) if is_rank_zero() else None
    kwargs = trainer_kwargs(config, version)
    kwargs.setdefault("logger", RunwayLightningLogger(loggers) if loggers is not None else False)
    kwargs["callbacks"] = [checkpoint, *(callbacks or []), *kwargs.get("callbacks", [])]
    if loggers is not None:
        loggers.start()
        for record in ("config.json", "provenance.json"):
            if (version.path / record).is_file():
                loggers.log_artifact(version.path / record, record)
    status = "failed"
    try:
        quiet_lightning()
        trainer = pl.Trainer(**kwargs)
        trainer.fit(module, datamodule=datamodule, ckpt_path=str(last) if resume else None)
        status = "completed"
    except BaseException as exc:  # a preemption or Ctrl-C interrupts; an Exception fails
        status = "failed" if isinstance(exc, Exception) else "interrupted"
        raise
    finally:
        if loggers is not None:
            loggers.finish(status)
    score = checkpoint.best_model_score
    return TrainResult(
        best_checkpoint=checkpoint.best_model_path or None,
        best_score=float(score) if score is not None else None,
        monitor=result_monitor,
        metrics={k: float(v) for k, v in trainer.callback_metrics.items() if getattr(v, "numel", lambda: 1)() == 1},
    )


def find_checkpoint(version: Version, which: str) -> Path:
    """``best``, ``last`` or a file path; a missing one is an :class:`ExperimentError`."""
    if which in (BEST_CHECKPOINT, LAST_CHECKPOINT):
        path = version.checkpoints_dir / f"{which}.ckpt"
    else:
        path = Path(which).expanduser()
        if not path.is_absolute() and not path.is_file():
            path = version.checkpoints_dir / which
    if not path.is_file():
        found = [p.name for p in version.checkpoints()]
        raise ExperimentError(
            f"no checkpoint {which!r} for {version.label}: {path} does not exist "
            f"(checkpoints there: {', '.join(found) or 'none; train it first'})"
        )
    return path
