"""Sweepers through the ``register_sweepers`` hook: core's grid and random, a plugin's, and clashes."""

from __future__ import annotations

import pytest

import runway
from runway.errors import ConfigError, PluginError
from runway.sweep.runner import build_points
from runway.sweep.space import parse_axes
from runway.sweep.sweepers import Proposal, Search, TrialResult, make_sweeper, sweeper_registry


class Halving:
    """A plugin's adaptive sweeper: halves lr after each result it is told."""

    adaptive = True

    def __init__(self, search):
        self.lr = 1.0
        self.told = []

    def ask(self, count):
        return [Proposal({"lr": self.lr}, {"n": len(self.told)})]

    def tell(self, proposal, result):
        self.told.append((proposal.info["n"], result.state, result.value))
        self.lr /= 2


class HalvingPlugin:
    @runway.hookimpl
    def register_sweepers(self, register):
        register(Halving, name="halving")


def test_core_sweepers_are_registered_like_a_plugins(runway_builtin_plugins, register_plugin):
    register_plugin(HalvingPlugin(), name="halving-plugin")
    registry = sweeper_registry(runway_builtin_plugins)
    assert {name: owner for name, (_, owner) in registry.items()} == {
        "grid": "core-sweepers", "random": "core-sweepers", "halving": "halving-plugin",
    }
    sweeper = make_sweeper("halving", Search(axes=()), runway_builtin_plugins)
    (first,) = sweeper.ask(1)
    sweeper.tell(first, TrialResult("completed", 0.5))
    assert sweeper.ask(1)[0].overrides == {"lr": 0.5} and sweeper.told == [(0, "completed", 0.5)]


def test_a_sweeper_name_registered_twice_names_both_plugins(runway_builtin_plugins, register_plugin):
    class Again:
        @runway.hookimpl
        def register_sweepers(self, register):
            register(Halving, name="grid")

    register_plugin(Again(), name="again")
    with pytest.raises(PluginError, match="sweeper 'grid' is registered twice: by plugin '(core-sweepers|again)' and by plugin '(core-sweepers|again)'"):
        sweeper_registry(runway_builtin_plugins)


def test_grid_and_random_propose_what_they_always_did(runway_builtin_plugins):
    axes = tuple(parse_axes(["lr=1e-3,1e-4", "batch=16,32", "drop=uniform(0,0.5)"][:2]))
    grid = make_sweeper("grid", Search(axes=axes), runway_builtin_plugins).ask(None)
    assert [p.overrides for p in grid] == [pt.overrides for pt in build_points(axes, None, None)]
    ranged = tuple(parse_axes(["lr=loguniform(1e-5,1e-2)", "batch=16,32"]))
    sampled = make_sweeper("random", Search(axes=ranged, trials=5, seed=7), runway_builtin_plugins).ask(None)
    assert [p.overrides for p in sampled] == [pt.overrides for pt in build_points(ranged, 5, 7)]
    with pytest.raises(ConfigError, match="needs --trials N"):
        make_sweeper("random", Search(axes=ranged), runway_builtin_plugins)


def test_pruned_reads_as_its_own_end_state(tmp_path):
    from runway.experiment.status import mark_pruned, read_status, write_status
    from runway.sweep.state import observe_point

    write_status(tmp_path, "running")
    mark_pruned(tmp_path, "pruned at epoch 1")
    write_status(tmp_path, "completed")
    assert read_status(tmp_path)["state"] == "pruned"
    experiments = tmp_path.parent
    (experiments / "x_V1").mkdir(exist_ok=True)
    mark_pruned(experiments / "x_V1", "why")
    write_status(experiments / "x_V1", "completed")
    seen = observe_point({"version": 1, "state": "pending"}, experiments, "x", runner_alive=False, job_status=lambda r: None)
    assert seen["state"] == "pruned"
