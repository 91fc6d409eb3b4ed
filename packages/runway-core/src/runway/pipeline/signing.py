"""Signing cache entries whose load can run code, with a key kept outside the cache.

A checksum in ``meta.json`` only proves that the data is what ``meta.json``
says; whoever can write the cache folder can write both. For a format whose
load runs code (pickle) that is not enough on a cache shared by a group or
a cluster, so such entries also carry an HMAC-SHA256 ``signature`` over the
entry's node folder, key, format and full data checksum, made with a key
that never lives in the cache folder:

1. ``RUNWAY_CACHE_KEY``: the key itself (any text), e.g. from a scheduler's
   secret store;
2. ``RUNWAY_CACHE_KEY_FILE``: a file holding it, e.g. one readable by the
   group that shares a cache (``chmod 640``), on a filesystem every node
   mounts;
3. otherwise ``$XDG_CONFIG_HOME/runway/cache.key`` (``~/.config/runway``),
   created on first use with mode 0600. A home folder shared by the
   cluster's nodes gives every job of one user the same key.

An entry signed with another key (someone else's, or one written before
signing) is recomputed, never loaded. When no key can be read or created,
code-running entries are never loaded either: the warning says how to
provide one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_ENV = "RUNWAY_CACHE_KEY"
KEY_FILE_ENV = "RUNWAY_CACHE_KEY_FILE"
_DOMAIN = b"runway-cache-entry-v1\0"


class NoSigningKey(Exception):
    """No key to sign or verify with; the message says where one was looked for."""


def default_key_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "runway" / "cache.key"


def _create_key_file(path: Path) -> None:
    """Write a fresh random key to ``path`` unless one appears meanwhile (racing creators agree)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # fails when another process created it first: theirs wins
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def signing_key() -> bytes:
    """The key (see the module docstring); raises :class:`NoSigningKey`."""
    given = os.environ.get(KEY_ENV)
    if given:
        return given.encode("utf-8")
    named = os.environ.get(KEY_FILE_ENV)
    path = Path(named) if named else default_key_file()
    try:
        if not named and not path.exists():
            _create_key_file(path)
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise NoSigningKey(
            f"no cache signing key: cannot read or create {path} ({getattr(exc, 'strerror', None) or exc}); "
            f"set {KEY_ENV} or {KEY_FILE_ENV}"
        ) from None
    if not text:
        raise NoSigningKey(f"the cache signing key file {path} is empty; set {KEY_ENV} or {KEY_FILE_ENV}")
    return text.encode("utf-8")


def sign(folder: str, key: str, fmt: str, checksum: str, secret: bytes | None = None) -> str:
    """The signature of one entry."""
    message = _DOMAIN + "\0".join((folder, key, fmt, checksum)).encode("utf-8")
    return hmac.new(secret if secret is not None else signing_key(), message, hashlib.sha256).hexdigest()


def verify(folder: str, key: str, fmt: str, checksum: str, signature: object) -> bool:
    """Whether ``signature`` is this key's signature of the entry (constant time)."""
    if not isinstance(signature, str):
        return False
    return hmac.compare_digest(sign(folder, key, fmt, checksum), signature)
