"""Commands that installed plugins add through the ``register_commands`` hook.

A plugin registers ``name -> "module:attribute"`` and a one-line help; the
module holding the click command is imported only when the command runs.
Listing the commands still means importing every installed plugin, which
costs more than the whole of ``runway --help`` may take, so what the hook
answered is cached in a file keyed on what could change it: the
interpreter, the modification times of the folders on ``sys.path`` (a
distribution installed, upgraded or removed changes its folder), the
plugin-loading switches, and the files of the modules that registered
commands. When the process already built its plugin manager (``runway
plugins``, tests), that manager is asked instead and the cache is left alone.

The cache lives in ``$RUNWAY_CACHE_HOME``, else ``$XDG_CACHE_HOME/runway``,
else ``~/.cache/runway``; a cache that cannot be read or written only costs
time.
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from typing import Any, NamedTuple

from runway.errors import PluginError

CACHE_FORMAT = 1
# the switches of runway.plugins.manager that change which plugins load
_SWITCHES = ("RUNWAY_PLUGINS_BUILTIN_ONLY", "RUNWAY_PLUGINS_ALLOW", "RUNWAY_PLUGINS_BLOCK")


class PluginCommand(NamedTuple):
    """A command that plugin ``plugin`` adds: ``runway NAME`` runs ``target``."""

    name: str
    target: str
    help: str
    plugin: str


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


def cache_path() -> str:
    home = os.environ.get("RUNWAY_CACHE_HOME")
    if home:
        base = home
    elif os.environ.get("XDG_CACHE_HOME"):
        base = os.path.join(os.environ["XDG_CACHE_HOME"], "runway")
    else:
        base = os.path.join(os.path.expanduser("~"), ".cache", "runway")
    # one file per interpreter: two virtual environments have different plugins
    digest = zlib.crc32(os.path.realpath(sys.executable).encode())
    return os.path.join(base, f"plugin-commands-{digest:08x}.json")


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _environment_key() -> dict[str, Any]:
    # sys.path[0] is the script's folder or the current one, which hold no distribution
    entries = sys.path if getattr(sys.flags, "safe_path", False) else sys.path[1:]
    return {
        "format": CACHE_FORMAT,
        "python": os.path.realpath(sys.executable),
        "paths": [[p, _mtime(p)] for p in entries if p],
        "switches": {name: os.environ.get(name) for name in _SWITCHES},
    }


def _sources(plugins: Any, commands: dict[str, PluginCommand]) -> dict[str, int | None]:
    files: dict[str, int | None] = {}
    for command in commands.values():
        plugin = plugins.pm.get_plugin(command.plugin)
        source = getattr(sys.modules.get(getattr(plugin, "__module__", "") or ""), "__file__", None)
        source = getattr(plugin, "__file__", None) or source
        if source:
            files[source] = _mtime(source)
    return files


def _read_cache(path: str, key: dict[str, Any]) -> dict[str, PluginCommand] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != json.loads(json.dumps(key)):
        return None
    sources = data.get("sources") or {}
    if any(_mtime(source) != mtime for source, mtime in sources.items()):
        return None
    try:
        return {name: PluginCommand(**fields) for name, fields in (data.get("commands") or {}).items()}
    except TypeError:
        return None


def _write_cache(path: str, key: dict[str, Any], commands: dict[str, PluginCommand], sources: dict[str, int | None]) -> None:
    record = {"key": key, "sources": sources, "commands": {name: c._asdict() for name, c in commands.items()}}
    partial = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=1)
        os.replace(partial, path)
    except OSError:
        pass


def plugin_commands(reserved: frozenset[str] | set[str] = frozenset()) -> dict[str, PluginCommand]:
    """The installed plugins' commands, from the live plugin manager, the cache, or (once) by loading the plugins."""
    # importing the manager costs more than the cache saves; if nobody imported it, nobody built one
    manager = sys.modules.get("runway.plugins.manager")
    live = manager.built_plugins() if manager is not None else None
    if live is not None:
        return collect_commands(live, reserved)
    key = _environment_key()
    path = cache_path()
    cached = _read_cache(path, key)
    if cached is not None:
        return cached
    from runway.plugins.manager import get_plugins

    plugins = get_plugins()
    commands = collect_commands(plugins, reserved)
    _write_cache(path, key, commands, _sources(plugins, commands))
    return commands
