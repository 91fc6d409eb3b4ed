"""Commands that installed plugins add through the ``register_commands`` hook: the fast path.

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

The cache lives in Runway's user cache folder
(:mod:`runway.support.user_cache`); a cache that cannot be read or written
only costs time.
"""

from __future__ import annotations

import marshal
import os
import sys
from typing import Any

CACHE_FORMAT = 2
# the switches of runway.plugins.manager that change which plugins load
_SWITCHES = ("RUNWAY_PLUGINS_BUILTIN_ONLY", "RUNWAY_PLUGINS_ALLOW", "RUNWAY_PLUGINS_BLOCK")


class PluginCommand:
    """A command that plugin ``plugin`` adds: ``runway NAME`` runs ``target``.

    A plain class: a dataclass or a NamedTuple costs milliseconds to define,
    which ``runway --help`` would pay on every start."""

    __slots__ = ("name", "target", "help", "plugin")

    def __init__(self, name: str, target: str, help: str, plugin: str) -> None:
        self.name, self.target, self.help, self.plugin = name, target, help, plugin

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "target": self.target, "help": self.help, "plugin": self.plugin}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PluginCommand) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"PluginCommand({self.name!r}, {self.target!r}, {self.help!r}, {self.plugin!r})"


def cache_path() -> str:
    from runway.support.user_cache import cache_home, short_key

    # one file per interpreter: two virtual environments have different plugins
    return os.path.join(cache_home(), f"plugin-commands-{short_key(os.path.realpath(sys.executable))}.marshal")


def mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def environment_key() -> dict[str, Any]:
    # sys.path[0] is the script's folder or the current one, which hold no distribution
    entries = sys.path if getattr(sys.flags, "safe_path", False) else sys.path[1:]
    return {
        "format": CACHE_FORMAT,
        "python": os.path.realpath(sys.executable),
        "paths": [(p, mtime(p)) for p in entries if p],
        "switches": {name: os.environ.get(name) for name in _SWITCHES},
    }


def read_cache(path: str, key: dict[str, Any]) -> dict[str, PluginCommand] | None:
    try:
        with open(path, "rb") as handle:
            data = marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    sources = data.get("sources") or {}
    if any(mtime(source) != recorded for source, recorded in sources.items()):
        return None
    try:
        return {name: PluginCommand(**fields) for name, fields in (data.get("commands") or {}).items()}
    except TypeError:
        return None
