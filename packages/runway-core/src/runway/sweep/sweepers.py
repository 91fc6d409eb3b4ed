"""Sweepers: what proposes a sweep's points, and receives their results.

Built-in plugin ``core-sweepers`` registers ``grid`` (every combination of
the ``--opts`` values) and ``random`` (``--trials N`` points sampled from the
ranges) through the ``register_sweepers`` hook, the same way a plugin
registers its own (``runway-optuna``'s ``optuna``).

A sweeper is built by its factory from a :class:`Search` and has two methods:

``ask(count)``
    up to ``count`` new points (``None``: every point it has) as
    :class:`Proposal` objects; ``[]`` once it proposes no more.
``tell(proposal, result)``
    the :class:`TrialResult` of a proposed point whose version has ended.

A sweeper whose ``adaptive`` attribute is false (grid, random) is asked
once, for every point, when the sweep starts: its points are in the ledger
before anything runs. An adaptive one is asked as slots free up and told
each result, and must keep its own state (in ``search.folder``) so that a
new process (``runway sweep resume``) picks the search up where it stopped;
``ask`` may then return fewer points than asked for while earlier ones have
not ended.

An adaptive sweeper may also have ``resume(proposals)``: called once per
process before the first ``ask`` with every proposal that the ledger holds,
so that it can let go of what it proposed but the sweep never recorded (a
kill between the two).

A proposal's ``info`` (JSON) is kept in the ledger's point and in the
version's ``provenance.json`` (``sweep.trial``), which is how the job of a
point finds what its sweeper needs there (a study and a trial number).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runway.errors import ConfigError, PluginError
from runway.hookspecs import hookimpl

if TYPE_CHECKING:  # the sweepers' code loads when a sweep asks for one, not with the plugin
    from runway.sweep.space import Axis

DIRECTIONS = ("max", "min")


@dataclass(frozen=True)
class Search:
    """What a sweep asks its sweeper for: the space, the budget and the objective."""

    axes: tuple[Axis, ...]
    trials: int | None = None
    metric: str | None = None
    direction: str = "max"
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    folder: Path = Path(".")
    sweep_id: str = ""
    launcher: str = "local"
    parallel: int = 1

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


@dataclass
class Proposal:
    """A point to run: the value of each ``--opts`` key, and what the sweeper wants to remember."""

    overrides: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialResult:
    """How a point's version ended: ``completed``, ``pruned``, ``failed`` or ``interrupted``, and the metric."""

    state: str
    value: float | None = None
    version_dir: Path | None = None
    error: str | None = None


class GridSweeper:
    """Every combination of the axes' values, the last axis changing fastest."""

    adaptive = False

    def __init__(self, search: Search) -> None:
        if search.trials is not None:
            raise ConfigError("--trials: a grid runs every combination; sample ranges with --random N or --sweeper random --trials N")
        from runway.sweep.space import expand_grid

        self._points = expand_grid(search.axes)

    def ask(self, count: int | None) -> list[Proposal]:
        taken, self._points = (self._points, []) if count is None else (self._points[:count], self._points[count:])
        return [Proposal(dict(p.overrides)) for p in taken]

    def tell(self, proposal: Proposal, result: TrialResult) -> None:
        """A grid does not learn."""


class RandomSweeper(GridSweeper):
    """``trials`` points sampled with ``random.Random(seed)``: the same seed gives the same points."""

    def __init__(self, search: Search) -> None:
        if search.trials is None:
            raise ConfigError("--sweeper random needs --trials N (or --random N): how many points to sample")
        from runway.sweep.space import sample_random

        self._points = sample_random(search.axes, search.trials, 0 if search.seed is None else search.seed)


@hookimpl
def register_sweepers(register: Callable[..., None]) -> None:
    register(GridSweeper, name="grid")
    register(RandomSweeper, name="random")


def sweeper_registry(plugins: Any) -> dict[str, tuple[Callable[[Search], Any], str]]:
    """Every registered sweeper factory and its plugin, by name; a name registered twice names both plugins."""

    def build() -> dict[str, tuple[Callable[[Search], Any], str]]:
        found: dict[str, tuple[Callable[[Search], Any], str]] = {}
        for impl in reversed(plugins.pm.hook.register_sweepers.get_hookimpls()):
            owner = plugins.pm.get_name(impl.plugin)

            def register(factory: Callable[[Search], Any], name: str | None = None, _owner: str = owner) -> None:
                key = name or getattr(factory, "name", None) or getattr(factory, "__name__", "")
                if key in found and found[key][1] != _owner:
                    raise PluginError(f"sweeper {key!r} is registered twice: by plugin {found[key][1]!r} and by plugin {_owner!r}")
                found[key] = (factory, _owner)

            impl.function(register=register)
        return found

    return plugins.cached("sweepers", build)


def make_sweeper(name: str, search: Search, plugins: Any) -> Any:
    """The sweeper ``name`` built for ``search``; an unknown name lists those available and where one would come from."""
    registry = sweeper_registry(plugins)
    if name not in registry:
        raise plugins.unknown("sweeper", name, registry)
    factory, _ = registry[name]
    return factory(search)


def check_objective(metric: str | None, direction: str | None) -> str:
    """The direction, checked (``max`` or ``min``)."""
    chosen = (direction or "max").lower()
    aliases = {"maximize": "max", "minimize": "min"}
    chosen = aliases.get(chosen, chosen)
    if chosen not in DIRECTIONS:
        raise ConfigError(f"--direction {direction!r}: use max or min")
    if direction is not None and metric is None:
        raise ConfigError("--direction needs --metric: the metric to maximise or minimise")
    return chosen
