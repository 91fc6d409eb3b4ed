"""The pipeline model: immutable nodes and a checked DAG.

Built from the ``data_pipeline`` section of a config::

    data_pipeline: {
      name: "sgd",
      regenerate: false,
      transforms: {
        "input:Load": {transform_name: "LoadRows", setup_kwargs: {path: "data/train.csv"}},
        "output:Tokenize": {
          input_node: "input:Load",         // one name, or a list: the transform gets a list
          transform_name: "Tokenize",
          setup_kwargs: {max_len: 128},
          regenerate: false, cache: true, inspect: false,
        },
      },
    }

Everything is checked before anything runs: unknown keys, unknown
transforms, missing input nodes, cycles and ``setup_kwargs`` that ``setup()``
does not accept. Every error is a :class:`~runway.errors.PipelineError`
naming the node and the config key.
"""

from __future__ import annotations

import graphlib
import inspect
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from runway.errors import PipelineError, did_you_mean
from runway.pipeline.registry import RegisteredTransform, TransformRegistry
from runway.pipeline.transform import setup_signature

SECTION = "data_pipeline"
OUTPUT_PREFIX = "output:"
NODE_KEYS = ("transform_name", "setup_kwargs", "input_node", "regenerate", "cache", "inspect")
PIPELINE_KEYS = ("name", "regenerate", "transforms")
#: setup kwargs that the pipeline reads itself and never passes to ``setup()``;
#: they begin with ``_``, so they do not join the cache key either
SHARDS_KWARG = "_shards"
SHARD_RETRIES_KWARG = "_shard_retries"
PIPELINE_KWARGS = (SHARDS_KWARG, SHARD_RETRIES_KWARG)


def node_key(node: str, *rest: str) -> str:
    """The config key of a node's field, as errors print it."""
    return ".".join([f"{SECTION}.transforms.{json.dumps(node)}", *rest])


# concrete types, not the Mapping ABC: isinstance on an ABC is slow on large graphs
_MAPPINGS = (dict, MappingProxyType)


def _frozen(value: Any) -> Any:
    if isinstance(value, _MAPPINGS):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


def thawed(value: Any) -> Any:
    """A plain ``dict``/``list`` copy of a frozen value (for ``setup()`` and JSON)."""
    if isinstance(value, _MAPPINGS):
        return {k: thawed(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thawed(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True)
class Node:
    """One step of the pipeline: a registered transform applied to its inputs."""

    name: str
    transform_name: str
    setup_kwargs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    inputs: tuple[str, ...] = ()
    #: ``input_node`` was written as a list: the transform receives a list
    inputs_as_list: bool = False
    regenerate: bool = False
    cache: bool = True
    inspect: bool = False

    @property
    def is_output(self) -> bool:
        return self.name.startswith(OUTPUT_PREFIX)

    @property
    def shards(self) -> int:
        """``setup_kwargs._shards`` (1: not sharded)."""
        return int(self.setup_kwargs.get(SHARDS_KWARG, 1))

    @property
    def shard_retries(self) -> int:
        """``setup_kwargs._shard_retries``: how often a failed shard is rerun (default 1)."""
        return int(self.setup_kwargs.get(SHARD_RETRIES_KWARG, 1))

    def transform_kwargs(self) -> dict[str, Any]:
        """A fresh copy of the ``setup_kwargs`` that ``setup()`` receives (without :data:`PIPELINE_KWARGS`)."""
        return {k: thawed(v) for k, v in self.setup_kwargs.items() if k not in PIPELINE_KWARGS}

    @classmethod
    def from_config(cls, name: str, raw: Any) -> "Node":
        if not isinstance(raw, Mapping):
            raise PipelineError(f"{node_key(name)}: expected an object with transform_name, got {raw!r}")
        for key in raw:
            if key not in NODE_KEYS:
                raise PipelineError(
                    f"{node_key(name, str(key))}: unknown key.{did_you_mean(str(key), NODE_KEYS)} "
                    f"A node takes: {', '.join(NODE_KEYS)}"
                )
        transform_name = raw.get("transform_name")
        if not isinstance(transform_name, str) or not transform_name:
            raise PipelineError(f"{node_key(name, 'transform_name')}: required, the name of a registered transform")
        setup_kwargs = raw.get("setup_kwargs") or {}
        if not isinstance(setup_kwargs, Mapping):
            raise PipelineError(f"{node_key(name, 'setup_kwargs')}: expected an object, got {setup_kwargs!r}")
        for kwarg, least in ((SHARDS_KWARG, 1), (SHARD_RETRIES_KWARG, 0)):
            value = setup_kwargs.get(kwarg, least)
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise PipelineError(
                    f"{node_key(name, 'setup_kwargs', kwarg)}: expected an integer of at least {least}, got {value!r}"
                )
        input_node = raw.get("input_node")
        if input_node is None:
            inputs: tuple[str, ...] = ()
            as_list = False
        elif isinstance(input_node, str):
            inputs, as_list = (input_node,), False
        elif isinstance(input_node, list) and all(isinstance(i, str) for i in input_node):
            inputs, as_list = tuple(input_node), True
        else:
            raise PipelineError(
                f"{node_key(name, 'input_node')}: expected a node name or a list of them, got {input_node!r}"
            )
        flags = {}
        for flag, default in (("regenerate", False), ("cache", True), ("inspect", False)):
            value = raw.get(flag, default)
            if not isinstance(value, bool):
                raise PipelineError(f"{node_key(name, flag)}: expected true or false, got {value!r}")
            flags[flag] = value
        return cls(
            name=name,
            transform_name=transform_name,
            setup_kwargs=_frozen(dict(setup_kwargs)),
            inputs=inputs,
            inputs_as_list=as_list,
            **flags,
        )


@dataclass(frozen=True, kw_only=True)
class Pipeline:
    """An immutable, acyclic set of nodes in topological order."""

    name: str = "pipeline"
    nodes: Mapping[str, Node]
    order: tuple[str, ...]
    regenerate: bool = False

    @classmethod
    def from_nodes(cls, nodes: Iterable[Node], *, name: str = "pipeline", regenerate: bool = False) -> "Pipeline":
        """Check references and acyclicity; order the nodes topologically."""
        by_name: dict[str, Node] = {}
        for node in nodes:
            if node.name in by_name:
                raise PipelineError(f"{node_key(node.name)}: two nodes have this name")
            by_name[node.name] = node
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        for node in by_name.values():
            for index, upstream in enumerate(node.inputs):
                if upstream not in by_name:
                    key = node_key(node.name, "input_node" + (f".{index}" if node.inputs_as_list else ""))
                    raise PipelineError(
                        f"{key}: no node named {upstream!r}.{did_you_mean(upstream, by_name)}"
                    )
            sorter.add(node.name, *node.inputs)
        try:
            order = tuple(sorter.static_order())
        except graphlib.CycleError as exc:
            cycle = exc.args[1]
            raise PipelineError(
                f"{SECTION}.transforms: the graph has a cycle: {' -> '.join(cycle)} "
                f"(check the input_node of {', '.join(repr(n) for n in dict.fromkeys(cycle))})"
            ) from None
        return cls(name=name, nodes=MappingProxyType(by_name), order=order, regenerate=regenerate)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Pipeline":
        """Build from a config's ``data_pipeline`` section (or a whole config holding one)."""
        section = config.get(SECTION, config) if isinstance(config, Mapping) else config
        if not isinstance(section, Mapping):
            raise PipelineError(f"{SECTION}: expected an object with 'transforms', got {section!r}")
        for key in section:
            if key not in PIPELINE_KEYS:
                raise PipelineError(f"{SECTION}.{key}: unknown key.{did_you_mean(str(key), PIPELINE_KEYS)}")
        transforms = section.get("transforms")
        if not isinstance(transforms, Mapping) or not transforms:
            raise PipelineError(f"{SECTION}.transforms: required, an object of nodes (name -> transform)")
        regenerate = section.get("regenerate", False)
        if not isinstance(regenerate, bool):
            raise PipelineError(f"{SECTION}.regenerate: expected true or false, got {regenerate!r}")
        nodes = [Node.from_config(str(name), raw) for name, raw in transforms.items()]
        return cls.from_nodes(nodes, name=str(section.get("name") or "pipeline"), regenerate=regenerate)

    # ------------------------------------------------------------------ queries

    def __contains__(self, name: object) -> bool:
        return name in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def default_targets(self) -> tuple[str, ...]:
        """The nodes a run produces by default: those named ``output:...``.

        A pipeline without such nodes produces its sinks (nodes nothing reads).
        """
        outputs = tuple(n for n in self.order if self.nodes[n].is_output)
        if outputs:
            return outputs
        consumed = {i for node in self.nodes.values() for i in node.inputs}
        return tuple(n for n in self.order if n not in consumed)

    def check_targets(self, targets: Iterable[str]) -> tuple[str, ...]:
        checked = []
        for name in targets:
            if name not in self.nodes:
                raise PipelineError(f"--node {name!r}: no such node in {SECTION}.transforms.{did_you_mean(name, self.nodes)}")
            checked.append(name)
        return tuple(dict.fromkeys(checked))

    def ancestors(self, targets: Iterable[str]) -> set[str]:
        """``targets`` and every node they read from, transitively."""
        seen: set[str] = set()
        stack = list(targets)
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            stack.extend(self.nodes[name].inputs)
        return seen

    def consumers(self) -> dict[str, list[str]]:
        """Node -> the nodes that read it."""
        readers: dict[str, list[str]] = {n: [] for n in self.order}
        for name in self.order:
            for upstream in self.nodes[name].inputs:
                readers[upstream].append(name)
        return readers

    # ------------------------------------------------------------- validation

    def check_transforms(self, registry: TransformRegistry) -> dict[str, RegisteredTransform]:
        """Resolve every node's transform and check its ``setup_kwargs``."""
        resolved: dict[str, RegisteredTransform] = {}
        signatures: dict[type, inspect.Signature] = {}
        for name in self.order:
            node = self.nodes[name]
            entry = registry.lookup(node.transform_name, where=node_key(name, "transform_name"))
            sig = signatures.get(entry.cls)
            if sig is None:
                sig = signatures[entry.cls] = _without_self(setup_signature(entry.cls))
            check_setup_kwargs(node, entry, sig)
            resolved[name] = entry
        for name in self.order:
            if self.nodes[name].shards > 1:
                self._check_sharded(self.nodes[name], resolved[name], registry)
        return resolved

    def _check_sharded(self, node: Node, entry: RegisteredTransform, registry: TransformRegistry) -> None:
        """A node with ``_shards`` > 1: its transform maps rows, and its input and output are cached."""
        where = node_key(node.name, "setup_kwargs", SHARDS_KWARG)
        if not entry.cls.shardable:
            shardable = [n for n in registry if registry.get(n).cls.shardable]  # type: ignore[union-attr]
            raise PipelineError(
                f"{where}: transform {entry.name} is not shardable (it does not declare shardable = True, "
                "as a transform that maps rows independently does). Shardable transforms: "
                + (", ".join(shardable) if shardable else "none registered")
            )
        if not node.cache:
            raise PipelineError(f"{where}: a sharded node assembles its entry in the cache; remove cache: false or _shards")
        if not node.inputs:
            raise PipelineError(f"{where}: {entry.name} has no input node to split into shards")
        for upstream in node.inputs:
            if not self.nodes[upstream].cache:
                raise PipelineError(
                    f"{where}: its input {upstream!r} has cache: false, but each shard's process reads "
                    "its input from the cache; cache that node, or remove _shards"
                )


def _without_self(sig: inspect.Signature) -> inspect.Signature:
    params = list(sig.parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    return sig.replace(parameters=params)


def check_setup_kwargs(node: Node, entry: RegisteredTransform, sig: inspect.Signature) -> None:
    """Raise when ``setup()`` would not accept the node's ``setup_kwargs``."""
    params = sig.parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    accepted = [
        p.name
        for p in params.values()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    owner = f"{entry.name}.setup()"
    if not takes_any:
        for key in node.setup_kwargs:
            if key not in accepted and key not in PIPELINE_KWARGS:
                raise PipelineError(
                    f"{node_key(node.name, 'setup_kwargs', str(key))}: {owner} has no parameter {key!r}."
                    f"{did_you_mean(str(key), accepted)} It accepts: {', '.join(accepted) or 'nothing'}"
                )
    missing = [
        p.name
        for p in params.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and p.name not in node.setup_kwargs
    ]
    if missing:
        raise PipelineError(
            f"{node_key(node.name, 'setup_kwargs')}: {owner} requires {', '.join(repr(m) for m in missing)}"
        )
