"""Collecting the commands that plugins register (``register_commands``), and caching them.

The fast path that ``runway --help`` takes, reading the cache, is
:mod:`runway.cli.plugin_commands`; this module runs when the cache is
missing or stale, or when the process has its plugin manager already.
"""

from __future__ import annotations

import marshal
import os
import sys
from typing import Any

from runway.cli.plugin_commands import PluginCommand, mtime
from runway.errors import PluginError


def collect_commands(plugins: Any, reserved: frozenset[str] | set[str] = frozenset()) -> dict[str, PluginCommand]:
    """Every command that ``plugins`` register, by name.

    :raises PluginError: a target that is not ``"module:attribute"``, or a
        name that core (``reserved``) or another plugin already uses.
    """
    found: dict[str, PluginCommand] = {}
    for impl in reversed(plugins.pm.hook.register_commands.get_hookimpls()):
        owner = plugins.pm.get_name(impl.plugin)

        def register(name: str, target: str, help: str = "", _owner: str = owner) -> None:
            module, sep, attr = str(target).partition(":")
            if not sep or not module or not attr:
                raise PluginError(f"plugin {_owner!r} registers command {name!r} with target {target!r}; write 'module:attribute'")
            if name in reserved:
                raise PluginError(f"plugin {_owner!r} registers command {name!r}, which is one of runway's own commands")
            if name in found and found[name].plugin != _owner:
                raise PluginError(f"command {name!r} is registered twice: by plugin {found[name].plugin!r} and by plugin {_owner!r}")
            found[name] = PluginCommand(name, str(target), " ".join(str(help).split()), _owner)

        impl.function(register=register)
    return found


def _sources(plugins: Any, commands: dict[str, PluginCommand]) -> dict[str, int | None]:
    files: dict[str, int | None] = {}
    for command in commands.values():
        plugin = plugins.pm.get_plugin(command.plugin)
        source = getattr(sys.modules.get(getattr(plugin, "__module__", "") or ""), "__file__", None)
        source = getattr(plugin, "__file__", None) or source
        if source:
            files[source] = mtime(source)
    return files


def write_cache(path: str, key: dict[str, Any], commands: dict[str, PluginCommand], sources: dict[str, int | None]) -> None:
    record = {"key": key, "sources": sources, "commands": {name: c.as_dict() for name, c in commands.items()}}
    partial = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(partial, "wb") as handle:
            marshal.dump(record, handle)
        os.replace(partial, path)
    except (OSError, ValueError):
        pass


def load_and_cache(path: str, key: dict[str, Any], reserved: frozenset[str] | set[str] = frozenset()) -> dict[str, PluginCommand]:
    """Load the plugins, collect their commands and cache them under ``key``."""
    from runway.plugins.manager import get_plugins

    plugins = get_plugins()
    commands = collect_commands(plugins, reserved)
    write_cache(path, key, commands, _sources(plugins, commands))
    return commands
