"""Cache keys: a Merkle hash over everything that decides a node's output.

A node's key is the SHA-256 of the canonical JSON of its *key parts*:

``transform``
    the registered transform name;
``version``
    the transform class's ``version``;
``source``
    a digest of the transform's source code (every class of its MRO below
    :class:`~runway.pipeline.transform.Transform`, or the function), falling
    back to the qualified name where the source is unavailable;
``setup_kwargs``
    the node's ``setup_kwargs`` without keys that begin with ``_``: those are
    for settings that must not change the result (``_num_proc``,
    ``_batch_size``), so changing them reuses the cache;
``inputs``
    ``[[input node, its key], ...]`` in the order of ``input_node``, so a
    change anywhere upstream changes every key below it;
``files``
    ``{path: content digest}`` for the setup kwargs named by the class's
    ``file_inputs`` (paths relative to the project root; a folder is hashed
    file by file); a file unchanged since it was last hashed (same size,
    mtime and inode) is not read again (:mod:`runway.pipeline.input_digests`);
``dummy``
    whether dummy data was asked for, so the small sample never shadows the
    real data.

The parts are stored with each entry so that ``runway pipeline explain`` can
say which of them changed.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from runway.errors import PipelineError, RunwayError
from runway.pipeline.input_digests import InputDigests
from runway.pipeline.transform import FunctionTransform, Transform

_source_digests: dict[type, str] = {}


def _source_of(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        # built in C, defined in a REPL, or the file is gone: the name is all we know
        return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def source_digest(cls: type[Transform]) -> str:
    """SHA-256 of the source code that implements ``cls`` (cached per class)."""
    found = _source_digests.get(cls)
    if found is not None:
        return found
    digest = hashlib.sha256()
    if issubclass(cls, FunctionTransform):
        digest.update(_source_of(cls.function).encode("utf-8"))
    else:
        for klass in cls.__mro__:
            if klass is Transform or klass is object:
                break
            digest.update(_source_of(klass).encode("utf-8"))
    found = digest.hexdigest()
    _source_digests[cls] = found
    return found


def file_digest(path: Path, digests: InputDigests | None = None) -> str:
    """SHA-256 of a file's bytes, or of a folder's files (names and digests).

    ``digests`` remembers them across runs; without it every byte is read.
    """
    return (digests or InputDigests(None, full=True)).digest(path)


def _paths_of(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, Mapping):  # {split: path or [paths]}, as datasets' data_files
        return [path for key in sorted(value) for path in _paths_of(value[key])]
    raise TypeError(f"expected a path, a list of paths or a mapping of them, got {value!r}")


def file_digests(
    cls: type[Transform],
    setup_kwargs: Mapping[str, Any],
    *,
    root: Path,
    where: str,
    digests: InputDigests | None = None,
) -> dict[str, str]:
    """``{path as written: digest}`` for each file named by ``cls.file_inputs``.

    ``digests`` (the cache's manifest) spares re-reading unchanged files.
    """
    found: dict[str, str] = {}
    for kwarg in cls.file_inputs:
        try:
            paths = _paths_of(setup_kwargs.get(kwarg))
        except TypeError as exc:
            raise PipelineError(f"{where}.setup_kwargs.{kwarg}: {exc} (it is in {cls.__name__}.file_inputs)") from None
        for written in paths:
            path = Path(written)
            path = path if path.is_absolute() else root / path
            if not path.exists():
                raise PipelineError(f"{where}.setup_kwargs.{kwarg}: file {written!r} does not exist (looked at {path})")
            found[written] = file_digest(path, digests)
    return found


def hashed_setup_kwargs(setup_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The setup kwargs that join the key: those not beginning with ``_``."""
    return {k: v for k, v in setup_kwargs.items() if not str(k).startswith("_")}


def key_of(parts: Mapping[str, Any], *, node: str) -> str:
    """The cache key (hex SHA-256) of a node's key parts."""
    from runway.config import canonical_json
    from runway.pipeline.graph import node_key

    try:
        text = canonical_json(parts)
    except RunwayError as exc:
        raise PipelineError(f"{node_key(node, 'setup_kwargs')}: cannot be hashed: {exc}") from None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
