"""Built-in plugin ``core-project``: the project's ``@register_transform`` transforms.

They reach the registry through the same ``register_transforms`` hook as an
installed package's, so a clash with a package's name is reported alike.
"""

from __future__ import annotations

from collections.abc import Callable

from runway.hookspecs import hookimpl


@hookimpl
def register_transforms(register: Callable[..., None]) -> None:
    from runway.pipeline.transform import project_transforms  # loaded when transforms are asked for

    for entry in project_transforms():
        register(entry.cls, name=entry.name)
