"""Plugins registered from a record of what they implement, imported when first called.

Importing every plugin would cost each command tens of milliseconds before
it does anything, and most commands call few hooks. What a plugin
implements changes only when its code does, so a command that imports the
plugins records, for each one that loaded, the hooks it implements (the
attribute, pluggy's hookimpl options, the argument names) and the files of
the modules its import loaded, with their size and ``mtime_ns``. The record
is ``plugin-hooks-<environment>.json`` beside the entry-point cache
(:mod:`runway.plugins.discovery_cache`).

A later command whose installed distributions (the entry-point cache's
fingerprint), ``hookspecs.py`` and every recorded file are unchanged
registers, in place of each plugin, a :class:`StandIn`: a module object
with the same hook functions, which import the plugin on their first call
and call its function. Any difference imports every plugin again and
writes the record anew.

What is never taken from the record:

- a plugin that failed to import: it is imported again by every command, so
  the error ``runway plugins`` shows is always the current one;
- anything that names code to run. Which module a plugin is still comes from
  its entry point (or the built-in table); the record only says which of its
  attributes are hooks, and on import each of those must be one (a function
  marked with ``@hookimpl``), or the call fails naming the plugin and the
  record is dropped.

The record knows what a plugin's files and the installed distributions
decide. A plugin whose hooks depend on something else when it is imported
(an environment variable, say) should decide inside its hooks instead; one
that defines a hook only where an optional package is installed (the
``tensorboard`` logger) is seen again when that package is installed or
removed.

A stand-in whose real import fails (a file outside the record changed, say
a dependency's that is not installed as a distribution) raises
:class:`~runway.errors.PluginError` from the hook call, with the plugin's
traceback, and drops the record. ``RUNWAY_PLUGIN_CACHE=0`` turns the record
off with the entry-point cache: every plugin is imported by every command.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable
from typing import Any

from runway.hookspecs import IMPL_ATTRIBUTE as MARKER

FORMAT_VERSION = 1
_OPTIONS = ("wrapper", "hookwrapper", "optionalhook", "tryfirst", "trylast", "specname")


def record_file() -> str:
    from runway.plugins.discovery_cache import cache_file

    return cache_file("plugin-hooks")


def _stat(path: str) -> list[Any] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


def _hookspecs_state() -> list[Any]:
    from runway import hookspecs

    return [hookspecs.__file__, _stat(hookspecs.__file__ or "")]


class Record:
    """The record read at the start of a command, and what this command adds to it."""

    def __init__(self, fingerprint: list[Any], plugins: dict[str, Any] | None = None, files: dict[str, Any] | None = None) -> None:
        self.fingerprint = fingerprint
        self.plugins: dict[str, dict[str, Any]] = dict(plugins or {})
        self.files: dict[str, Any] = dict(files or {})
        self.changed = False

    # --------------------------------------------------------------- reading

    @classmethod
    def read(cls, fingerprint: list[Any]) -> Record:
        """The record, if it still describes this environment; else an empty one to fill."""
        from runway.support.user_cache import read_cached_json

        data = read_cached_json(record_file())
        if not _valid(data, fingerprint):
            return cls(fingerprint)
        return cls(fingerprint, data["plugins"], data["files"])

    def entry(self, name: str, module: str) -> dict[str, Any] | None:
        """The hooks of plugin ``name``, if it was recorded from the same module."""
        entry = self.plugins.get(name)
        if entry is None or entry.get("module") != module:
            return None
        return entry

    # --------------------------------------------------------------- writing

    def add(self, name: str, module: str, plugin: Any, pm: Any, loaded: set[str]) -> None:
        """Record what ``plugin`` (just registered as ``name``) implements; ``loaded``:
        the modules its import brought into ``sys.modules``."""
        hooks = describe(plugin, pm)
        if hooks is None:
            return
        self.plugins[name] = {"module": module, "file": getattr(plugin, "__file__", None) if isinstance(plugin, types.ModuleType) else None, "hooks": hooks}
        for module_name in loaded:
            path = getattr(sys.modules.get(module_name), "__file__", None)
            if isinstance(path, str) and path not in self.files:
                self.files[path] = _stat(path)
        self.changed = True

    def write(self) -> None:
        from runway.support.user_cache import write_cached_json

        if not self.changed:
            return
        data = {
            "version": FORMAT_VERSION,
            "fingerprint": self.fingerprint,
            "hookspecs": _hookspecs_state(),
            "plugins": self.plugins,
            "files": self.files,
        }
        write_cached_json(record_file(), data)  # one that cannot be written: the plugins are imported every time


def _valid(data: Any, fingerprint: list[Any]) -> bool:
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION or data.get("fingerprint") != fingerprint:
        return False
    if data.get("hookspecs") != _hookspecs_state():
        return False
    plugins, files = data.get("plugins"), data.get("files")
    if not isinstance(plugins, dict) or not isinstance(files, dict):
        return False
    if not all(_stat(path) == state for path, state in files.items()):
        return False
    return all(_well_formed(entry) for entry in plugins.values())


def _well_formed(entry: Any) -> bool:
    """A recorded plugin is only names, lists of names and pluggy's options: anything else is not ours."""
    if not isinstance(entry, dict) or not isinstance(entry.get("module"), str) or not isinstance(entry.get("hooks"), list):
        return False
    for hook in entry["hooks"]:
        if not isinstance(hook, dict) or not _identifier(hook.get("attr")):
            return False
        names = [*hook.get("args", ()), *hook.get("kwargs", ())]
        if not all(_identifier(n) for n in names) or len(set(names)) != len(names):
            return False
        options = hook.get("opts")
        if not isinstance(options, dict) or set(options) - set(_OPTIONS):
            return False
        if not all(isinstance(v, bool) for k, v in options.items() if k != "specname"):
            return False
        if options.get("specname") is not None and not _identifier(options["specname"]):
            return False
    return True


def _identifier(value: Any) -> bool:
    return isinstance(value, str) and value.isidentifier()


def drop_record() -> None:
    try:
        os.unlink(record_file())
    except OSError:
        pass


def describe(plugin: Any, pm: Any) -> list[dict[str, Any]] | None:
    """The hooks ``plugin`` implements, as registered in ``pm``; ``None`` if one cannot be recorded."""
    registered = {id(impl.function): impl for caller in pm.get_hookcallers(plugin) or [] for impl in caller.get_hookimpls() if impl.plugin is plugin}
    hooks = []
    for attr in dir(plugin):
        options = pm.parse_hookimpl_opts(plugin, attr)
        if options is None:
            continue
        function = getattr(plugin, attr)
        impl = registered.get(id(function))
        if impl is None:
            return None  # pluggy registered it in a way this module does not know
        import inspect

        hooks.append(
            {
                "attr": attr,
                "opts": {k: options.get(k) for k in _OPTIONS if options.get(k) not in (None, False)},
                "args": list(impl.argnames),
                "kwargs": list(impl.kwargnames),
                "generator": inspect.isgeneratorfunction(function),
            }
        )
    return hooks


# ------------------------------------------------------------------ stand-ins


def _signature(args: list[str], kwargs: list[str]) -> Callable[..., None]:
    """A function that takes exactly ``args`` and ``kwargs`` (with defaults), for pluggy to read.

    pluggy finds a hook function's argument names from the code object of
    the function it unwraps to; a stand-in's own function takes ``*args``.
    """

    def signature() -> None:
        return None

    names = (*args, *kwargs)
    code = signature.__code__.replace(co_varnames=names, co_argcount=len(names), co_nlocals=len(names))
    return types.FunctionType(code, {}, "signature", (None,) * len(kwargs) or None)


class StandIn(types.ModuleType):
    """A plugin's hooks, without its module: the first call imports the plugin (``load``) and calls it."""

    runway_stand_in = True  # what the plugin manager asks (without importing this module)

    def __init__(self, name: str, module: str, entry: dict[str, Any], load: Callable[[], Any], failed: Callable[[str], Exception]) -> None:
        super().__init__(module)
        self.__file__ = entry.get("file")  # where the plugin's source is (provenance, command caches)
        object.__setattr__(self, "_runway_plugin", (name, load, failed, entry))
        object.__setattr__(self, "_runway_real", None)
        for hook in entry["hooks"]:
            setattr(self, hook["attr"], self._stand_in(hook))

    def _stand_in(self, hook: dict[str, Any]) -> Callable[..., Any]:
        attr = hook["attr"]
        if hook.get("generator"):

            def call(*args: Any, **kwargs: Any) -> Any:
                return (yield from getattr(self._runway_load(), attr)(*args, **kwargs))

        else:

            def call(*args: Any, **kwargs: Any) -> Any:
                return getattr(self._runway_load(), attr)(*args, **kwargs)

        call.__name__ = call.__qualname__ = attr
        call.__wrapped__ = _signature(hook.get("args", []), hook.get("kwargs", []))  # type: ignore[attr-defined]
        setattr(call, MARKER, dict(hook["opts"]))
        return call

    def _runway_load(self) -> Any:
        real = object.__getattribute__(self, "_runway_real")
        if real is not None:
            return real
        name, load, failed, entry = object.__getattribute__(self, "_runway_plugin")
        try:
            real = load()
        except (Exception, SystemExit) as exc:  # what loading the plugin did not find when the record was made
            drop_record()
            raise failed(name) from exc
        missing = [h["attr"] for h in entry["hooks"] if getattr(getattr(real, h["attr"], None), MARKER, None) is None]
        if missing:
            drop_record()
            try:
                raise LookupError(f"the record of plugin {name!r} names hooks it no longer has: {', '.join(missing)}")
            except LookupError as exc:
                raise failed(name) from exc
        object.__setattr__(self, "_runway_real", real)
        return real

    def __dir__(self) -> list[str]:
        """The hooks only: pluggy looks at every name ``dir`` gives when it registers a plugin."""
        return [hook["attr"] for hook in object.__getattribute__(self, "_runway_plugin")[3]["hooks"]]

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)  # what pluggy, inspect and copy probe for: the stand-in's own answer
        return getattr(self._runway_load(), attr)

    def __repr__(self) -> str:
        state = "imported" if object.__getattribute__(self, "_runway_real") is not None else "not yet imported"
        return f"<runway plugin {object.__getattribute__(self, '_runway_plugin')[0]!r} ({self.__name__}), {state}>"
