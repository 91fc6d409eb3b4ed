"""Cache formats: how a node's output is written to and read from its entry.

A format is any object with ``name``, ``priority``, ``accepts(obj) -> bool``,
``save(obj, folder)`` and ``load(folder) -> obj``; plugins contribute them
through the ``register_cache_formats(register)`` hook. On save, the accepting
format with the highest priority wins; its name is stored in the entry's
``meta.json`` and the same format loads it back. ``save`` receives an empty,
existing folder and may write any files into it.

A format also says whether loading its files can run code (``runs_code``,
assumed ``True`` when absent): the cache verifies such entries in full, and
checks their signature, on every load (see :mod:`runway.pipeline.cache`).
``accepts`` of a format that walks the object raises :class:`CyclicData`
for an object that contains itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from runway.errors import PipelineError
from runway.plugins.manager import Plugins, get_plugins

CACHE_KEY = "cache_formats"


class CyclicData(ValueError):
    """An object that contains itself; the message gives the path to the repeat."""


@runtime_checkable
class CacheFormat(Protocol):
    name: str
    priority: int
    runs_code: bool

    def accepts(self, obj: Any) -> bool: ...

    def save(self, obj: Any, folder: Path) -> None: ...

    def load(self, folder: Path) -> Any: ...


class FormatRegistry:
    """Registered cache formats, by name and by priority."""

    def __init__(self) -> None:
        self._by_name: dict[str, tuple[CacheFormat, str]] = {}
        self._ordered: list[CacheFormat] = []

    def add(self, fmt: Any, *, source: str) -> None:
        missing = [a for a in ("name", "priority", "accepts", "save", "load") if not hasattr(fmt, a)]
        if missing:
            raise PipelineError(f"cache format {fmt!r} from {source} lacks {', '.join(missing)}")
        if fmt.name in self._by_name:
            raise PipelineError(
                f"cache format {fmt.name!r} is registered twice: by {self._by_name[fmt.name][1]} and by {source}"
            )
        self._by_name[fmt.name] = (fmt, source)
        # stable: among equal priorities, the first registered is asked first
        self._ordered = sorted((f for f, _ in self._by_name.values()), key=lambda f: -f.priority)

    def names(self) -> list[str]:
        return [f.name for f in self._ordered]

    def get(self, name: str) -> CacheFormat | None:
        found = self._by_name.get(name)
        return found[0] if found else None

    def for_object(self, obj: Any) -> CacheFormat:
        """The highest-priority format that accepts ``obj``."""
        for fmt in self._ordered:
            if fmt.accepts(obj):
                return fmt
        raise PipelineError(
            f"no cache format accepts a {type(obj).__module__}.{type(obj).__qualname__} "
            f"(formats: {', '.join(self.names()) or 'none'}); set cache: false on the node"
        )


def _build(plugins: Plugins) -> FormatRegistry:
    registry = FormatRegistry()
    for impl in plugins.pm.hook.register_cache_formats.get_hookimpls():  # registration order
        plugin_name = plugins.pm.get_name(impl.plugin) or "?"

        def register(fmt: Any, *, _plugin: str = plugin_name) -> None:
            registry.add(fmt, source=f"plugin {_plugin!r}")

        impl.function(register=register)
    return registry


def format_registry(plugins: Plugins | None = None) -> FormatRegistry:
    """The cache formats of ``plugins`` (default: the process-wide manager), built once."""
    plugins = plugins or get_plugins()
    return plugins.cached(CACHE_KEY, lambda: _build(plugins))
