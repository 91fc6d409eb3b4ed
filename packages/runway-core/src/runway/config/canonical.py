"""One byte-exact form of a config, its fingerprint, flattening and diffs.

The canonical form is JSON with sorted keys, no whitespace (``,`` and ``:``),
non-ASCII characters as UTF-8 rather than ``\\u`` escapes, and no ``NaN`` or
``Infinity``. Two configs that mean the same have the same canonical form
whatever the key order of the files they came from, so the fingerprint (the
SHA-256 hex digest of that form's UTF-8 bytes) identifies what runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from runway.config.paths import format_path
from runway.errors import ConfigError


def canonical_json(config: Any) -> str:
    """The canonical JSON text of ``config`` (see the module docstring)."""
    try:
        return json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        where = non_finite_key(config)
        if where is not None:
            raise ConfigError(
                f"the config is not plain JSON: its {where!r} is {_show_float(config, where)}, which JSON "
                "cannot hold (use a finite number or null)"
            ) from None
        raise ConfigError(f"the config is not plain JSON: {exc}") from None
    except (TypeError, RecursionError) as exc:
        raise ConfigError(f"the config is not plain JSON: {exc}") from None


def non_finite_key(config: Any) -> str | None:
    """The dotted key of the first NaN or infinite number in ``config``, or ``None``."""
    import math

    stack: list[tuple[Any, tuple[str, ...]]] = [(config, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return format_path(path) or "(the whole config)"
        if isinstance(value, dict):
            stack.extend((item, (*path, str(key))) for key, item in reversed(list(value.items())))
        elif isinstance(value, (list, tuple)):
            stack.extend((item, (*path, str(i))) for i, item in reversed(list(enumerate(value))))
    return None


def _show_float(config: Any, where: str) -> str:
    from runway.config.paths import split_path

    value = config
    try:
        for segment in split_path(where):
            value = value[int(segment)] if isinstance(value, (list, tuple)) else value[segment]
    except (KeyError, IndexError, ValueError, TypeError, ConfigError):
        return "not finite"
    return str(value)


def fingerprint(config: Any) -> str:
    """SHA-256 hex digest of :func:`canonical_json` encoded as UTF-8."""
    return hashlib.sha256(canonical_json(config).encode("utf-8")).hexdigest()


def flatten(config: Any) -> dict[str, Any]:
    """Leaves of ``config`` by dotted path (list items by index).

    Empty objects and lists are leaves too, so that a diff sees them. Keys
    are written with :func:`runway.config.paths.format_path`, so each one is
    a valid ``--opts`` path.
    """
    flat: dict[str, Any] = {}

    def walk(value: Any, prefix: tuple[str, ...]) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                walk(item, (*prefix, str(key)))
        elif isinstance(value, list) and value:
            for index, item in enumerate(value):
                walk(item, (*prefix, str(index)))
        else:
            flat[format_path(prefix)] = value

    if isinstance(config, (dict, list)) and not config:
        return {}
    walk(config, ())
    return flat


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@dataclass
class ConfigDiff:
    """Flattened keys that differ between two configs ``a`` and ``b``.

    ``added``: in ``b`` only; ``removed``: in ``a`` only; ``changed``: key to
    ``(value in a, value in b)``. Falsy when the configs are equal.
    """

    added: dict[str, Any] = field(default_factory=dict)
    removed: dict[str, Any] = field(default_factory=dict)
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def lines(self) -> list[str]:
        """Human-readable lines, sorted by key: ``key: old -> new``,
        ``+ key: value`` (added), ``- key: value`` (removed)."""
        rows: list[tuple[str, str]] = []
        for key, (old, new) in self.changed.items():
            rows.append((key, f"  {key}: {_show(old)} -> {_show(new)}"))
        for key, value in self.added.items():
            rows.append((key, f"+ {key}: {_show(value)}"))
        for key, value in self.removed.items():
            rows.append((key, f"- {key}: {_show(value)}"))
        return [line for _, line in sorted(rows)]


def _same(a: Any, b: Any) -> bool:
    # 1 == 1.0 == True in Python; a config diff must still show a change of type
    return type(a) is type(b) and a == b


def diff_configs(a: Any, b: Any) -> ConfigDiff:
    """What changes from config ``a`` to config ``b``, key by flattened key."""
    flat_a, flat_b = flatten(a), flatten(b)
    diff = ConfigDiff()
    for key, value in flat_a.items():
        if key not in flat_b:
            diff.removed[key] = value
        elif not _same(value, flat_b[key]):
            diff.changed[key] = (value, flat_b[key])
    for key, value in flat_b.items():
        if key not in flat_a:
            diff.added[key] = value
    return diff
