"""The plugin manager factory and the facade that core calls hooks through.

Built-in plugins and installed ones take the same path: each is a module
registered under its plugin name. Installed plugins are the modules named by
``[project.entry-points.runway]``; a plugin that fails to import is recorded
(name, distribution, version, traceback) and the others still load. A plugin
whose hooks a command recorded, with nothing changed since, is registered as
a stand-in and imported on its first hook call (:mod:`runway.plugins.lazy`).

Environment switches (each also a keyword of :func:`make_plugin_manager`):

``RUNWAY_PLUGINS_BUILTIN_ONLY=1``
    load core's built-ins and no installed plugin.
``RUNWAY_PLUGINS_ALLOW=a,b``
    load only these installed plugins.
``RUNWAY_PLUGINS_BLOCK=a,b``
    never load these plugins (built-ins included).
``RUNWAY_TRACE_PLUGINS=1``
    print every hook call, its arguments and results to stderr.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

from runway import hookspecs
from runway.errors import PluginError

if TYPE_CHECKING:  # importing importlib.metadata costs more than all of pluggy
    from importlib import metadata

ENTRY_POINT_GROUP = "runway"

# name -> module; registered in this order, before any installed plugin, so
# that installed plugins' firstresult implementations are asked first.
BUILTIN_PLUGINS: dict[str, str] = {
    "core-summary": "runway.builtins.summary",
    "core-metrics": "runway.builtins.metrics",
    "core-project": "runway.pipeline.project_plugin",
    "core-formats": "runway.pipeline.core_formats",
    "csv": "runway.logging.csv_logger",
    # a logger only where the tensorboard package is installed (runway-core[tensorboard])
    "tensorboard": "runway.logging.tensorboard_logger",
    "local": "runway.launch.local",
    "core-project-metrics": "runway.experiment.metric_plugin",
    # asks last (trylast) so that installed plugins may build any executor name
    "core-executor": "runway.experiment.executor_plugin",
    # executor.class_path (any LightningModule) and runway_for_ml config keys
    "core-class-path": "runway.experiment.class_path",
    "core-compat": "runway.compat.plugin",
    # the grid and random sweepers, registered like any plugin's
    "core-sweepers": "runway.sweep.sweepers",
}

# Where a name that nobody provides would come from, for error messages.
FIRST_PARTY_PLUGINS: dict[str, str] = {
    "hf": "runway-hf",
    "slurm": "runway-slurm",
    "wandb": "runway-wandb",
    "mlflow": "runway-mlflow",
    "optuna": "runway-optuna",
    "tensorboard": "runway-core[tensorboard]",
}


def _env_list(name: str) -> list[str] | None:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


class PluginInfo:
    """What ``runway plugins`` shows about one plugin.

    Plain classes here: defining dataclasses costs start-up time that every command would pay."""

    __slots__ = ("name", "module", "distribution", "version", "builtin", "plugin", "error")

    def __init__(
        self,
        name: str,
        module: str,
        distribution: str | None = None,
        version: str | None = None,
        builtin: bool = False,
        plugin: Any = None,
        error: str | None = None,  # traceback text when loading failed
    ) -> None:
        self.name, self.module, self.distribution, self.version = name, module, distribution, version
        self.builtin, self.plugin, self.error = builtin, plugin, error

    @property
    def loaded(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        return f"PluginInfo({self.name!r}, {self.module!r}, error={'yes' if self.error else 'no'})"


class Plugins:
    """A plugin manager with the records core needs about each plugin."""

    def __init__(self, pm: pluggy.PluginManager, info: dict[str, PluginInfo] | None = None) -> None:
        self.pm = pm
        self.info: dict[str, PluginInfo] = {} if info is None else info
        # pluggy has no public way to ask whether calls are monitored; the logger
        # fast path must know, so monitoring goes through add_hookcall_monitoring below
        self.monitored = False
        self._caches: dict[str, Any] = {}

    def add_hookcall_monitoring(self, before: Any, after: Any) -> Any:
        """``pm.add_hookcall_monitoring``, remembered so that every hook call
        (loggers' included) goes through pluggy and is seen; returns the undo."""
        undo = self.pm.add_hookcall_monitoring(before, after)
        self.monitored = True

        def stop() -> None:
            undo()
            self.monitored = False

        return stop

    def cached(self, key: str, build: Any) -> Any:
        """``build()`` once per manager (registries built from hooks)."""
        if key not in self._caches:
            self._caches[key] = build()
        return self._caches[key]

    def reset_caches(self) -> None:
        """Forget registries built from hooks (after registering a plugin)."""
        self._caches.clear()

    @property
    def hook(self) -> Any:
        return self.pm.hook

    @property
    def errors(self) -> dict[str, PluginInfo]:
        return {name: i for name, i in self.info.items() if i.error is not None}

    def hooks_of(self, name: str) -> list[str]:
        """Names of the hooks that plugin ``name`` implements."""
        plugin = self.pm.get_plugin(name)
        if plugin is None:
            return []
        return sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [])

    def implementers(self, hook_name: str) -> list[str]:
        """Plugin names implementing ``hook_name``, in registration order."""
        caller = getattr(self.pm.hook, hook_name)
        names = [self.pm.get_name(impl.plugin) for impl in caller.get_hookimpls()]
        return list(reversed(names))  # pluggy stores last-registered first

    def require(self, name: str) -> None:
        """Raise the load error of plugin ``name`` if it failed to import."""
        info = self.info.get(name)
        if info is not None and info.error is not None:
            raise PluginError(load_error_message(info))

    def provider_hint(self, name: str) -> str:
        """Which distribution would provide ``name``, when we know one."""
        if name in self.info and self.info[name].error is not None:
            return f" (plugin {name!r} is installed but failed to load: run `runway plugins`)"
        dist = FIRST_PARTY_PLUGINS.get(name)
        if dist:
            return f" ({name!r} is provided by `pip install {dist}`)"
        return ""

    def unknown(self, kind: str, name: str, available: Iterable[str]) -> PluginError:
        """The error for asking a ``kind`` (logger, launcher...) nobody provides."""
        self.require(name)
        avail = sorted(set(available))
        listing = ", ".join(f"{a} [{self.distribution_of(a)}]" for a in avail) or "none"
        return PluginError(
            f"unknown {kind} {name!r}{self.provider_hint(name)}. Available {kind}s: {listing}"
        )

    def distribution_of(self, name: str) -> str:
        info = self.info.get(name)
        if info is None:
            return "?"
        if info.builtin:
            return "runway-core"
        return info.distribution or info.module


def _traceback() -> str:
    import traceback  # only when a plugin failed

    return traceback.format_exc()


def load_error_message(info: PluginInfo) -> str:
    dist = f"{info.distribution} {info.version}" if info.distribution else info.module
    return (
        f"plugin {info.name!r} from {dist} failed to import ({info.module}):\n"
        f"{(info.error or '').rstrip()}"
    )


def _entry_points(record: Any) -> list[metadata.EntryPoint]:
    from runway.plugins.discovery_cache import entry_points  # read once per environment, not per command

    return entry_points(ENTRY_POINT_GROUP, record.fingerprint if record is not None else None)  # type: ignore[return-value]


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager, reading a stand-in's hook options without ``inspect.getattr_static``
    (a stand-in lists only its hooks, each carrying the options it was recorded with)."""

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        standing_in = getattr(type(plugin), "runway_stand_in", False)
        if standing_in:
            return getattr(plugin, name).__dict__.get(hookspecs.IMPL_ATTRIBUTE)
        return super().parse_hookimpl_opts(plugin, name)


def _record() -> Any:
    from runway.plugins import discovery_cache, lazy

    if not discovery_cache.enabled():
        return None
    return lazy.Record.read(discovery_cache.fingerprint())


def _register(plugins: Plugins, info: PluginInfo, load: Any, record: Any) -> Any:
    """Register plugin ``info.name``: a stand-in when ``record`` knows its hooks, else the
    object ``load()`` imports (then recorded). A failed import raises, recording nothing."""
    pm = plugins.pm
    entry = record.entry(info.name, info.module) if record is not None else None
    if entry is not None:
        from runway.plugins.lazy import StandIn

        def failed(name: str) -> PluginError:
            info.error = _traceback()
            return PluginError(load_error_message(info))

        plugin = StandIn(info.name, info.module.partition(":")[0], entry, load, failed)
        pm.register(plugin, name=info.name)
        return plugin
    before = set(sys.modules) if record is not None else set()
    plugin = load()
    pm.register(plugin, name=info.name)
    if record is not None:
        record.add(info.name, info.module, plugin, pm, set(sys.modules) - before)
    return plugin


def _trace_to_stderr(plugins: Plugins) -> None:
    pm = plugins.pm

    def before(hook_name: str, impls: Sequence[Any], kwargs: dict[str, Any]) -> None:
        names = [pm.get_name(i.plugin) for i in impls]
        print(f"[runway trace] {hook_name}({', '.join(kwargs)}) -> {names}", file=sys.stderr)

    def after(outcome: Any, hook_name: str, impls: Sequence[Any], kwargs: dict[str, Any]) -> None:
        exc = outcome.exception
        shown = f"raised {exc!r}" if exc is not None else f"returned {outcome.get_result()!r:.200}"
        print(f"[runway trace] {hook_name} {shown}", file=sys.stderr)

    plugins.add_hookcall_monitoring(before, after)


def make_plugin_manager(
    *,
    builtins_only: bool | None = None,
    allow: Sequence[str] | None = None,
    block: Sequence[str] | None = None,
    trace: bool | None = None,
    builtins: dict[str, str] | None = None,
    entry_points: Iterable[metadata.EntryPoint] | None = None,
    extra_plugins: Iterable[tuple[str, Any]] = (),
) -> Plugins:
    """Build a plugin manager: specs, built-ins, installed plugins, checked.

    Keywords left as ``None`` are read from the environment switches above.
    ``extra_plugins`` are ``(name, plugin)`` pairs registered after the
    built-ins (used by tests and by projects that register in-process code).
    """
    builtins_only = _env_flag("RUNWAY_PLUGINS_BUILTIN_ONLY") if builtins_only is None else builtins_only
    allow = _env_list("RUNWAY_PLUGINS_ALLOW") if allow is None else list(allow)
    block = _env_list("RUNWAY_PLUGINS_BLOCK") if block is None else list(block)
    trace = _env_flag("RUNWAY_TRACE_PLUGINS") if trace is None else trace
    blocked = set(block or [])

    pm = _PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    plugins = Plugins(pm=pm)
    # what each plugin implements, when nothing changed since a command recorded it
    # (a plugin given here as an object, by a test, is imported as given)
    record = _record() if builtins is None or entry_points is None else None

    for name, module_name in (BUILTIN_PLUGINS if builtins is None else builtins).items():
        if name in blocked:
            continue
        info = PluginInfo(name=name, module=module_name, builtin=True)
        info.plugin = _register(plugins, info, lambda m=module_name: importlib.import_module(m), record if builtins is None else None)
        plugins.info[name] = info

    for name, plugin in extra_plugins:
        pm.register(plugin, name=name)
        plugins.info[name] = PluginInfo(name=name, module=type(plugin).__module__, plugin=plugin)

    if not builtins_only:
        eps = _entry_points(record) if entry_points is None else list(entry_points)
        for ep in eps:
            if ep.name in blocked or (allow is not None and ep.name not in allow):
                continue
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            dist = getattr(ep, "dist", None)
            info = PluginInfo(
                name=ep.name,
                module=ep.value,
                distribution=dist.metadata["Name"] if dist is not None else None,
                version=dist.version if dist is not None else None,
            )
            plugins.info[ep.name] = info
            try:
                info.plugin = _register(plugins, info, ep.load, record if entry_points is None else None)
            except (Exception, SystemExit):  # a broken plugin must not stop the others (nor exit for them)
                info.error = _traceback()

    if record is not None:
        record.write()
    pm.check_pending()
    if trace:
        _trace_to_stderr(plugins)
    return plugins


_default: Plugins | None = None


def get_plugins() -> Plugins:
    """The process-wide plugin manager, built on first use."""
    global _default
    if _default is None:
        _default = make_plugin_manager()
    return _default


def built_plugins() -> Plugins | None:
    """The process-wide plugin manager if something built it already, else ``None`` (nothing is loaded)."""
    return _default


def set_plugins(plugins: Plugins | None) -> Plugins | None:
    """Replace the process-wide plugin manager (tests); returns the old one."""
    global _default
    old, _default = _default, plugins
    return old
