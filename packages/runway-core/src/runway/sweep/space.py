"""The search space of a sweep: ``--opts`` tokens read as axes, expanded to points.

A token is ``KEY=VALUES`` with ``KEY`` as in ``--opts`` (``+new.key`` adds):

``lr=1e-3,1e-4``
    a list of values, split on top-level commas (commas inside brackets,
    braces, parentheses or JSON strings do not split); each item is a JSON
    literal where it parses as one, else a string, as in ``--opts``.
``lr=[1e-3,1e-4]``
    a JSON list is a list of values too; to sweep list-valued keys, give a
    list of lists (``hidden=[[16],[32,32]]`` or ``hidden=[16],[32,32]``).
``lr=1e-3``
    one value: the same for every point.
``lr=loguniform(1e-5,1e-2)``, ``dropout=uniform(0,0.5)``, ``batch=int(16,128)``, ``layers=choice(2,3,4)``
    a range, sampled with ``--random N``: uniform and log-uniform floats in
    ``[low, high)``, integers in ``[low, high]`` (both ends included), or one
    of the listed values. In a grid, ``choice(...)`` is a list of values and
    the other ranges are an error.
``~KEY``
    deletes the key in every point.

The grid is the cartesian product of the axes in the order given, the last
axis changing fastest. Nothing is evaluated as code: ranges are recognised
by their name and their arguments are read as JSON literals.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from runway.config.overrides import parse_value
from runway.config.paths import split_key
from runway.errors import ConfigError

_RANGE = re.compile(r"^\s*(?P<name>[A-Za-z_]\w*)\s*\((?P<args>.*)\)\s*$", re.DOTALL)
_OPENERS = {"[": "]", "{": "}", "(": ")"}
RANGE_NAMES = ("choice", "int", "loguniform", "uniform")


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split ``text`` on ``separator`` outside brackets, braces, parentheses and JSON strings.

    Raises :class:`ValueError` on unbalanced brackets or an unterminated string.
    """
    parts: list[str] = []
    current: list[str] = []
    closers: list[str] = []
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            current.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in _OPENERS:
            closers.append(_OPENERS[char])
        elif char in _OPENERS.values():
            if not closers or closers.pop() != char:
                raise ValueError(f"unbalanced {char!r}")
        elif char == separator and not closers:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if in_string:
        raise ValueError("unterminated string")
    if closers:
        raise ValueError(f"missing {closers[-1]!r}")
    parts.append("".join(current))
    return parts


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Range:
    """A distribution to sample one value from: ``uniform``, ``loguniform``, ``int`` or ``choice``."""

    kind: str
    args: tuple[Any, ...]

    def sample(self, rng: random.Random) -> Any:
        if self.kind == "choice":
            return rng.choice(self.args)
        low, high = self.args
        if self.kind == "int":
            return rng.randint(low, high)
        if self.kind == "uniform":
            return rng.uniform(low, high)
        return math.exp(rng.uniform(math.log(low), math.log(high)))

    def text(self) -> str:
        return f"{self.kind}({','.join(json.dumps(a) for a in self.args)})"


def parse_range(text: str, where: str) -> Range | None:
    """The range that ``text`` writes (``loguniform(1e-5,1e-2)``...), or ``None`` if it is no range call.

    A call of an unknown name is an error, so that a typo is not swept as a string.
    """
    match = _RANGE.match(text)
    if match is None:
        return None
    kind = match["name"]
    if kind not in RANGE_NAMES:
        raise ConfigError(f"{where}: unknown range {kind!r}; use one of {', '.join(RANGE_NAMES)} (quote a string that looks like a call: '\"{text}\"')")
    try:
        raw = split_top_level(match["args"]) if match["args"].strip() else []
    except ValueError as exc:
        raise ConfigError(f"{where}: cannot read the arguments of {kind}(...): {exc}") from None
    args = tuple(parse_value(part.strip()) for part in raw)
    if kind == "choice":
        if not args:
            raise ConfigError(f"{where}: choice() needs at least one value")
        return Range(kind, args)
    if len(args) != 2:
        raise ConfigError(f"{where}: {kind}(low,high) takes two numbers, got {len(args)}")
    low, high = args
    if kind == "int":
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            raise ConfigError(f"{where}: int(low,high) takes two integers, got {low!r} and {high!r}")
        if low > high:
            raise ConfigError(f"{where}: int({low},{high}): low is above high")
        return Range(kind, args)
    if not all(_is_number(a) for a in args):
        raise ConfigError(f"{where}: {kind}(low,high) takes two numbers, got {low!r} and {high!r}")
    if not low < high:
        raise ConfigError(f"{where}: {kind}({low},{high}): low must be below high")
    if kind == "loguniform" and low <= 0:
        raise ConfigError(f"{where}: loguniform({low},{high}): both ends must be above 0")
    return Range(kind, (float(low), float(high)))


@dataclass(frozen=True)
class Axis:
    """One swept (or fixed) key: the key as written, and its values or its range."""

    key: str
    values: tuple[Any, ...] = ()
    range: Range | None = None
    token: str = ""

    @property
    def delete(self) -> bool:
        return self.key.startswith("~")

    @property
    def swept(self) -> bool:
        return self.range is not None or len(self.values) > 1

    def describe(self) -> str:
        if self.delete:
            return self.key
        if self.range is not None:
            return f"{self.key}={self.range.text()}"
        return f"{self.key}=" + ",".join(json.dumps(v) for v in self.values)


def parse_axis(token: str) -> Axis:
    """Read one sweep ``--opts`` token (see the module docstring)."""
    where = f"--opts {token!r}"
    if token.startswith("~"):
        path, rest = split_key(token[1:])
        if rest is not None or any(not segment for segment in path):
            raise ConfigError(f"{where}: '~KEY' deletes a key and takes no value")
        return Axis(key=token, token=token)
    body = token[1:] if token.startswith("+") else token
    path, rest = split_key(body)
    if rest is None:
        raise ConfigError(f"{where}: expected KEY=VALUE[,VALUE...] (or +NEW.KEY=..., ~KEY)")
    if any(not segment for segment in path):
        raise ConfigError(f"{where}: empty key in the dotted path")
    key = token[: len(token) - len(rest) - 1]
    found = parse_range(rest, where)
    if found is not None:
        return Axis(key=key, range=found, token=token)
    try:
        items = split_top_level(rest)
    except ValueError as exc:
        raise ConfigError(f"{where}: cannot split the values: {exc}") from None
    if len(items) == 1:
        value = parse_value(rest)
        values = tuple(value) if isinstance(value, list) else (value,)
        if not values:
            raise ConfigError(f"{where}: an empty list sweeps nothing")
        return Axis(key=key, values=values, token=token)
    if any(item == "" for item in items):
        raise ConfigError(f"{where}: an empty item in the list of values")
    return Axis(key=key, values=tuple(parse_value(item) for item in items), token=token)


def parse_axes(tokens: Iterable[str]) -> list[Axis]:
    """Every token as an axis; a key given twice is an error."""
    axes = [parse_axis(token) for token in tokens]
    seen: dict[str, str] = {}
    for axis in axes:
        bare = axis.key.lstrip("+~")
        if bare in seen:
            raise ConfigError(f"--opts: the key {bare!r} is given twice ({seen[bare]!r} and {axis.token!r})")
        seen[bare] = axis.token
    return axes


def override_token(key: str, value: Any) -> str:
    """The ``--opts`` token that sets ``key`` to exactly ``value`` (JSON, so strings stay strings)."""
    return f"{key}={json.dumps(value)}"


@dataclass(frozen=True)
class Point:
    """One point of a sweep: the value of each key, in axis order (``~KEY`` deletions have ``None``)."""

    overrides: dict[str, Any] = field(default_factory=dict)

    def tokens(self) -> list[str]:
        return [key if key.startswith("~") else override_token(key, value) for key, value in self.overrides.items()]


def _fixed_value(axis: Axis) -> Any:
    return None if axis.delete else axis.values[0]


def expand_grid(axes: Sequence[Axis]) -> list[Point]:
    """Every combination of the axes' values, the last axis changing fastest."""
    choices: list[tuple[Any, ...]] = []
    for axis in axes:
        if axis.delete:
            choices.append((None,))
        elif axis.range is not None:
            if axis.range.kind != "choice":
                raise ConfigError(f"--opts {axis.token!r} is a range: sample it with --random N (a grid needs listed values)")
            choices.append(axis.range.args)
        else:
            choices.append(axis.values)
    return [Point(dict(zip((a.key for a in axes), combo))) for combo in itertools.product(*choices)]


def sample_random(axes: Sequence[Axis], count: int, seed: int) -> list[Point]:
    """``count`` points drawn with ``random.Random(seed)``: ranges sampled, value lists chosen from, single values fixed.

    The same axes, count and seed always give the same points.
    """
    if count < 1:
        raise ConfigError(f"--random {count}: the number of points must be at least 1")
    rng = random.Random(seed)
    points = []
    for _ in range(count):
        values: dict[str, Any] = {}
        for axis in axes:
            if axis.range is not None:
                values[axis.key] = axis.range.sample(rng)
            elif len(axis.values) > 1:
                values[axis.key] = rng.choice(axis.values)
            else:
                values[axis.key] = _fixed_value(axis)
        points.append(Point(values))
    return points
