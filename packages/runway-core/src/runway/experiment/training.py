"""Training one experiment version: data, module, Lightning Trainer, checkpoints.

One body for both executor forms: :func:`runway.experiment.modules.build_module`
turns a ``runway.Executor`` or a ``class_path`` module into a module and its
data, and :func:`train_version` fits that. The ``train`` section is read
through :class:`runway.experiment.settings.TrainSettings` (epochs,
batch_size, num_workers, monitor, monitor_mode, log_every_n_steps,
validation_records, trainer_paras; its defaults are there).

Checkpoints go to ``train/checkpoints/``: ``best.ckpt`` by the monitored
metric and ``last.ckpt``; ``resume=True`` continues from ``last.ckpt``.
Without ``train.monitor``, a ``runway.Executor`` is monitored on ``val/loss``
(``train/loss`` without validation data) and a ``class_path`` module's
``best.ckpt`` is its latest epoch. Each validation epoch's per-sample
records go to ``train/validation/epoch-<n>.jsonl`` (``train.validation_records:
false`` turns them off; see :mod:`runway.experiment.validation_records`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.errors import ExperimentError
from runway.experiment.lightning_noise import quiet_lightning
from runway.experiment.modules import FIT, BuiltModule, build_module
from runway.experiment.preparation import is_rank_zero, seed_everything
from runway.experiment.settings import Settings
from runway.experiment.store import Version

BEST_CHECKPOINT = "best"
LAST_CHECKPOINT = "last"
#: what TrainResult.monitor says when best.ckpt is simply the latest epoch
LATEST_EPOCH = "latest epoch"


@dataclass
class TrainResult:
    best_checkpoint: str | None
    best_score: float | None
    monitor: str
    metrics: dict[str, float] = field(default_factory=dict)


def trainer_kwargs(settings: Settings, version: Version) -> dict[str, Any]:
    """Runway's Trainer defaults, overridden by ``train.trainer_paras``."""
    from runway.support.verbosity import is_quiet, is_verbose

    train = settings.train
    kwargs: dict[str, Any] = {
        "default_root_dir": str(version.train_dir),
        "max_epochs": train.epochs,
        "deterministic": True,
        # Lightning's bar on a terminal (not with -q); the model summary with -v
        "enable_progress_bar": sys.stderr.isatty() and not is_quiet(),
        "enable_model_summary": is_verbose(),
        "log_every_n_steps": train.log_every_n_steps,
    }
    from runway.experiment.lightning_objects import instantiate_trainer_objects

    kwargs.update(instantiate_trainer_objects(train.trainer_paras))
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
    settings: Settings,
    logger_names: list[str],
    tags: dict[str, str] | None = None,
    resume: bool = False,
    dummy: bool = False,
) -> TrainResult:
    """Prepare the data, build the module and fit it into ``version``.

    ``config`` is the whole resolved config (executors and plugins read their
    own sections from it); ``settings`` are its parsed Runway sections.
    """
    from runway.experiment.executor import ExecutorContext

    last = version.checkpoints_dir / f"{LAST_CHECKPOINT}.ckpt"
    if resume and not last.is_file():
        raise ExperimentError(f"--resume: {version.label} has no {last}; train it without --resume")
    seed_everything(settings)
    context = ExecutorContext(
        experiment=version.name,
        version=version.number,
        version_dir=version.path,
        project=project,
        plugins=plugins,
        stage=FIT,
        settings=settings,
    )
    built = build_module(config, settings, context, plugins, FIT, dummy=dummy)
    if is_rank_zero() and built.data_keys:
        version.update_provenance(data=built.data_keys)
    return _fit(version, settings, plugins, built, logger_names=logger_names, tags=tags, resume=resume)


def _fit(
    version: Version,
    settings: Settings,
    plugins: Any,
    built: BuiltModule,
    *,
    logger_names: list[str],
    tags: dict[str, str] | None,
    resume: bool,
) -> TrainResult:
    """Fit ``built`` into ``version``: best/last checkpoints on the monitored metric,
    the version's loggers (rank zero only) told how the fit ended, resuming from
    ``last.ckpt`` when ``resume``. The validation-record callbacks join the
    checkpoint callback ahead of ``train.trainer_paras.callbacks``."""
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import ModelCheckpoint

    from runway.experiment.validation_records import validation_callbacks
    from runway.logging.lightning import RunwayLightningLogger
    from runway.logging.loggers import LoggerSet
    from runway.logging.run import Run

    monitor = settings.train.monitor or built.default_monitor
    last = version.checkpoints_dir / f"{LAST_CHECKPOINT}.ckpt"
    checkpoint = ModelCheckpoint(
        dirpath=str(version.checkpoints_dir),
        filename=BEST_CHECKPOINT,
        monitor=monitor,
        mode=settings.train.mode_for(monitor) if monitor else "min",
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
    kwargs = trainer_kwargs(settings, version)
    kwargs["logger"] = with_runway_logger(kwargs.get("logger"), RunwayLightningLogger(loggers) if loggers is not None else None)
    callbacks = validation_callbacks(settings, version.train_dir)
    from runway.experiment.training_progress import training_lines

    lines = training_lines(version.label, enabled=not kwargs.get("enable_progress_bar", True))
    kwargs["callbacks"] = [checkpoint, *callbacks, *lines, *kwargs.get("callbacks", [])]
    if loggers is not None:
        loggers.start()
        for record in ("config.json", "provenance.json"):
            if (version.path / record).is_file():
                loggers.log_artifact(version.path / record, record)
    status = "failed"
    try:
        quiet_lightning()
        trainer = pl.Trainer(**kwargs)
        if trainer.is_global_zero:
            # how many processes trained: one rank per device per node
            version.update_provenance(world_size=int(trainer.world_size), num_nodes=int(trainer.num_nodes))
        start = str(last) if resume else settings.train.ckpt_path
        fit_options = {"weights_only": settings.train.ckpt_weights_only} if settings.train.ckpt_weights_only is not None else {}
        trainer.fit(built.module, datamodule=built.datamodule, ckpt_path=start, **fit_options)
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
        monitor=monitor or LATEST_EPOCH,
        metrics={k: float(v) for k, v in trainer.callback_metrics.items() if getattr(v, "numel", lambda: 1)() == 1},
    )


def with_runway_logger(given: Any, runway_logger: Any) -> Any:
    """The Trainer's ``logger``: Runway's beside the ones ``trainer_paras`` gives.

    ``None``/``True`` (Lightning's default logger) mean Runway's alone and
    ``False`` no logger at all, as in Lightning; a logger or a list of them
    is kept, with Runway's first, so that ``self.log`` still reaches the
    version's loggers. Off rank zero Runway has none.
    """
    if given is False:
        return False
    if given is None or given is True:
        return runway_logger if runway_logger is not None else False
    extra = list(given) if isinstance(given, (list, tuple)) else [given]
    return [runway_logger, *extra] if runway_logger is not None else extra


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
