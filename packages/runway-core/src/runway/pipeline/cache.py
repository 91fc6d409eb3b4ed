"""The content-addressed cache of node outputs.

Layout under the project's cache folder (``local_cache/`` by default)::

    <node folder>/<key>/data/...        the output, written by its cache format
    <node folder>/<key>/meta.json       key parts, created, duration, size, format, checksum
    <node folder>/<key>/COMPLETE        written last: an entry without it is never used
    <node folder>/latest.json           the last key this node produced or loaded, with its parts
    <node folder>/latest-dummy.json     the same for runs on dummy data (kept apart)
    .locks/<node folder>-<key>.lock     one lock per entry

The node folder is the node name with characters other than letters,
digits, ``.``, ``_`` and ``-`` replaced by ``_`` and, when that changed the
name, a short hash of the name appended (so ``input:Load`` and ``input_Load``
never share a folder).

An entry is written into ``<node folder>/.tmp-<key>-<random>/`` and renamed
into place, while holding the entry's lock; readers hold the same lock while
they load, and ``runway cache gc`` deletes only entries whose lock it gets
without waiting. A cache folder this process cannot write (a read-only
shared cache) is read without locks: a complete entry is never changed in
place, only replaced by a rename, so reading it needs no lock; nodes that
must run are then computed without being stored.

A reader checks the completion marker, then the data files against
``meta.json``. What it checks depends on whether the entry's format can run
code when it loads (``runs_code``; a format that does not say is assumed
to):

* formats that cannot (JSON, ``weights_only`` torch, Arrow): the files'
  names, sizes and modification times (``files``) must match what was
  written, and only when any of them differs does the SHA-256 ``checksum``
  of their contents decide. Hashing every byte on every hit would cost more
  than a memory-mapped Arrow load itself; ``RUNWAY_CACHE_VERIFY=full``
  hashes anyway.
* formats that can (pickle): the full checksum on every load, and the
  entry's ``signature``, an HMAC of the checksum with a key kept outside
  the cache folder (:mod:`runway.pipeline.signing`), so a replaced file, or
  a replaced file with a matching ``meta.json``, is never unpickled.

An entry failing a check is reported and recomputed, never loaded.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from runway.errors import PipelineError
from runway.pipeline.formats import CyclicData, FormatRegistry
from runway.pipeline.signing import NoSigningKey, sign, verify
from runway.support.clock import now_iso
from runway.support.files import DamagedFile, json_text, read_json, write_json

COMPLETE_MARKER = "COMPLETE"
META_FILE = "meta.json"
DATA_DIR = "data"
LATEST_FILE = "latest.json"
# a dummy run's latest keys, apart, so that `pipeline explain` of a real run compares with a real one
LATEST_DUMMY_FILE = "latest-dummy.json"
LOCKS_DIR = ".locks"
TMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"


def latest_file(dummy: bool) -> str:
    """``latest.json``, or for dummy data ``latest-dummy.json``."""
    return LATEST_DUMMY_FILE if dummy else LATEST_FILE


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_KEY = re.compile(r"^[0-9a-f]{64}$")


class UnusableEntry(Exception):
    """A cache entry that exists but must not be loaded; the message says why."""


@functools.lru_cache(maxsize=65536)
def node_folder_name(node: str) -> str:
    """The folder that holds a node's entries (see the module docstring)."""
    safe = _UNSAFE.sub("_", node).lstrip(".") or "_"
    if safe != node:
        safe += "-" + hashlib.sha256(node.encode("utf-8")).hexdigest()[:8]
    return safe


def data_checksum(folder: Path) -> str:
    """SHA-256 over a folder's files: relative names and contents, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def file_manifest(folder: Path) -> dict[str, list[int]]:
    """``{relative name: [size, mtime_ns]}`` for a folder's files: cheap to compare."""
    manifest = {}
    for path in folder.rglob("*"):
        if path.is_file():
            stat = path.stat()
            manifest[path.relative_to(folder).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return manifest


def _full_verification() -> bool:
    return os.environ.get("RUNWAY_CACHE_VERIFY", "").strip().lower() == "full"


def runs_code(fmt: Any) -> bool:
    """Whether loading ``fmt``'s files can run code (formats that do not say are assumed to)."""
    return bool(getattr(fmt, "runs_code", True))


# errnos that say a folder cannot be written here, whoever owns it
_READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


class _NoLock:
    """What a reader of a read-only cache holds instead of a lock (see the module docstring)."""

    def __enter__(self) -> "_NoLock":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def acquire(self, *args: Any, **kwargs: Any) -> "_NoLock":
        return self

    def release(self, *args: Any, **kwargs: Any) -> None:
        return None


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@dataclass(frozen=True)
class EntryInfo:
    """One folder in the cache, as ``runway cache ls`` shows it."""

    node: str  # from meta.json; the folder name when meta.json is unreadable
    folder: str
    key: str
    path: Path
    complete: bool
    meta: Mapping[str, Any]
    size: int


class CacheStore:
    """Entries of one cache folder; see the module docstring for the layout."""

    def __init__(self, root: Path, formats: FormatRegistry) -> None:
        self.root = Path(root)
        self.formats = formats
        self._writable: bool | None = None

    @property
    def writable(self) -> bool:
        """Whether this process can create entries and locks here (checked once)."""
        if self._writable is None:
            self._writable = self._check_writable()
        return self._writable

    def _check_writable(self) -> bool:
        try:
            (self.root / LOCKS_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if exc.errno in _READ_ONLY_ERRNOS:
                return False
            raise
        return os.access(self.root / LOCKS_DIR, os.W_OK) and os.access(self.root, os.W_OK)

    # ----------------------------------------------------------------- paths

    def node_dir(self, node: str) -> Path:
        return self.root / node_folder_name(node)

    def entry_dir(self, node: str, key: str) -> Path:
        return self.node_dir(node) / key

    def lock(self, node: str, key: str, *, timeout: float = -1) -> FileLock:
        return self._lock_for(node_folder_name(node), key, timeout=timeout)

    def _lock_for(self, folder: str, key: str, *, timeout: float = -1) -> Any:
        if not self.writable:
            return _NoLock()
        return FileLock(str(self.root / LOCKS_DIR / f"{folder}-{key}.lock"), timeout=timeout)

    # ----------------------------------------------------------------- state

    def status(self, node: str, key: str) -> str:
        """``ok`` (complete), ``incomplete`` (no completion marker) or ``missing``.

        Cheap: the checksum is verified by :meth:`load`, not here. (Plain
        ``os.path`` on strings: planning a large graph calls this per node.)
        """
        entry = os.path.join(self.root, node_folder_name(node), key)
        if os.path.isfile(os.path.join(entry, COMPLETE_MARKER)):
            return "ok"
        return "incomplete" if os.path.exists(entry) else "missing"

    def read_latest(self, node: str, *, dummy: bool = False) -> dict[str, Any] | None:
        """The node's last key on real data (on dummy data: ``latest-dummy.json``, kept apart)."""
        try:
            return read_json(os.path.join(self.root, node_folder_name(node), latest_file(dummy)), None, expect=dict)
        except DamagedFile:
            return None

    def write_latest(self, node: str, key: str, parts: Mapping[str, Any]) -> None:
        if not self.writable:
            return
        folder = self.node_dir(node)
        folder.mkdir(parents=True, exist_ok=True)
        # not fsynced: a lost latest.json only costs a lookup, and prepare writes many
        record = {"node": node, "key": key, "parts": parts, "updated": now_iso()}
        write_json(folder / latest_file(bool(parts.get("dummy"))), record, durable=False)

    # ----------------------------------------------------------- read, write

    def load(self, node: str, key: str) -> tuple[Any, dict[str, Any]]:
        """The entry's data and meta; :class:`UnusableEntry` when it must not be used.

        The caller holds the entry's lock.
        """
        entry = self.entry_dir(node, key)
        if not entry.is_dir():
            raise UnusableEntry("no entry")
        if not (entry / COMPLETE_MARKER).is_file():
            raise UnusableEntry("entry has no completion marker (an interrupted write)")
        try:
            meta = read_json(entry / META_FILE, expect=dict)
        except DamagedFile as exc:
            raise UnusableEntry(f"meta.json unreadable: {exc.reason}") from None
        fmt = self.formats.get(str(meta.get("format")))
        if fmt is None:
            raise UnusableEntry(
                f"its format {meta.get('format')!r} is not registered (formats: {', '.join(self.formats.names())})"
            )
        if runs_code(fmt):
            self._verify_signed(node, key, fmt.name, entry, meta)
        else:
            unchanged = meta.get("files") == file_manifest(entry / DATA_DIR) and not _full_verification()
            if not unchanged and data_checksum(entry / DATA_DIR) != meta.get("checksum"):
                raise UnusableEntry("checksum mismatch: the data files changed after they were written")
        try:
            return fmt.load(entry / DATA_DIR), meta
        except Exception as exc:  # a format that cannot read its own files: recompute
            raise UnusableEntry(f"{fmt.name} format failed to load it: {exc!r}") from None

    def _verify_signed(self, node: str, key: str, fmt: str, entry: Path, meta: Mapping[str, Any]) -> None:
        """The full checksum and the signature of an entry whose load can run code."""
        checksum = data_checksum(entry / DATA_DIR)
        if checksum != meta.get("checksum"):
            raise UnusableEntry(f"checksum mismatch: the data files changed after they were written ({fmt} is only loaded whole)")
        if "signature" not in meta:
            raise UnusableEntry(f"it is not signed, and a {fmt} entry is only loaded when signed with this user's cache key")
        try:
            good = verify(node_folder_name(node), key, fmt, checksum, meta["signature"])
        except NoSigningKey as exc:
            raise UnusableEntry(str(exc)) from None
        if not good:
            raise UnusableEntry(
                f"its signature does not match this user's cache key (written by someone holding another key, or "
                f"tampered with); share one key through RUNWAY_CACHE_KEY_FILE to reuse each other's {fmt} entries"
            )

    def _signature(self, node: str, key: str, fmt: Any, checksum: str) -> dict[str, str]:
        if not runs_code(fmt):
            return {}
        try:
            return {"signature": sign(node_folder_name(node), key, fmt.name, checksum)}
        except NoSigningKey:
            return {}  # stored unsigned: never loaded, but this run still has its data

    def save(
        self, node: str, key: str, parts: Mapping[str, Any], data: Any, *, duration_s: float
    ) -> dict[str, Any]:
        """Write an entry atomically (the caller holds its lock); returns its meta.

        :raises PipelineError: the output holds a cycle, or its format cannot write it (naming the node).
        """
        try:
            fmt = self.formats.for_object(data)
        except CyclicData as exc:
            raise PipelineError(f"data pipeline node {node!r}: {exc}; a node's output must not contain itself") from None
        node_dir = self.node_dir(node)
        node_dir.mkdir(parents=True, exist_ok=True)
        self._remove_leftovers(node_dir, key)
        tmp = node_dir / f"{TMP_PREFIX}{key}-{uuid.uuid4().hex[:8]}"
        (tmp / DATA_DIR).mkdir(parents=True)
        try:
            try:
                fmt.save(data, tmp / DATA_DIR)
            except OSError:
                raise
            except RecursionError:
                raise PipelineError(
                    f"data pipeline node {node!r}: its output is nested too deeply for the {fmt.name} cache format; "
                    "set cache: false on the node"
                ) from None
            except Exception as exc:  # e.g. a lambda, a lock or an open file inside the output
                raise PipelineError(
                    f"data pipeline node {node!r}: its output cannot be cached with the {fmt.name} format: "
                    f"{type(exc).__name__}: {exc}. Return plain data, or set cache: false on the node"
                ) from None
            checksum = data_checksum(tmp / DATA_DIR)
            meta = {
                "node": node,
                "key": key,
                "parts": parts,
                "created": now_iso(),
                "duration_s": round(duration_s, 6),
                "size": folder_size(tmp / DATA_DIR),
                "format": fmt.name,
                "checksum": checksum,
                "files": file_manifest(tmp / DATA_DIR),
                **self._signature(node, key, fmt, checksum),
            }
            # the whole folder is renamed into place: its files need no atomic write of their own
            (tmp / META_FILE).write_text(json_text(meta), encoding="utf-8")
            (tmp / COMPLETE_MARKER).write_text(meta["created"] + "\n", encoding="utf-8")
            final = node_dir / key
            if final.exists():  # regenerated, or an incomplete one: move it aside first
                trash = node_dir / f"{TRASH_PREFIX}{key}-{uuid.uuid4().hex[:8]}"
                os.rename(final, trash)
                os.rename(tmp, final)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                os.rename(tmp, final)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OSError) and exc.filename is None:
                exc.filename = str(node_dir)  # a full disk says where: a format's write may not
            raise
        return meta

    def _remove_leftovers(self, node_dir: Path, key: str) -> None:
        """Temporary folders of this key left by a killed writer (we hold the lock)."""
        for prefix in (TMP_PREFIX, TRASH_PREFIX):
            for stale in node_dir.glob(f"{prefix}{key}-*"):
                shutil.rmtree(stale, ignore_errors=True)

    # ------------------------------------------------------- listing, gc

    def entries(self) -> Iterator[EntryInfo]:
        """Every entry folder, complete or not (temporary folders excluded)."""
        if not self.root.is_dir():
            return
        for node_dir in sorted(p for p in self.root.iterdir() if p.is_dir() and p.name != LOCKS_DIR):
            for entry in sorted(p for p in node_dir.iterdir() if p.is_dir() and _KEY.match(p.name)):
                try:
                    meta = read_json(entry / META_FILE, {}, expect=dict)
                except DamagedFile:
                    meta = {}
                yield EntryInfo(
                    node=str(meta.get("node") or node_dir.name),
                    folder=node_dir.name,
                    key=entry.name,
                    path=entry,
                    complete=(entry / COMPLETE_MARKER).is_file(),
                    meta=meta,
                    size=int(meta["size"]) if "size" in meta else folder_size(entry),
                )

    def latest_keys(self, *, dummy: bool = False) -> dict[str, str]:
        """Node folder -> the key its ``latest.json`` (``latest-dummy.json``) names."""
        found: dict[str, str] = {}
        if not self.root.is_dir():
            return found
        for node_dir in self.root.iterdir():
            if not node_dir.is_dir() or node_dir.name == LOCKS_DIR:
                continue
            try:
                found[node_dir.name] = str(read_json(node_dir / latest_file(dummy), expect=dict)["key"])
            except (DamagedFile, KeyError):
                continue
        return found

    def leftovers(self) -> Iterator[tuple[str, str, Path]]:
        """``(node folder, key, path)`` of temporary folders left by killed writers."""
        if not self.root.is_dir():
            return
        for node_dir in self.root.iterdir():
            if not node_dir.is_dir() or node_dir.name == LOCKS_DIR:
                continue
            for path in node_dir.iterdir():
                for prefix in (TMP_PREFIX, TRASH_PREFIX):
                    if path.name.startswith(prefix):
                        key = path.name[len(prefix) :].split("-", 1)[0]
                        yield node_dir.name, key, path

    def delete_if_unlocked(self, folder: str, key: str, path: Path) -> bool:
        """Delete ``path`` if the entry's lock is free right now; False when it is held."""
        lock = self._lock_for(folder, key, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            return False
        try:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            lock.release()
        return True
