"""The project's own executors and metrics, registered with decorators.

``@runway.register_executor`` (in the project's ``executors/``) and
``@runway.register_metric`` (in its ``metrics/``) store entries here; the
built-in plugins ``core-executor`` and ``core-project-metrics`` hand them to
the ``build_executor`` and ``register_metrics`` hooks, so installed plugins
and the project go through the same path.

Registering a name again from the same module (a re-import) replaces the
entry; from another module it is an error naming both.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

from runway.errors import ConfigError


@dataclass(frozen=True)
class Registered:
    name: str
    obj: Any
    module: str


_lock = threading.Lock()
_executors: dict[str, Registered] = {}
_metrics: dict[str, Registered] = {}


def _add(table: dict[str, Registered], kind: str, obj: Any, name: str | None) -> Any:
    registered = name or obj.__name__
    module = getattr(obj, "__module__", "?")
    with _lock:
        existing = table.get(registered)
        if existing is not None and existing.module != module:
            raise ConfigError(
                f"{kind} {registered!r} is registered twice: by module {existing.module!r} "
                f"and by module {module!r}; give one another name with name=..."
            )
        table[registered] = Registered(registered, obj, module)
    return obj


def _decorator(table: dict[str, Registered], kind: str, obj: Any, name: str | None) -> Any:
    if isinstance(obj, str):  # @register_x("name")
        return lambda target: _add(table, kind, target, obj)
    if obj is None:  # @register_x(name="name")
        return lambda target: _add(table, kind, target, name)
    return _add(table, kind, obj, name)


def register_executor(obj: Any = None, *, name: str | None = None) -> Any:
    """Register a ``runway.Executor`` subclass under its class name or ``name``.

    Use as ``@register_executor``, ``@register_executor("name")`` or
    ``@register_executor(name="name")``; configs select it with
    ``executor.name``. Returns the class unchanged.
    """
    return _decorator(_executors, "executor", obj, name)


def register_metric(obj: Any = None, *, name: str | None = None) -> Any:
    """Register an evaluation metric ``fn(predictions, targets) -> float | dict``.

    Use as ``@register_metric``, ``@register_metric("name")`` or
    ``@register_metric(name="name")``; configs list it in ``eval.metrics``.
    """
    return _decorator(_metrics, "metric", obj, name)


def project_executors() -> dict[str, Any]:
    with _lock:
        return {name: entry.obj for name, entry in _executors.items()}


def project_metrics() -> dict[str, Callable[..., Any]]:
    with _lock:
        return {name: entry.obj for name, entry in _metrics.items()}


def forget_project_code(module_prefix: str | None = None) -> None:
    """Drop registered executors and metrics (all, or those of modules under a prefix)."""
    with _lock:
        for table in (_executors, _metrics):
            for key, entry in list(table.items()):
                if module_prefix is None or entry.module == module_prefix or entry.module.startswith(module_prefix + "."):
                    del table[key]
