"""Inference: a trained version's checkpoint on its test data, written per sample.

``runway infer NAME SUFFIX`` writes ``test-<SUFFIX>/``:

``records.parquet``
    one row per sample: ``index``, ``input`` (a short summary),
    ``prediction``, ``target`` (and whatever else the executor records);
    tensors become lists, images PNG files under ``images/`` (see
    :mod:`runway.experiment.records`; ``runway show NAME --records SUFFIX``
    prints them as JSON lines).
``summary.json``
    sample count, the checkpoint (path, which, sha256), the data's cache
    keys, which step the records came from and, when ``test_step`` ran, the
    metrics it logged (``test_metrics``).
``config.json``
    the config used (secrets redacted).

One body for both executor forms (:func:`runway.experiment.modules.build_module`).
``predict_step`` runs when the module defines one, or defines no
``test_step``, over the data's ``predict_dataloader`` (else its
``test_dataloader``); otherwise ``trainer.test`` runs ``test_step``: what it
returns becomes records (nothing, when it only logs) and what it logs joins
``summary.json``. The split comes from ``test.split`` (default ``test``), a
name in ``executor.data``. A missing checkpoint is an error: inference never
runs untrained weights.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from runway.experiment.lightning_noise import quiet_lightning
from runway.experiment.modules import PREDICT, BuiltModule, build_module, overrides
from runway.experiment.preparation import seed_everything
from runway.experiment.records import RECORDS_FILE, write_records
from runway.experiment.settings import Settings
from runway.experiment.step_records import finite_metrics, record_collector_class
from runway.experiment.store import Version
from runway.experiment.training import find_checkpoint
from runway.support.clock import now_iso
from runway.support.files import write_json

SUMMARY_FILE = "summary.json"
#: trainer arguments of ``train.trainer_paras`` that prediction keeps
PREDICT_TRAINER_ARGS = ("limit_predict_batches", "limit_test_batches", "precision", "inference_mode")
PREDICT_STEP = "predict_step"
TEST_STEP = "test_step"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def infer_version(
    version: Version,
    suffix: str,
    config: dict[str, Any],
    project: Any,
    plugins: Any,
    *,
    settings: Settings,
    checkpoint: str = "best",
    dummy: bool = False,
) -> Path:
    """Predict the test split with ``checkpoint`` and write ``test-<suffix>/``."""
    from runway.experiment.executor import ExecutorContext

    ckpt_path = find_checkpoint(version, checkpoint)  # before any work: a missing one is bad input
    seed_everything(settings)
    context = ExecutorContext(
        experiment=version.name,
        version=version.number,
        version_dir=version.path,
        project=project,
        plugins=plugins,
        stage=PREDICT,
        settings=settings,
    )
    built = build_module(config, settings, context, plugins, PREDICT, checkpoint=ckpt_path, dummy=dummy)
    out_dir = version.test_dir(suffix)
    records, extra = run_records(built, settings, out_dir)
    lines = [{"index": index, **record} for index, record in enumerate(records)]
    write_test_dir(
        out_dir, version, suffix, config, lines,
        split=settings.test.split, checkpoint=checkpoint, ckpt_path=ckpt_path, data=built.data_keys, **extra,
    )
    return out_dir


def run_records(built: BuiltModule, settings: Settings, out_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run ``built``'s predict (or test) step over its test data; the records and
    the summary fields that say how they were made."""
    import lightning.pytorch as pl

    module, datamodule = built.module, built.datamodule
    collector = record_collector_class()(built.records)
    trainer = predict_trainer(settings, out_dir, callbacks=[collector, batch_progress(f"infer {out_dir.parent.name} {out_dir.name}")])
    uses_predict = overrides(module, PREDICT_STEP, pl.LightningModule) or not overrides(module, TEST_STEP, pl.LightningModule)
    extra: dict[str, Any] = {}
    if not uses_predict:
        results = trainer.test(module, datamodule=datamodule, verbose=False) or [{}]
        extra["records_from"] = TEST_STEP
        metrics = finite_metrics(results[0])
        if metrics:
            extra["test_metrics"] = metrics
        return collector.records, extra
    extra["records_from"] = PREDICT_STEP
    if datamodule is not None:
        if overrides(datamodule, "predict_dataloader", pl.LightningDataModule):
            trainer.predict(module, datamodule=datamodule, return_predictions=False)
        else:  # the datamodule serves test data only: run predict_step over it
            datamodule.prepare_data()
            datamodule.setup("test")
            trainer.predict(module, dataloaders=datamodule.test_dataloader(), return_predictions=False)
    elif overrides(module, "predict_dataloader", pl.LightningModule):
        trainer.predict(module, return_predictions=False)
    else:
        trainer.predict(module, dataloaders=module.test_dataloader(), return_predictions=False)
    return collector.records, extra


def batch_progress(description: str) -> Any:
    """A Lightning callback that shows the predict (or test) batches done (:mod:`runway.support.progress`)."""
    import lightning.pytorch as pl

    from runway.support.progress import progress

    class BatchProgress(pl.Callback):
        def __init__(self) -> None:
            self.bar: Any = None

        def _start(self, batches: Any) -> None:
            total = sum(b for b in batches if isinstance(b, int)) if isinstance(batches, (list, tuple)) else None
            self.bar = progress(description, total or None, unit="batches")

        def _advance(self) -> None:
            if self.bar is not None:
                self.bar.advance()

        def _end(self) -> None:
            if self.bar is not None:
                self.bar.close()
                self.bar = None

        def on_predict_start(self, trainer: Any, pl_module: Any) -> None:
            self._start(trainer.num_predict_batches)

        def on_predict_batch_end(self, trainer: Any, *args: Any, **kwargs: Any) -> None:
            self._advance()

        def on_predict_end(self, trainer: Any, pl_module: Any) -> None:
            self._end()

        def on_test_start(self, trainer: Any, pl_module: Any) -> None:
            self._start(trainer.num_test_batches)

        def on_test_batch_end(self, trainer: Any, *args: Any, **kwargs: Any) -> None:
            self._advance()

        def on_test_end(self, trainer: Any, pl_module: Any) -> None:
            self._end()

        def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
            self._end()

    return BatchProgress()


def predict_trainer(settings: Settings, out_dir: Path, callbacks: list[Any] | None = None) -> Any:
    """A quiet single-device Lightning ``Trainer`` for prediction: no logger, no checkpoints.

    The ``train.trainer_paras`` that say how to predict (:data:`PREDICT_TRAINER_ARGS`)
    apply here as well, as LightningCLI's ``trainer`` section applies to its
    ``predict`` and ``test`` subcommands.
    """
    import lightning.pytorch as pl

    quiet_lightning()
    paras = settings.train.trainer_paras
    return pl.Trainer(
        **{key: paras[key] for key in PREDICT_TRAINER_ARGS if paras.get(key) is not None},
        accelerator=paras.get("accelerator", "auto"),
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(out_dir),
        callbacks=callbacks,
    )


def write_test_dir(
    out_dir: Path,
    version: Version,
    suffix: str,
    config: dict[str, Any],
    records: list[dict[str, Any]],
    *,
    split: str,
    checkpoint: str,
    ckpt_path: Path,
    data: Any,
    **summary: Any,
) -> None:
    """Write ``test-<suffix>/``: the redacted config, the records and ``summary.json``
    (``summary`` adds fields to it)."""
    from runway.config import redact

    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "config.json", redact(config))
    write_records(out_dir / RECORDS_FILE, records)
    write_json(
        out_dir / SUMMARY_FILE,
        {
            "experiment": version.name,
            "version": version.number,
            "suffix": suffix,
            "split": split,
            "count": len(records),
            "checkpoint": {"which": checkpoint, "path": str(ckpt_path), "sha256": sha256_of(ckpt_path)},
            "data": data,
            "created": now_iso(),
            **summary,
        },
    )
