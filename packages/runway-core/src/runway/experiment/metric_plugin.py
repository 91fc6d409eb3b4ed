"""Built-in plugin ``core-project-metrics``: the project's ``@runway.register_metric`` metrics."""

from __future__ import annotations

from collections.abc import Callable

from runway.experiment.registry import project_metrics
from runway.hookspecs import hookimpl


@hookimpl
def register_metrics(register: Callable[..., None]) -> None:
    for name, fn in project_metrics().items():
        register(fn, name=name)
