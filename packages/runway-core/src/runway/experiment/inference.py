"""Inference: a trained version's checkpoint on its test data, written per sample.

``runway infer NAME SUFFIX`` writes ``test-<SUFFIX>/``:

``records.jsonl``
    one JSON object per sample: ``index``, ``input`` (a short summary),
    ``prediction``, ``target`` (and whatever else the executor records);
    tensors become lists, images PNG files under ``images/`` (see
    :mod:`runway.experiment.records`).
``summary.json``
    sample count, the checkpoint (path, which, sha256), the data's cache keys.
``config.json``
    the config used (secrets redacted).

The split comes from ``test.split`` (default ``test``), a name in
``executor.data``. A missing checkpoint is an error: inference never runs
untrained weights.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from runway.errors import ConfigError
from runway.experiment.lightning_noise import quiet_lightning
from runway.experiment.preparation import build_executor, prepare_data, seed_everything
from runway.experiment.records import RECORDS_FILE, write_json_atomic, write_records
from runway.experiment.status import now_iso
from runway.experiment.store import Version
from runway.experiment.training import find_checkpoint

SUMMARY_FILE = "summary.json"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_weights(executor: Any, checkpoint: Path) -> None:
    """Load a Lightning checkpoint's ``state_dict`` into ``executor`` (strictly)."""
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    if "state_dict" not in state:
        raise ConfigError(f"{checkpoint}: not a Lightning checkpoint (no 'state_dict')")
    executor.load_state_dict(state["state_dict"], strict=True)


def infer_version(
    version: Version,
    suffix: str,
    config: dict[str, Any],
    project: Any,
    plugins: Any,
    *,
    checkpoint: str = "best",
    dummy: bool = False,
) -> Path:
    """Predict the test split with ``checkpoint`` and write ``test-<suffix>/``."""
    from runway.experiment import class_path

    if class_path.uses_class_path(config):  # any LightningModule by import path: see class_path.py
        return class_path.infer_class_path(
            version, suffix, config, project, plugins, checkpoint=checkpoint, dummy=dummy
        )
    from runway.experiment.executor import ExecutorContext

    ckpt_path = find_checkpoint(version, checkpoint)  # before any work: a missing one is bad input
    split = str((config.get("test") or {}).get("split", "test"))
    seed_everything(config)
    data, keys = prepare_data(config, project, plugins, [split], dummy=dummy)
    if split not in data:
        raise ConfigError(f"test.split: {split!r} is not a key of executor.data")
    context = ExecutorContext(
        experiment=version.name,
        version=version.number,
        version_dir=version.path,
        project=project,
        data={"test": data[split]},
        plugins=plugins,
        stage="predict",
    )
    executor = build_executor(config, context, plugins)
    load_weights(executor, ckpt_path)
    out_dir = version.test_dir(suffix)
    trainer = predict_trainer(config, out_dir)
    batches = trainer.predict(executor, dataloaders=executor.predict_dataloader()) or []
    records = [{"index": index, **record} for index, record in enumerate(r for batch in batches for r in batch)]
    write_test_dir(out_dir, version, suffix, config, records, split=split, checkpoint=checkpoint, ckpt_path=ckpt_path, data=keys)
    return out_dir


def predict_trainer(config: dict[str, Any], out_dir: Path, callbacks: list[Any] | None = None) -> Any:
    """A quiet single-device Lightning ``Trainer`` for prediction: no logger, no checkpoints."""
    import lightning.pytorch as pl

    trainer_paras = (config.get("train") or {}).get("trainer_paras") or {}
    quiet_lightning()
    return pl.Trainer(
        accelerator=trainer_paras.get("accelerator", "auto"),
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
    write_json_atomic(out_dir / "config.json", redact(config))
    write_records(out_dir / RECORDS_FILE, records)
    write_json_atomic(
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
