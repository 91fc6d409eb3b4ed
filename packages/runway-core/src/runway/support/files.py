"""Writing files that readers never see half of, and reading JSON records that may be damaged.

One policy for every record Runway trusts later: the content goes to a
temporary file beside the target (``.<name>.<random>.tmp``, see
:func:`temporary_path`), is flushed and fsynced, and is renamed over the
target. :func:`atomic_output` gives the same for content that is streamed
(a checkpoint, an image) rather than held in memory. Files are created with the
process umask (``0666 & ~umask``), so a group sharing a project reads each
other's results; ``private=True`` makes a file readable by its owner only
(``0600``), for secrets.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from runway.errors import RunwayError

_MISSING: Any = object()


class DamagedFile(RunwayError):
    """A record exists but cannot be read: not UTF-8, not JSON, or not the expected shape."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: damaged ({reason})")


def temporary_path(path: Path | str, token: str | None = None, suffix: str = ".tmp") -> Path:
    """The hidden temporary file beside ``path`` that is renamed over it:
    ``.<name>.<token><suffix>``, ``token`` random unless given (a fixed one
    when several processes must agree on the name)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{token if token is not None else os.urandom(6).hex()}{suffix}")


@contextmanager
def atomic_output(
    path: Path | str, *, private: bool = False, durable: bool = True, suffix: str = ".tmp"
) -> Iterator[IO[bytes]]:
    """A binary file to write ``path``'s new content into; it replaces ``path``
    when the block ends, and is removed if the block raises.

    ``suffix`` ends the temporary file's name (so that a leftover never looks
    like the real thing, e.g. never ends in ``.ckpt``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path, suffix=suffix)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomic(path: Path | str, data: bytes | str, *, private: bool = False, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    ``durable=False`` skips the fsync (for many records flushed together).
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_output(path, private=private, durable=durable) as fh:
        fh.write(payload)
    return Path(path)


def json_text(data: Any) -> str:
    """``data`` as indented, key-sorted JSON (a trailing newline).

    Numbers JSON cannot hold (NaN, Infinity: a diverged loss in
    ``metrics.json``) are written as ``null``, so every record stays valid
    JSON. (A config's fingerprint refuses them instead, naming the key:
    :func:`runway.config.canonical.canonical_json`.)
    """
    try:
        return json.dumps(data, indent=2, sort_keys=True, default=str, allow_nan=False) + "\n"
    except ValueError:
        return json.dumps(finite(data), indent=2, sort_keys=True, default=str, allow_nan=False) + "\n"


def finite(data: Any) -> Any:
    """``data`` with NaN and infinite floats replaced by ``None`` (JSON has neither)."""
    import math
    from collections.abc import Mapping

    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, Mapping):
        return {key: finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite(value) for value in data]
    return data


def write_json(path: Path | str, data: Any, *, private: bool = False, durable: bool = True) -> Path:
    """Write ``data`` as JSON (:func:`json_text`), atomically."""
    return write_atomic(path, json_text(data), private=private, durable=durable)


def read_json(path: Path | str, default: Any = _MISSING, *, expect: type | None = None) -> Any:
    """The JSON in ``path``.

    A missing file returns ``default`` (or raises :class:`DamagedFile` when
    none is given); a file that is not UTF-8 or not JSON, or whose top level
    is not ``expect`` (e.g. ``dict``), raises :class:`DamagedFile` naming it.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if default is _MISSING:
            raise DamagedFile(path, "missing") from None
        return default
    except IsADirectoryError:
        raise DamagedFile(path, "a folder, not a file") from None
    except OSError as exc:
        raise DamagedFile(path, exc.strerror or str(exc)) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DamagedFile(path, "not UTF-8 text") from None
    except ValueError as exc:
        raise DamagedFile(path, f"not valid JSON: {exc}") from None
    if expect is not None and not isinstance(data, expect):
        raise DamagedFile(path, f"expected a JSON {'object' if expect is dict else expect.__name__}, got {type(data).__name__}")
    return data


def append_json_line(path: Path | str, record: dict[str, Any]) -> Path:
    """Append ``record`` to ``path`` as one JSON line, in a single ``write`` on a file
    opened for appending, so that concurrent writers never interleave within a line."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # the umask decides, as for every record
    try:
        os.write(fd, (json.dumps(record, sort_keys=True) + "\n").encode())
    finally:
        os.close(fd)
    return path


def read_json_lines(path: Path | str) -> list[dict[str, Any]]:
    """The JSON objects of ``path``, one per line, oldest first; a torn or foreign line is
    skipped, and a missing file has none (one that cannot be read raises ``OSError``)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found
