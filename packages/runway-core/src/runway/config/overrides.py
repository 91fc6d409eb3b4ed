"""``--opts`` overrides: parsed as data, applied to the evaluated config.

Forms (``PATH`` is a dotted path, see :mod:`runway.config.paths`):

``PATH=VALUE``
    replace an existing key or list item; a missing key is an error that
    names the closest existing keys.
``+PATH=VALUE``
    add a key, or replace it if it exists; missing intermediate objects are
    created. On a list, ``+a.items.N=v`` with ``N`` equal to the length appends.
``~PATH``
    delete a key or list item (it must exist).

``VALUE`` is a JSON literal where it parses as one (``3``, ``1e-4``,
``true``, ``null``, ``[1,2]``, ``{"a":1}``, ``"quoted"``) and a plain string
otherwise (``adamw``, ``a=b``, empty). ``NaN``, ``Infinity`` and numbers too
large for a float stay strings, so a config is always valid JSON. The token is
split on the first unescaped ``=`` only. Nothing is evaluated as code.

An override may reach at most :data:`MAX_DEPTH` levels deep (its path and
its value's nesting together): configs are walked recursively, and a
500-segment path is a typo or an attack, never a config.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from runway.config.paths import format_path, split_key
from runway.errors import ConfigError, closest

Operation = Literal["set", "add", "delete"]

#: how deep an override may reach: path segments plus the nesting of its value
MAX_DEPTH = 100

#: Python spellings of JSON literals, refused with the JSON one as a hint
_PYTHON_LITERALS = {"True": "true", "False": "false", "None": "null"}


@dataclass(frozen=True)
class Override:
    """One parsed override: what to do, where, with which value."""

    op: Operation
    path: tuple[str, ...]
    value: Any = None
    text: str = ""

    @property
    def dotted(self) -> str:
        return format_path(self.path)


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(name)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NotJson(text)
    return number


def parse_value(text: str) -> Any:
    """A JSON literal where ``text`` is one, else ``text`` itself."""
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):  # JSONDecodeError and _NotJson are ValueErrors
        return text


def parse_override(token: str) -> Override:
    """Parse one ``--opts`` token; a malformed one raises :class:`ConfigError`."""
    if not isinstance(token, str):
        raise ConfigError(f"--opts {token!r}: expected a string like KEY=VALUE")
    if token.startswith("~"):
        path, rest = split_key(token[1:])
        if rest is not None:
            raise ConfigError(f"--opts {token!r}: '~KEY' deletes a key and takes no value")
        op: Operation = "delete"
        value = None
    else:
        add = token.startswith("+")
        path, rest = split_key(token[1:] if add else token)
        if rest is None:
            raise ConfigError(
                f"--opts {token!r}: expected KEY=VALUE (or +NEW.KEY=VALUE to add, ~KEY to delete)"
            )
        op = "add" if add else "set"
        if rest in _PYTHON_LITERALS:
            # runway_for_ml evaluated --opts values as Python; as a JSON string
            # 'False' would be truthy, so refuse it rather than guess
            raise ConfigError(
                f"--opts {_short(token)}: {rest} is Python; write {_PYTHON_LITERALS[rest]} "
                f"(values are JSON), or '\"{rest}\"' for the string"
            )
        value = parse_value(rest)
        if isinstance(value, str) and rest[:1] in ("[", "{"):
            raise ConfigError(f"--opts {_short(token)}: {_unquoted_hint(token, rest)}")
    if any(segment == "" for segment in path):
        raise ConfigError(f"--opts {_short(token)}: empty key in the dotted path")
    depth = len(path) + nesting(value)
    if depth > MAX_DEPTH:
        raise ConfigError(
            f"--opts {_short(token)}: reaches {depth} levels deep (its path has {len(path)} segments); "
            f"an override may reach at most {MAX_DEPTH}"
        )
    return Override(op=op, path=path, value=value, text=token)


def _unquoted_hint(token: str, rest: str) -> str:
    """What to write for a list or object value that is no JSON (``[a,b]``: its strings unquoted)."""
    key = token[: len(token) - len(rest) - 1]
    inner = rest.strip()[1:-1] if rest.strip()[-1:] in ("]", "}") else None
    if rest.startswith("[") and inner is not None and "[" not in inner and "{" not in inner:
        items = [item.strip() for item in inner.split(",") if item.strip()]
        fixed = json.dumps([parse_value(item) for item in items], separators=(",", ":"))
        return (
            f"{rest} is no JSON list, so it would become a string; write {key}='{fixed}' "
            "(strings in double quotes, the whole value in single quotes for the shell)"
        )
    return (
        f"{rest} is no JSON {'list' if rest.startswith('[') else 'object'}, so it would become a string; "
        "write it as JSON inside single quotes for the shell, e.g. "
        f"""{key}='["a","b"]' or {key}='{{"k":1}}', or '"{rest}"' for the string"""
    )


def _short(token: str, limit: int = 120) -> str:
    return repr(token) if len(token) <= limit else repr(token[:limit]) + f"... ({len(token)} characters)"


def nesting(value: Any) -> int:
    """How many containers deep ``value`` goes (0 for a scalar), without recursion."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
    return deepest


def parse_overrides(tokens: Iterable[str]) -> list[Override]:
    """Parse ``--opts`` tokens, in order; each token is one override."""
    return [parse_override(token) for token in tokens]


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON tree (dicts, lists, scalars)."""
    # A JSON tree holds only dicts, lists and immutable scalars; this is much
    # faster than copy.deepcopy and keeps the caller's config untouched.
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


def json_type(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return type(value).__name__


def _all_paths(value: Any, prefix: tuple[str, ...] = ()) -> Iterable[str]:
    """Every path in a tree, inner nodes included (candidates for suggestions)."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        path = (*prefix, str(key))
        yield format_path(path)
        yield from _all_paths(item, path)


def _missing_key_error(override: Override, config: dict, depth: int, container: Any) -> ConfigError:
    where = format_path(override.path[:depth]) or "the top level"
    missing = format_path(override.path[: depth + 1])
    message = f"--opts {override.text!r}: the config has no key {missing!r}"
    suggestions = closest(override.dotted, _all_paths(config)) or closest(
        missing, _all_paths(config)
    )
    if suggestions:
        message += ". Closest existing keys: " + ", ".join(repr(s) for s in suggestions)
    elif isinstance(container, dict):
        keys = sorted(map(str, container))
        shown = ", ".join(keys[:15]) + (", ..." if len(keys) > 15 else "")
        message += f". Keys at {where}: {shown or '(none)'}"
    if override.op == "set":
        message += f". To add it, write '+{override.text}'"
    from runway.compat.keys import seed_key_hint

    hint = seed_key_hint(override.dotted) or seed_key_hint(missing)
    if hint:
        message += f". {hint}"
    return ConfigError(message)


def _index(override: Override, segment: str, items: list, depth: int, *, allow_end: bool) -> int:
    where = format_path(override.path[:depth])
    if not segment.isdigit() or not segment.isascii():
        raise ConfigError(
            f"--opts {override.text!r}: {where!r} is a list; use an index 0..{len(items) - 1}, not {segment!r}"
        )
    index = int(segment)
    limit = len(items) if allow_end else len(items) - 1
    if index > limit:
        raise ConfigError(
            f"--opts {override.text!r}: index {index} is out of range; {where!r} has {len(items)} items"
        )
    return index


def _apply_one(config: dict, override: Override) -> None:
    node: Any = config
    last = len(override.path) - 1
    for depth, segment in enumerate(override.path):
        is_last = depth == last
        if isinstance(node, dict):
            if is_last:
                if override.op == "add":
                    node[segment] = override.value
                elif segment not in node:
                    raise _missing_key_error(override, config, depth, node)
                elif override.op == "set":
                    node[segment] = override.value
                else:
                    del node[segment]
                return
            if segment not in node:
                if override.op != "add":
                    raise _missing_key_error(override, config, depth, node)
                node[segment] = {}
            node = node[segment]
        elif isinstance(node, list):
            appending = is_last and override.op == "add"
            index = _index(override, segment, node, depth, allow_end=appending)
            if is_last:
                if index == len(node):
                    node.append(override.value)
                elif override.op == "delete":
                    del node[index]
                else:
                    node[index] = override.value
                return
            node = node[index]
        else:
            where = format_path(override.path[:depth])
            raise ConfigError(
                f"--opts {override.text!r}: {where!r} is {json_type(node)}, not an object or a list, "
                f"so it has no key {segment!r}; set {where!r} itself to replace it"
            )


def apply_overrides(config: dict, overrides: Sequence[Override | str]) -> dict:
    """A copy of ``config`` with the overrides applied in order.

    ``overrides`` are :class:`Override` objects or raw ``--opts`` tokens. The
    input config is not changed.
    """
    result = copy_json(config)
    for override in overrides:
        parsed = parse_override(override) if isinstance(override, str) else override
        _apply_one(result, parsed)
    return result
