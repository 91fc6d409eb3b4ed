"""Dotted key paths: ``train.optimizer.lr``, ``data_pipeline.nodes.0``.

A path is a tuple of segments. Written as text, segments are joined with
``.``; a backslash makes the next character literal, so a key that itself
holds a dot or an ``=`` (pipeline node names sometimes do) is still
reachable: ``data_pipeline.transforms.input\\.v2.cache``; ``\\~a`` is the key
``~a``, not a deletion. :func:`format_path`
writes exactly what :func:`split_path` reads back, and :func:`flatten`'s keys
use it, so every flattened key is a valid ``--opts`` path.
"""

from __future__ import annotations

from collections.abc import Iterable

from runway.errors import ConfigError

_SPECIAL = ("\\", ".", "=")
_OPERATORS = ("+", "~")


def format_path(segments: Iterable[object]) -> str:
    """Join segments with ``.``, escaping ``\\``, ``.`` and ``=`` inside them,
    and a leading ``+`` or ``~`` (which would read as add or delete)."""
    parts = []
    for segment in segments:
        text = str(segment)
        for char in _SPECIAL:
            text = text.replace(char, "\\" + char)
        parts.append(text)
    joined = ".".join(parts)
    return "\\" + joined if joined.startswith(_OPERATORS) else joined


def split_key(text: str) -> tuple[tuple[str, ...], str | None]:
    """Read a path up to the first unescaped ``=``.

    Returns the segments and the rest after ``=`` (``None`` when there is no
    ``=``). Only the first ``=`` splits, so values may contain more of them.
    """
    segments: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 == len(text):
                raise ConfigError(f"{text!r}: a backslash at the end of a key escapes nothing")
            current.append(text[i + 1])
            i += 2
            continue
        if char == "=":
            segments.append("".join(current))
            return tuple(segments), text[i + 1 :]
        if char == ".":
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    segments.append("".join(current))
    return tuple(segments), None


def split_path(text: str) -> tuple[str, ...]:
    """The segments of a dotted path (an unescaped ``=`` is an error here)."""
    segments, rest = split_key(text)
    if rest is not None:
        raise ConfigError(f"{text!r}: a key path cannot contain an unescaped '='")
    return segments
