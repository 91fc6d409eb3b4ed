"""The transform registry: every transform that a pipeline config can name.

Built once per plugin manager from the ``register_transforms`` hook. The
project's own ``@register_transform`` transforms arrive through the built-in
plugin ``core-project``, installed packages through their own hook
implementations, so a name registered twice is caught in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from runway.errors import PipelineError, closest
from runway.pipeline.transform import Transform, as_transform_class, project_generation
from runway.plugins.manager import Plugins, get_plugins

# Transform names that first-party packages provide, for "not found" messages.
KNOWN_PROVIDERS: dict[str, str] = {
    "LoadHFDataset": "runway-hf",
    "HFDatasetTokenizeTransform": "runway-hf",
    "SplitHFDatasetToTrainTestValidation": "runway-hf",
    "HFDatasetSplit": "runway-hf",
    "HFDatasetTransform": "runway-hf",
}

CACHE_KEY = "transforms"


@dataclass(frozen=True)
class RegisteredTransform:
    """One registry entry: the name configs use, the class, who registered it."""

    name: str
    cls: type[Transform]
    source: str  # "plugin 'shout'" or "module 'data_processing.transforms'"


class TransformRegistry:
    """Name -> :class:`RegisteredTransform`, with helpful misses."""

    def __init__(self, generation: int = 0) -> None:
        self._entries: dict[str, RegisteredTransform] = {}
        self.generation = generation

    def add(self, obj: Any, *, name: str | None = None, source: str) -> None:
        cls = as_transform_class(obj)
        registered = name or getattr(obj, "__name__", cls.__name__)
        existing = self._entries.get(registered)
        if existing is not None:
            raise PipelineError(
                f"transform {registered!r} is registered twice: by {existing.source} and by {source}"
            )
        self._entries[registered] = RegisteredTransform(registered, cls, source)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> RegisteredTransform | None:
        return self._entries.get(name)

    def lookup(self, name: str, *, where: str) -> RegisteredTransform:
        """The entry for ``name``, or a :class:`PipelineError` that helps."""
        entry = self._entries.get(name)
        if entry is not None:
            return entry
        message = f"{where}: unknown transform {name!r}"
        provider = KNOWN_PROVIDERS.get(name)
        if provider:
            message += f"; it is provided by `pip install {provider}`"
        near = closest(name, self._entries)
        if near:
            message += ". Did you mean " + " or ".join(repr(n) for n in near) + "?"
        if not self._entries:
            message += ". No transform is registered (is the project's code in its code folders?)"
        elif not near:
            shown = sorted(self._entries)
            message += ". Registered: " + ", ".join(shown[:20]) + (" ..." if len(shown) > 20 else "")
        if not provider:
            message += (
                ". A project's own transforms are found only in its code_dirs (runway.toml), "
                'e.g. code_dirs = ["src/data_ops"]; `runway migrate .` sets them for a runway_for_ml layout'
            )
        raise PipelineError(message)


def _build(plugins: Plugins) -> TransformRegistry:
    registry = TransformRegistry(generation=project_generation())
    for impl in plugins.pm.hook.register_transforms.get_hookimpls():  # registration order
        plugin_name = plugins.pm.get_name(impl.plugin) or "?"

        def register(obj: Any, name: str | None = None, *, _plugin: str = plugin_name) -> None:
            module = getattr(obj, "__module__", "?")
            registry.add(obj, name=name, source=f"plugin {_plugin!r} (module {module})")

        impl.function(register=register)
    return registry


def transform_registry(plugins: Plugins | None = None) -> TransformRegistry:
    """The registry of ``plugins`` (default: the process-wide plugin manager).

    Built once per plugin manager; rebuilt when project transforms were
    registered after it was built (a project's code loaded late).
    """
    plugins = plugins or get_plugins()
    registry: TransformRegistry = plugins.cached(CACHE_KEY, lambda: _build(plugins))
    if registry.generation != project_generation():
        plugins.reset_caches()
        registry = plugins.cached(CACHE_KEY, lambda: _build(plugins))
    return registry
