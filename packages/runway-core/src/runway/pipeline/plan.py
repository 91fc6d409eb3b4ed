"""Planning: each node's cache key, and whether a run loads it, runs it or skips it.

The plan is what ``runway pipeline explain`` prints and what a run follows.
Keys are known before anything runs (they hash the inputs' keys, not their
data), so the plan walks the graph backwards from the requested nodes: a
node whose entry is in the cache is loaded and its inputs are not needed at
all; a node that must run needs its inputs.

A node runs when it is not cached (``cache: false``), when regeneration is
asked for it or for a node it reads from (``regenerate: true`` on the node,
``data_pipeline.regenerate: true``, or ``--regenerate NODE``), or when its
key has no complete entry; the reason is then said at the level of the key
part that changed since the node's latest entry.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.errors import PipelineError, did_you_mean
from runway.pipeline.cache import CacheStore
from runway.pipeline.graph import Node, Pipeline, node_key, thawed
from runway.pipeline.input_digests import InputDigests
from runway.pipeline.keys import file_digests, hashed_setup_kwargs, key_of, source_digest
from runway.pipeline.registry import RegisteredTransform

RUN = "RUN"
LOAD = "LOAD"
SKIP = "SKIP"


@dataclass(frozen=True, kw_only=True)
class NodePlan:
    """What a run does with one node, and why."""

    name: str
    action: str  # RUN, LOAD or SKIP
    reasons: tuple[str, ...]
    key: str
    parts: Mapping[str, Any]
    forced: bool = False  # regeneration asked for it or for a node upstream


@dataclass(frozen=True, kw_only=True)
class Plan:
    """The plan of one run: nodes in topological order, restricted to what the targets need."""

    pipeline: Pipeline
    targets: tuple[str, ...]
    nodes: Mapping[str, NodePlan]
    transforms: Mapping[str, RegisteredTransform]
    dummy: bool = False
    regenerate: frozenset[str] = field(default_factory=frozenset)

    @property
    def keys(self) -> dict[str, str]:
        return {name: p.key for name, p in self.nodes.items()}

    def counts(self) -> dict[str, int]:
        found = {RUN: 0, LOAD: 0, SKIP: 0}
        for node in self.nodes.values():
            found[node.action] += 1
        return found


def key_parts(
    node: Node,
    entry: RegisteredTransform,
    input_keys: Iterable[tuple[str, str]],
    *,
    root: Path,
    dummy: bool,
    digests: InputDigests | None = None,
) -> dict[str, Any]:
    """The parts that a node's cache key hashes (see :mod:`runway.pipeline.keys`)."""
    setup_kwargs = thawed(node.setup_kwargs)
    files = (
        file_digests(entry.cls, setup_kwargs, root=root, where=node_key(node.name), digests=digests)
        if entry.cls.file_inputs
        else {}
    )
    return {
        "transform": entry.name,
        "version": entry.cls.version,
        "source": source_digest(entry.cls),
        "setup_kwargs": hashed_setup_kwargs(setup_kwargs),
        "inputs": [[name, key] for name, key in input_keys],
        "files": files,
        "dummy": dummy,
    }


# ---------------------------------------------------------------- reasons


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}", out)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}.{index}", out)
    else:
        out[prefix] = value


def describe_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What differs between two nodes' key parts, one phrase per changed config key."""
    reasons: list[str] = []
    name = after.get("transform")
    if before.get("transform") != name:
        reasons.append(f"transform {before.get('transform')} -> {name}")
    else:
        if before.get("version") != after.get("version"):
            reasons.append(f"transform version {before.get('version')} -> {after.get('version')}")
        if before.get("source") != after.get("source"):
            reasons.append(f"transform {name} source changed")
    old_kwargs: dict[str, Any] = {}
    new_kwargs: dict[str, Any] = {}
    if before.get("setup_kwargs") != after.get("setup_kwargs"):
        _flatten(before.get("setup_kwargs") or {}, "setup_kwargs", old_kwargs)
        _flatten(after.get("setup_kwargs") or {}, "setup_kwargs", new_kwargs)
    for path in sorted(set(old_kwargs) | set(new_kwargs)):
        if path not in old_kwargs:
            reasons.append(f"{path} added: {_show(new_kwargs[path])}")
        elif path not in new_kwargs:
            reasons.append(f"{path} removed (was {_show(old_kwargs[path])})")
        elif old_kwargs[path] != new_kwargs[path] or type(old_kwargs[path]) is not type(new_kwargs[path]):
            reasons.append(f"{path} {_show(old_kwargs[path])} -> {_show(new_kwargs[path])}")
    old_inputs = [tuple(i) for i in before.get("inputs") or []]
    new_inputs = [tuple(i) for i in after.get("inputs") or []]
    if [n for n, _ in old_inputs] != [n for n, _ in new_inputs]:
        reasons.append(f"input_node {_show([n for n, _ in old_inputs])} -> {_show([n for n, _ in new_inputs])}")
    else:
        for (input_name, old_key), (_, new_key) in zip(old_inputs, new_inputs):
            if old_key != new_key:
                reasons.append(f"input {input_name} changed")
    old_files = before.get("files") or {}
    new_files = after.get("files") or {}
    for path in sorted(set(old_files) | set(new_files)):
        if path not in old_files:
            reasons.append(f"file {path} added")
        elif path not in new_files:
            reasons.append(f"file {path} no longer used")
        elif old_files[path] != new_files[path]:
            reasons.append(f"file {path} changed")
    if bool(before.get("dummy")) != bool(after.get("dummy")):
        reasons.append(f"dummy data {'on' if before.get('dummy') else 'off'} -> {'on' if after.get('dummy') else 'off'}")
    return reasons


def _why_missing(store: CacheStore, name: str, key: str, parts: Mapping[str, Any], status: str) -> tuple[str, ...]:
    if status == "incomplete":
        return ("entry incomplete (no completion marker)",)
    # a real run is explained against the last real one, a dummy run against the last dummy one;
    # only where there is none does the other kind stand in (its reasons then include the dummy flag)
    dummy = bool(parts.get("dummy"))
    latest = store.read_latest(name, dummy=dummy) or store.read_latest(name, dummy=not dummy)
    if latest is None or not isinstance(latest.get("parts"), Mapping):
        return ("no entry",)
    if latest.get("key") == key:
        return ("no entry (its latest entry was deleted)",)
    return tuple(describe_changes(latest["parts"], parts)) or ("no entry",)


# ---------------------------------------------------------------- planning


def check_regenerate(pipeline: Pipeline, names: Iterable[str]) -> frozenset[str]:
    checked = set()
    for name in names:
        if name not in pipeline:
            raise PipelineError(f"--regenerate {name!r}: no such node in data_pipeline.transforms.{did_you_mean(name, pipeline.nodes)}")
        checked.add(name)
    return frozenset(checked)


def decide(
    order: Iterable[str],
    targets: Collection[str],
    *,
    inputs_of: Mapping[str, Iterable[str]],
    loadable: Any,
) -> dict[str, str]:
    """RUN or LOAD for each node the targets need (walking backwards); others are absent."""
    needed = set(targets)
    actions: dict[str, str] = {}
    for name in reversed(list(order)):
        if name not in needed:
            continue
        if loadable(name):
            actions[name] = LOAD
        else:
            actions[name] = RUN
            needed.update(inputs_of[name])
    return actions


def make_plan(
    pipeline: Pipeline,
    transforms: Mapping[str, RegisteredTransform],
    store: CacheStore,
    *,
    root: Path,
    targets: Iterable[str] | None = None,
    regenerate: Iterable[str] = (),
    dummy: bool = False,
) -> Plan:
    """Keys, actions and reasons for a run of ``targets`` (default: the ``output:`` nodes)."""
    targets = pipeline.check_targets(targets) if targets else pipeline.default_targets()
    asked = check_regenerate(pipeline, regenerate)
    closure = pipeline.ancestors(targets)
    order = [n for n in pipeline.order if n in closure]

    keys: dict[str, str] = {}
    parts_of: dict[str, dict[str, Any]] = {}
    forced_why: dict[str, str] = {}
    digests = InputDigests(store.root)
    for name in order:
        node = pipeline.nodes[name]
        parts = key_parts(
            node, transforms[name], [(i, keys[i]) for i in node.inputs], root=root, dummy=dummy, digests=digests
        )
        parts_of[name] = parts
        keys[name] = key_of(parts, node=name)
        if name in asked:
            forced_why[name] = "regenerate requested (--regenerate)"
        elif node.regenerate:
            forced_why[name] = "regenerate requested (regenerate: true)"
        elif pipeline.regenerate:
            forced_why[name] = "regenerate requested (data_pipeline.regenerate: true)"
        else:
            upstream = next((i for i in node.inputs if i in forced_why), None)
            if upstream is not None:
                forced_why[name] = f"input {upstream} regenerated"

    digests.save()
    statuses: dict[str, str] = {}

    def status(name: str) -> str:
        if name not in statuses:
            statuses[name] = store.status(name, keys[name])
        return statuses[name]

    def loadable(name: str) -> bool:
        return name not in forced_why and pipeline.nodes[name].cache and status(name) == "ok"

    actions = decide(order, targets, inputs_of={n: pipeline.nodes[n].inputs for n in order}, loadable=loadable)
    readers = pipeline.consumers()

    plans: dict[str, NodePlan] = {}
    for name in order:
        action = actions.get(name, SKIP)
        node = pipeline.nodes[name]
        if action == LOAD:
            reasons: tuple[str, ...] = (f"cached ({keys[name][:12]})",)
        elif action == SKIP:
            loaders = [r for r in readers[name] if actions.get(r) == LOAD]
            verb = "loads" if len(loaders) == 1 else "load"
            reasons = (f"not needed: {', '.join(loaders) or 'its readers'} {verb} from cache",)
        elif name in forced_why:
            reasons = (forced_why[name],) + (() if node.cache else ("not cached (cache: false)",))
        elif not node.cache:
            reasons = ("not cached (cache: false)",)
        else:
            reasons = _why_missing(store, name, keys[name], parts_of[name], status(name))
        plans[name] = NodePlan(
            name=name,
            action=action,
            reasons=reasons,
            key=keys[name],
            parts=parts_of[name],
            forced=name in forced_why,
        )
    return Plan(
        pipeline=pipeline,
        targets=targets,
        nodes=plans,
        transforms={n: transforms[n] for n in order},
        dummy=dummy,
        regenerate=asked,
    )


def explain_lines(plan: Plan) -> list[str]:
    """One line per node: action, name, reasons (what ``runway pipeline explain`` prints)."""
    from runway.support.tables import render_table

    rows = [(node.action, name, "; ".join(node.reasons)) for name, node in plan.nodes.items()]
    return render_table(None, rows, max_width=None, align="<<<")
