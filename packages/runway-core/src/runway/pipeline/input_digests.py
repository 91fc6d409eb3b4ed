"""Input files hashed once per change: a manifest of file states beside the cache.

A node's key hashes the content of its ``file_inputs`` (see
:mod:`runway.pipeline.keys`). Reading a gigabyte of raw data on every
``prepare``, ``explain`` and ``train`` to find it unchanged is what git's
index and DVC's state database avoid, and so does this: the cache folder
holds ``.input-digests.json``,

.. code-block:: json

    {"version": 1, "files": {"/abs/path/train.parquet": [size, mtime_ns, inode, "sha256 hex"]}}

and a file whose size, modification time (ns) and inode all match its entry
is trusted to have that digest; any difference re-hashes it. A folder input
is hashed file by file, each through the manifest, so one changed file in a
folder of thousands re-reads only that file.

Limits, as git's: a rewrite that keeps size, mtime and inode (a tool that
restores timestamps, in place) goes unseen; ``RUNWAY_CACHE_VERIFY=full``
re-hashes every input (and refreshes the manifest). A file modified less than
:data:`RACY_SECONDS` before it was hashed is not recorded, since a second
write within the file system's timestamp granularity would keep its mtime.

Several processes may plan at once: each merges its new entries into the
manifest on disk under a file lock and replaces it atomically, so no update
is lost to a race and no reader sees half a file. The manifest is only an
accelerator: a damaged or unreadable one is ignored (and rewritten), and a
read-only cache folder is used without recording anything.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

MANIFEST_FILE = ".input-digests.json"
LOCK_FILE = "input-digests.lock"
FORMAT_VERSION = 1
RACY_SECONDS = 2.0
_CHUNK = 1 << 20
_LOCK_TIMEOUT_S = 30.0


def full_verification() -> bool:
    """Whether ``RUNWAY_CACHE_VERIFY=full`` asks for every input to be re-hashed."""
    return os.environ.get("RUNWAY_CACHE_VERIFY", "").strip().lower() == "full"


def _state(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def hash_file(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class InputDigests:
    """Content digests of input files, remembered in ``cache_root`` across runs.

    ``cache_root=None`` remembers nothing (every call hashes). Call
    :meth:`save` once the digests of a run are known.
    """

    def __init__(self, cache_root: Path | str | None, *, full: bool | None = None) -> None:
        self.cache_root = Path(cache_root) if cache_root is not None else None
        self.full = full_verification() if full is None else full
        self._known: dict[str, list[Any]] | None = None
        self._new: dict[str, list[Any]] = {}
        self.hashed: list[str] = []  # the files read in full, for tests and benchmarks

    @property
    def path(self) -> Path | None:
        return self.cache_root / MANIFEST_FILE if self.cache_root is not None else None

    def _read(self) -> dict[str, list[Any]]:
        if self.path is None:
            return {}
        from runway.support.files import DamagedFile, read_json

        try:
            data = read_json(self.path, None, expect=dict)
        except DamagedFile:
            return {}
        if not data or data.get("version") != FORMAT_VERSION or not isinstance(data.get("files"), dict):
            return {}
        return {
            name: entry
            for name, entry in data["files"].items()
            if isinstance(entry, list) and len(entry) == 4 and isinstance(entry[3], str)
        }

    def _known_entries(self) -> dict[str, list[Any]]:
        if self._known is None:
            self._known = {} if self.full else self._read()
        return self._known

    def file(self, path: Path) -> str:
        """The digest of one file, from the manifest when its state matches."""
        name = os.path.abspath(path)
        before = os.stat(name)
        state = _state(before)
        if not self.full:
            entry = self._new.get(name) or self._known_entries().get(name)
            if entry is not None and entry[:3] == state:
                return entry[3]
        started = time.time()
        found = hash_file(Path(name))
        self.hashed.append(name)
        if self.cache_root is not None and _state(os.stat(name)) == state and before.st_mtime < started - RACY_SECONDS:
            self._new[name] = [*state, found]
        return found

    def digest(self, path: Path) -> str:
        """A file's digest, or a folder's: the SHA-256 over its files' relative names and digests.

        The same values as hashing every byte again (keys stay valid whether
        or not a manifest was used).
        """
        if not path.is_dir():
            return self.file(path)
        digest = hashlib.sha256()
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(item.relative_to(path).as_posix().encode("utf-8") + b"\0")
            digest.update(self.file(item).encode("ascii"))
        return digest.hexdigest()

    def save(self) -> None:
        """Merge this run's new digests into the manifest on disk (locked, atomic).

        Failing to record (a read-only cache, a lock held too long) only costs
        a re-hash next time, so it is not an error.
        """
        if not self._new or self.cache_root is None:
            return
        from filelock import FileLock, Timeout

        from runway.support.files import write_json

        lock_dir = self.cache_root / ".locks"
        try:
            lock_dir.mkdir(parents=True, exist_ok=True)
            with FileLock(str(lock_dir / LOCK_FILE), timeout=_LOCK_TIMEOUT_S):
                merged = self._read()
                merged.update(self._new)
                # entries of files that are gone would otherwise pile up forever
                merged = {name: entry for name, entry in merged.items() if name in self._new or os.path.exists(name)}
                write_json(self.path, {"version": FORMAT_VERSION, "files": merged}, durable=False)
        except (OSError, Timeout):
            return
        self._known = merged
        self._new = {}
