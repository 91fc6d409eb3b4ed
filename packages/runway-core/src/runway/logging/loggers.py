"""Routing a run's metrics to the logger plugins it enables.

A logger is a plugin that implements ``log_metrics``; the plugin's name is the
logger's name (``--logger mlflow``). :class:`LoggerSet` calls only the enabled
loggers (everything else receives nothing), and each one separately: a backend
that raises is reported in a :class:`LoggerWarning` and never stops the run,
while the others keep receiving everything. The built-in ``csv`` logger is
always enabled, first, so a local copy exists for ``runway sync`` to replay.

``log_metrics`` is on the training loop's hot path, so each enabled plugin's
implementation is called directly (pluggy's own call costs several
microseconds per plugin). When the hook has wrapper implementations or hook
tracing is on, the calls go through ``pm.subset_hook_caller`` instead, one
per plugin, so that wrappers and traces see them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from runway.logging.run import Run
from runway.plugins.manager import Plugins, get_plugins

CSV_LOGGER = "csv"
LOGGER_HOOKS = ("logger_start_run", "log_metrics", "log_artifact", "logger_finish_run")
# A backend that fails this many calls in a row is not called again in this
# run: a dead server would otherwise cost its timeout on every training step.
MAX_CONSECUTIVE_FAILURES = 3


class LoggerWarning(UserWarning):
    """A logging backend failed; the run goes on and the csv copy has the data."""


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def resolve_logger_names(cli_values: Sequence[str], config: dict) -> list[str]:
    """The loggers a run enables: ``csv`` first, then the asked-for ones, once each.

    ``cli_values`` are the ``--logger`` values (each may be a comma list,
    ``"csv,mlflow"``); when there are none, the config's ``loggers`` key (a
    list or a comma-separated string) decides.
    """
    asked: list[str] = []
    for value in cli_values or ():
        asked.extend(_split(value))
    if not asked:
        configured = (config or {}).get("loggers") or []
        if isinstance(configured, str):
            configured = [configured]
        for value in configured:
            asked.extend(_split(str(value)))
    names = [CSV_LOGGER]
    for name in asked:
        if name not in names:
            names.append(name)
    return names


MetricsCall = Callable[[Run, dict, "int | None"], Any]


@dataclass
class _Unsent:
    """What one backend did not receive, for the warning at the end."""

    values: int = 0
    calls: int = 0
    names: set[str] = field(default_factory=set)
    first_step: int | None = None
    last_step: int | None = None
    artifacts: list[str] = field(default_factory=list)

    def add(self, metrics: dict[str, float], step: int | None) -> None:
        self.calls += 1
        self.values += len(metrics)
        self.names.update(metrics)
        if step is not None:
            if self.first_step is None or step < self.first_step:
                self.first_step = step
            if self.last_step is None or step > self.last_step:
                self.last_step = step

    def describe(self) -> str:
        parts = []
        if self.values:
            names = ", ".join(sorted(self.names)[:8]) + (", ..." if len(self.names) > 8 else "")
            steps = ""
            if self.first_step is not None:
                steps = f" at steps {self.first_step}..{self.last_step}"
            parts.append(f"{self.values} metric values ({names}){steps}")
        if self.artifacts:
            parts.append(f"{len(self.artifacts)} artifacts ({', '.join(self.artifacts[:5])})")
        return " and ".join(parts)

    def __bool__(self) -> bool:
        return bool(self.values or self.artifacts)


@dataclass
class _Backend:
    """One enabled logger plugin and how to call each of its hooks."""

    name: str
    calls: dict[str, Callable[..., Any]]
    started: bool = False
    off: bool = False  # not called any more in this run
    warned: bool = False
    streak: int = 0
    last_failed_call: int = -2
    first_error: str = ""
    unsent: _Unsent = field(default_factory=_Unsent)


def _impl_call(impl: Any, hook_name: str) -> Callable[..., Any]:
    """Call one hookimpl with the hook's keyword arguments, as pluggy would."""
    function, argnames = impl.function, tuple(impl.argnames)
    if hook_name == "log_metrics" and argnames == ("run", "metrics", "step"):
        return function  # the common case costs one plain call

    def call(**kwargs: Any) -> Any:
        return function(*[kwargs[name] for name in argnames])

    if hook_name == "log_metrics":
        return lambda run, metrics, step: call(run=run, metrics=metrics, step=step)
    return call


def _subset_call(plugins: Plugins, hook_name: str, others: list[Any]) -> Callable[..., Any]:
    caller = plugins.pm.subset_hook_caller(hook_name, remove_plugins=others)
    if hook_name == "log_metrics":
        return lambda run, metrics, step: caller(run=run, metrics=metrics, step=step)
    return caller


def _hook_is_traced_or_wrapped(plugins: Plugins, hook_name: str) -> bool:
    if plugins.monitored:
        return True
    return any(impl.wrapper or impl.hookwrapper for impl in getattr(plugins.pm.hook, hook_name).get_hookimpls())


def available_loggers(plugins: Plugins) -> list[str]:
    """Names of the plugins that implement ``log_metrics``."""
    return plugins.implementers("log_metrics")


def check_logger_names(names: Sequence[str], plugins: Plugins) -> None:
    """Raise the ``PluginError`` of the first name that no loaded plugin provides.

    Commands call this before they allocate anything, so that a typo in
    ``--logger`` costs nothing.
    """
    available = available_loggers(plugins)
    for name in names:
        plugins.require(name)
        if name not in available:
            raise plugins.unknown("logger", name, available)


class LoggerSet:
    """The enabled loggers of one run, each called on its own.

    ``names`` are logger (plugin) names; ``csv`` is added first when missing
    unless ``include_csv=False`` (``runway sync`` replays the csv copy into
    other backends only). An unknown name raises ``PluginError`` listing the
    available loggers; a logger whose plugin failed to import raises its
    import error.

    Use :func:`open_loggers`, or ``start()`` then ``log_metrics(...)`` and
    ``finish(status)``; as a context manager it finishes with ``completed``,
    ``interrupted`` (``KeyboardInterrupt``) or ``failed``.
    """

    def __init__(
        self,
        names: list[str],
        run: Run,
        plugins: Plugins | None = None,
        *,
        include_csv: bool = True,
    ) -> None:
        self.plugins = plugins if plugins is not None else get_plugins()
        self.run = run
        wanted = list(dict.fromkeys(names))
        if include_csv and CSV_LOGGER not in wanted:
            wanted.insert(0, CSV_LOGGER)
        check_logger_names(wanted, self.plugins)
        self.names = wanted
        self._backends = [self._backend(name) for name in wanted]
        self._metric_calls: list[tuple[_Backend, MetricsCall]] = []
        self._skipped: list[_Backend] = []
        self._call_count = 0
        self._started = False
        self._finished = False
        self._refresh_routes()

    # ----------------------------------------------------------- construction

    def _backend(self, name: str) -> _Backend:
        pm = self.plugins.pm
        plugin = pm.get_plugin(name)
        # Every other plugin that implements a logger hook is left out of this
        # backend's calls; non-logger wrappers stay in.
        others = {
            id(impl.plugin): impl.plugin
            for hook_name in LOGGER_HOOKS
            for impl in getattr(pm.hook, hook_name).get_hookimpls()
            if impl.plugin is not plugin and not (impl.wrapper or impl.hookwrapper)
        }
        calls: dict[str, Callable[..., Any]] = {}
        for hook_name in LOGGER_HOOKS:
            impls = [
                impl
                for impl in getattr(pm.hook, hook_name).get_hookimpls()
                if impl.plugin is plugin and not (impl.wrapper or impl.hookwrapper)
            ]
            if not impls:
                continue
            if _hook_is_traced_or_wrapped(self.plugins, hook_name):
                calls[hook_name] = _subset_call(self.plugins, hook_name, list(others.values()))
            else:
                calls[hook_name] = _impl_call(impls[0], hook_name)
        return _Backend(name=name, calls=calls)

    def _refresh_routes(self) -> None:
        self._metric_calls = [
            (b, b.calls["log_metrics"]) for b in self._backends if not b.off and "log_metrics" in b.calls
        ]
        self._skipped = [b for b in self._backends if b.off]

    # ------------------------------------------------------------------ calls

    def start(self) -> None:
        """Each enabled logger opens (or resumes) its run; a failure switches it off."""
        if self._started:
            return
        self._started = True
        for backend in self._backends:
            call = backend.calls.get("logger_start_run")
            if call is None:
                backend.started = True
                continue
            try:
                call(run=self.run)
                backend.started = True
            except Exception as exc:
                backend.off = True
                backend.first_error = _describe(exc)
                backend.warned = True
                self._warn(
                    f"logger {backend.name!r} could not start its run ({backend.first_error}); "
                    f"it receives nothing more in this run. {self._keeping_note(backend)}"
                )
        self._refresh_routes()

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Send ``metrics`` at ``step`` to every enabled logger."""
        self._call_count += 1
        run = self.run
        skipped = self._skipped  # before a failure below switches one off
        for backend, call in self._metric_calls:
            try:
                call(run, metrics, step)
            except Exception as exc:
                self._metrics_failed(backend, exc, metrics, step)
        if skipped:
            for backend in skipped:
                backend.unsent.add(metrics, step)

    def log_artifact(self, path: Any, name: str) -> None:
        """Hand the file at ``path`` (``name`` relative to the version folder) to the loggers."""
        path = str(path)
        for backend in self._backends:
            call = backend.calls.get("log_artifact")
            if call is None:
                continue
            if backend.off:
                backend.unsent.artifacts.append(name)
                continue
            try:
                call(run=self.run, path=path, name=name)
            except Exception as exc:
                backend.unsent.artifacts.append(name)
                self._first_failure(backend, "log_artifact", exc, f"artifact {name!r}")

    def finish(self, status: str) -> None:
        """Close every started logger with ``status`` (``completed``, ``failed``,
        ``interrupted``) and warn about what a backend did not receive."""
        if self._finished:
            return
        self._finished = True
        for backend in self._backends:
            call = backend.calls.get("logger_finish_run")
            if call is not None and backend.started:
                try:
                    call(run=self.run, status=status)
                except Exception as exc:
                    self._first_failure(backend, "logger_finish_run", exc, f"the final status {status!r}")
            if backend.unsent:
                self._warn(
                    f"logger {backend.name!r} did not receive {backend.unsent.describe()} "
                    f"(first error: {backend.first_error}). {self._keeping_note(backend)}"
                )

    def __enter__(self) -> "LoggerSet":
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.finish("completed")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish("interrupted")
        else:
            self.finish("failed")

    # --------------------------------------------------------------- failures

    def _metrics_failed(self, backend: _Backend, exc: Exception, metrics: dict, step: int | None) -> None:
        backend.unsent.add(metrics, step)
        if backend.last_failed_call == self._call_count - 1:
            backend.streak += 1
        else:
            backend.streak = 1
        backend.last_failed_call = self._call_count
        at = "" if step is None else f" at step {step}"
        self._first_failure(backend, "log_metrics", exc, f"{', '.join(sorted(metrics))}{at}")
        if backend.streak >= MAX_CONSECUTIVE_FAILURES:
            backend.off = True
            self._refresh_routes()

    def _first_failure(self, backend: _Backend, hook_name: str, exc: Exception, what: str) -> None:
        if backend.warned:
            return
        backend.warned = True
        backend.first_error = _describe(exc)
        self._warn(
            f"logger {backend.name!r} failed in {hook_name} ({backend.first_error}); not sent: {what}. "
            f"The run goes on; after {MAX_CONSECUTIVE_FAILURES} failures in a row it is not called again, "
            "and what it misses is reported when the run finishes."
        )

    def _keeping_note(self, backend: _Backend) -> str:
        if CSV_LOGGER in self.names and backend.name != CSV_LOGGER:
            return (
                f"The csv copy in {self.run.log_dir} has every metric: "
                f"`runway sync {self.run.experiment} --version {self.run.version} --logger {backend.name}` "
                "sends it later."
            )
        return ""

    @staticmethod
    def _warn(message: str) -> None:
        warnings.warn(message, LoggerWarning, stacklevel=3)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def open_loggers(names: list[str], run: Run, plugins: Plugins | None = None, **options: Any) -> LoggerSet:
    """Build the :class:`LoggerSet` for ``names`` and start it."""
    loggers = LoggerSet(names, run, plugins, **options)
    loggers.start()
    return loggers
