"""Package attributes imported on first access, so that importing a package stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def resolve(target: str) -> Any:
    """The attribute that ``"package.module:attribute"`` names."""
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def lazy_attributes(
    module_name: str, targets: Mapping[str, str], namespace: dict[str, Any], *, extra: tuple[str, ...] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's ``__getattr__`` and ``__dir__`` for ``{name: "module:attribute"}``.

    A name is imported the first time it is read, then kept in the
    module's ``namespace`` (its ``globals()``); ``extra`` names are listed
    by ``dir()`` and served by the caller's own ``__getattr__``.
    """

    def __getattr__(name: str) -> Any:
        target = targets.get(name)
        if target is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = namespace[name] = resolve(target)
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *targets, *extra])

    return __getattr__, __dir__


class LazyPattern:
    """A regular expression compiled on first use: a module's patterns cost its importers nothing
    until a function of it runs (compiling is most of what importing a small module costs)."""

    __slots__ = ("_pattern", "_flags", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern, self._flags, self._compiled = pattern, flags, None

    def __getattr__(self, name: str) -> Any:
        if self._compiled is None:
            import re

            self._compiled = re.compile(self._pattern, self._flags)
        return getattr(self._compiled, name)
