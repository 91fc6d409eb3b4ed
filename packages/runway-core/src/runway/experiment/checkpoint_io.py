"""Checkpoint files that are whole or absent, whatever stops the process.

Lightning writes a checkpoint into a temporary file of the *system* temp
folder and moves it into place. That is a rename when the temp folder is on
the checkpoints' filesystem, but a copy onto the final name when it is not
(``/tmp`` on tmpfs, experiments on disk): a kill or a full disk during the
copy then leaves a torn ``last.ckpt`` where a good one was. Runway's trainers
use :class:`AtomicCheckpointIO` instead, which writes the bytes into a hidden
temporary file next to the checkpoint, flushes it to disk and renames it over
the final name; a leftover temporary file never ends in ``.ckpt``.

Imports Lightning at the top: only training code imports this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.fabric.utilities.cloud_io import get_filesystem

from runway.support.files import atomic_output

PARTIAL_SUFFIX = ".partial"


def _is_local(path: Any) -> bool:
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(get_filesystem(str(path)), LocalFileSystem)


class AtomicCheckpointIO(TorchCheckpointIO):
    """``TorchCheckpointIO`` whose local saves are a same-folder write and rename."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None or not _is_local(path):
            super().save_checkpoint(checkpoint, path, storage_options=storage_options)
            return
        target = Path(path)
        for stale in target.parent.glob(f".{target.name}.*{PARTIAL_SUFFIX}"):  # left by a killed save
            stale.unlink(missing_ok=True)
        with atomic_output(target, suffix=PARTIAL_SUFFIX) as handle:
            torch.save(checkpoint, handle)


def with_atomic_checkpoints(trainer_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``trainer_kwargs`` with :class:`AtomicCheckpointIO` added, unless the
    config already chose its own ``plugins`` (they win, as every trainer_para)."""
    if "plugins" not in trainer_kwargs:
        trainer_kwargs["plugins"] = [AtomicCheckpointIO()]
    return trainer_kwargs
