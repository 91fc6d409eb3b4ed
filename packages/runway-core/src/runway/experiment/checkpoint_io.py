"""Checkpoint files that are whole or absent, whatever stops the process.

Lightning writes a checkpoint into a temporary file of the *system* temp
folder and moves it into place. That is a rename when the temp folder is on
the checkpoints' filesystem, but a copy onto the final name when it is not
(``/tmp`` on tmpfs, experiments on disk): a kill or a full disk during the
copy then leaves a torn ``last.ckpt`` where a good one was. Runway's trainers
use :class:`AtomicCheckpointIO` instead, which writes the bytes into a hidden
temporary file next to the checkpoint, flushes it to disk and renames it over
the final name; a leftover temporary file never ends in ``.ckpt``.

A checkpoint read back (``--resume``, ``infer``) is checked first by
:func:`check_checkpoint`: a truncated or garbage file is a
:class:`DamagedCheckpoint` naming it (exit 2), never a torch traceback.
A save that runs out of space is a :class:`CheckpointNotSaved` naming the
file; the previous checkpoint stays.

Imports Lightning at the top: only training and inference code import this module.
"""

from __future__ import annotations

import errno
import os
import zipfile
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.fabric.utilities.cloud_io import get_filesystem

from runway.errors import RunwayError
from runway.support.files import DamagedFile, atomic_output

PARTIAL_SUFFIX = ".partial"
# what torch.save's legacy (pre-zip) format starts with: a pickled magic number
_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class DamagedCheckpoint(DamagedFile):
    """A checkpoint file that exists but is not a whole torch checkpoint."""


class CheckpointNotSaved(RunwayError):
    """A checkpoint could not be written (a full disk, a quota); the previous one is kept."""


def check_checkpoint(path: Path | str) -> None:
    """Raise :class:`DamagedCheckpoint` unless ``path`` is a whole torch checkpoint.

    Cheap, whatever the checkpoint's size: a checkpoint written by
    ``torch.save`` is a zip archive, so its central directory must be at the
    end of the file, hold a pickled ``data.pkl`` record, and every member
    must lie inside the file. A truncated file loses the directory; garbage
    has none. (The archive's CRCs are not read: that would read every byte.)
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(len(_LEGACY_MAGIC))
    except FileNotFoundError:
        raise DamagedCheckpoint(path, "missing") from None
    except IsADirectoryError:
        raise DamagedCheckpoint(path, "a folder, not a checkpoint file") from None
    except OSError as exc:
        raise DamagedCheckpoint(path, exc.strerror or str(exc)) from None
    if size == 0:
        raise DamagedCheckpoint(path, "empty: the save that wrote it never finished")
    if head == _LEGACY_MAGIC:
        return  # torch's legacy format has no directory to check; torch.load tells
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise DamagedCheckpoint(path, f"not a whole torch checkpoint ({exc}); it was truncated or is not a checkpoint") from None
    if not any(m.filename == "data.pkl" or m.filename.endswith("/data.pkl") for m in members):
        raise DamagedCheckpoint(path, "a zip archive without the data.pkl record of a torch checkpoint")
    for member in members:
        if member.header_offset + member.compress_size > size:
            raise DamagedCheckpoint(path, f"truncated: its member {member.filename} runs past the end of the file")


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
        try:
            with atomic_output(target, suffix=PARTIAL_SUFFIX) as handle:
                torch.save(checkpoint, handle)
        except (OSError, RuntimeError) as exc:
            # torch's zip writer may report the failed write as a RuntimeError raised while it
            # closes the archive, with the OSError as its context
            cause = _no_space(exc)
            if cause is None:
                raise
            raise CheckpointNotSaved(
                f"cannot write checkpoint {target}: {cause.strerror or os.strerror(cause.errno)}; "
                "the previous checkpoint is kept. Free space, then resume with --resume"
            ) from None


def _no_space(exc: BaseException | None) -> OSError | None:
    """The out-of-space OSError in ``exc``'s chain, if any."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def with_atomic_checkpoints(trainer_kwargs: dict[str, Any]) -> dict[str, Any]:
    """``trainer_kwargs`` with :class:`AtomicCheckpointIO` added, unless the
    config already chose its own ``plugins`` (they win, as every trainer_para)."""
    if "plugins" not in trainer_kwargs:
        trainer_kwargs["plugins"] = [AtomicCheckpointIO()]
    return trainer_kwargs
