"""Where ``datasets`` writes intermediate Arrow files for our transforms.

``Dataset.map``, ``filter``, ``shuffle`` and ``train_test_split`` write their
results next to the input's Arrow files by default. An input loaded from a
Runway cache entry lives *inside* that entry, so the defaults would grow
trusted cache folders with stray ``cache-*.arrow`` files. Our transforms
send those files to one scratch folder per process instead, removed at exit;
whatever must persist is copied out by the Arrow cache format's
``save_to_disk``.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

_lock = threading.Lock()
_folder: Path | None = None


def scratch_folder() -> Path:
    """This process's scratch folder (created on first use)."""
    global _folder
    with _lock:
        if _folder is None:
            _folder = Path(tempfile.mkdtemp(prefix="runway-hf-"))
            atexit.register(shutil.rmtree, _folder, True)
        return _folder


def scratch_file(kind: str) -> str:
    """A fresh Arrow file name in the scratch folder (``kind`` aids debugging)."""
    return str(scratch_folder() / f"{kind}-{uuid.uuid4().hex}.arrow")
