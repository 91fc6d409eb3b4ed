"""Checking a resolved config: the top-level sections, then each plugin's part.

Every problem is collected and reported in one :class:`ConfigError`, so a
user fixes a config in one pass rather than one error per run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runway.config.overrides import copy_json, json_type
from runway.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from runway.plugins.manager import Plugins


def _object(value: Any) -> bool:
    return isinstance(value, dict)


def _string(value: Any) -> bool:
    return isinstance(value, str)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _string_or_strings(value: Any) -> bool:
    return _string(value) or _strings(value)


def _string_or_null(value: Any) -> bool:
    return value is None or isinstance(value, str)


# section -> (check, what it must be)
SECTIONS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "meta": (_object, "an object"),
    "data_pipeline": (_object, "an object"),
    "executor": (_object, "an object"),
    "datamodule": (_object, "an object"),
    "train": (_object, "an object"),
    "test": (_object, "an object"),
    "eval": (_object, "an object"),
    "launcher": (_object, "an object"),
    "loggers": (_strings, "a list of logger names (strings)"),
    "plugins": (_object, "an object (settings by plugin name)"),
    "sweep": (_object, "an object"),
    "tag": (_string_or_strings, "a string or a list of strings"),
    "description": (_string, "a string"),
    "parent": (_string_or_null, "an experiment name (string) or null"),
}


def check_sections(config: Any, plugin_names: frozenset[str] = frozenset()) -> list[str]:
    """Problems with the top-level keys of ``config`` (an empty list when fine).

    Allowed keys: :data:`SECTIONS`, the name of any loaded plugin (that
    plugin's own section) and keys starting with ``_`` (yours, unchecked).
    """
    if not isinstance(config, dict):
        return [f"the config must be an object, not {json_type(config)}"]
    problems = []
    known = [*SECTIONS, *plugin_names]
    for key, value in config.items():
        if key in SECTIONS:
            check, expected = SECTIONS[key]
            if not check(value):
                problems.append(f"{key}: expected {expected}, got {json_type(value)}")
        elif key not in plugin_names and not key.startswith("_"):
            from runway.compat.keys import seed_key_hint  # runway_for_ml's keys name their replacement

            problems.append(
                seed_key_hint(key)
                or f"unknown top-level key {key!r}.{did_you_mean(key, known)} "
                f"Known sections: {', '.join(sorted(SECTIONS))}"
            )
    return problems


def plugin_problems(config: dict, plugins: Plugins) -> list[str]:
    """Problems reported by every plugin's ``validate_config`` hook.

    :raises PluginError: a hook raised instead of returning its problems (naming its plugin).
    """
    from runway.errors import PluginError

    problems: list[str] = []
    for impl in reversed(plugins.pm.hook.validate_config.get_hookimpls()):  # pluggy's call order
        if impl.hookwrapper or getattr(impl, "wrapper", False):
            continue
        given = copy_json(config)
        try:
            result = impl.function(config=given)
        except Exception as exc:
            name = plugins.pm.get_name(impl.plugin) or "?"
            info = plugins.info.get(name)
            where = f" (distribution {info.distribution} {info.version})" if info and info.distribution else ""
            raise PluginError(
                f"plugin {name!r}{where} failed while checking the config: its validate_config hook raised "
                f"{type(exc).__name__}: {exc}. Fix the plugin, or block it with RUNWAY_PLUGINS_BLOCK={name}"
            ) from exc
        if not result:
            continue
        problems.extend([result] if isinstance(result, str) else [str(p) for p in result])
    return problems


def validate(config: dict, plugins: Plugins | None = None) -> None:
    """Check ``config``; raise one :class:`ConfigError` listing every problem.

    :param plugins: the plugin manager whose ``validate_config`` hooks run;
        ``None`` means the process-wide one (``runway.plugins.get_plugins()``).
    """
    if plugins is None:
        from runway.plugins import get_plugins

        plugins = get_plugins()
    problems = check_sections(config, frozenset(plugins.info))
    if isinstance(config, dict) and not problems:
        # plugins read sections by type; only ask them once the shape is right
        problems.extend(plugin_problems(config, plugins))
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"the config has {len(problems)} problem(s):\n{listing}")
