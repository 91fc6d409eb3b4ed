"""Checking a logger plugin's ``plugins.<name>`` section of a config.

Logger plugins (runway-mlflow, runway-wandb) each take a small object of
settings; this checks its shape and names unknown keys with a suggestion, so
each plugin's ``validate_config`` only says what a valid value is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


def plugin_settings_problems(
    config: dict | None,
    plugin: str,
    settings: Mapping[str, Any],
    value_problem: Callable[[str, Any], str | None],
) -> list[str] | None:
    """The problems with ``plugins.<plugin>`` in ``config``, for a ``validate_config`` hook.

    ``None`` when the section is absent; a single problem when it is not an
    object; otherwise one per unknown key (with a did-you-mean and the known
    ``settings``) and one per known key whose ``value_problem(key, value)``
    returns a message.
    """
    from runway.errors import did_you_mean

    section = ((config or {}).get("plugins") or {}).get(plugin)
    if section is None:
        return None
    if not isinstance(section, dict):
        return [f"plugins.{plugin}: expected an object with {', '.join(settings)}"]
    problems = []
    for key, value in section.items():
        if key not in settings:
            problems.append(
                f"plugins.{plugin}.{key}: unknown setting.{did_you_mean(key, settings)}"
                f" Settings: {', '.join(settings)}"
            )
            continue
        problem = value_problem(key, value)
        if problem is not None:
            problems.append(problem)
    return problems
