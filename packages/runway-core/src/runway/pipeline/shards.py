"""Sharded transforms: one node computed as N processes, then merged into its entry.

A node whose transform declares ``shardable = True`` (it maps rows
independently) and whose ``setup_kwargs`` say ``_shards: N`` (N > 1) is
computed in three steps:

1. **stage** (:func:`stage_sharded_node`): the process running the pipeline
   writes the node's *shard plan* (transform, setup kwargs, the keys of its
   input entries) into the node's staging area in the cache;
2. **shards** (:func:`run_shard`): N processes, each reading the plan and
   its inputs' cache entries, transform the contiguous slice
   ``Transform.shard_input(data, index, N)`` of the input and store the
   output as an entry of its own in the staging area (written to a temporary
   folder and renamed into place under the shard's lock, so a killed shard
   never looks complete);
3. **merge** (:func:`merge_sharded_entry`): ``Transform.merge_shards`` joins
   the shards' outputs in shard order into the node's entry, under the
   node's usual key (``_shards`` begins with ``_``: it does not join the
   key), and the staging area is removed.

With ``--launcher local`` (the default) ``runway prepare`` runs the missing
shards as local processes, all at once, each doing what
``python -m runway.pipeline.shards`` does; they are forked from a server
process that imported the transform's ``shard_imports`` (``datasets`` for
runway-hf's) once (:mod:`runway.support.forkserver`: a process has one
such server, which preloads what was asked for before it started; in a
process that ran a local sweep first, shards are as correct, only less
warm). A shard whose process fails is rerun alone, ``_shard_retries``
times (default 1; an error in the config, exit code 2, is not retried). Shards
completed before a crash stay in the staging area and are reused by the
next prepare of the same key; ``--regenerate`` discards them.

Staging area of a node's key::

    <node folder>/.shards-<key>/plan.json                 the shard plan
    <node folder>/.shards-<key>/shard-0003-of-0008/<key>/  shard 3's entry (data/, meta.json, COMPLETE)
    <node folder>/.shards-<key>/shard-0003-of-0008.log     output of its latest local process
    <node folder>/.shards-<key>/.locks/                    one lock per shard

Another launcher (a SLURM job array) runs step 2 as one task per shard,
calling :func:`run_shard` or ``python -m runway.pipeline.shards``, then
step 3; the plan file holds everything a shard needs, so a task reads
neither the user's config nor the rest of the pipeline. A shard process
trusts the plan only as far as it matches the key it was given: the key
parts hash to that key, and the transform's version and source are those
the key was computed from.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runway.errors import PipelineError, RunwayError
from runway.pipeline.cache import CacheStore, UnusableEntry
from runway.support.files import DamagedFile, read_json, write_json

SHARDS_PREFIX = ".shards-"
PLAN_FILE = "plan.json"
PLAN_FORMAT = 1
#: exit code of a shard process whose plan or config is wrong: rerunning it cannot help
BAD_INPUT_EXIT = 2


class ShardFailed(RunwayError):
    """A shard's process failed (after its retries); the message names the node, the shard and its log."""

    exit_code = 1


def shard_name(index: int, n_shards: int) -> str:
    """The staging name of shard ``index`` of ``n_shards`` (``shard-0003-of-0008``)."""
    return f"shard-{index:04d}-of-{n_shards:04d}"


def staging_dir(store: CacheStore, node: str, key: str) -> Path:
    """The staging area of a node's entry (see the module docstring)."""
    return store.node_dir(node) / f"{SHARDS_PREFIX}{key}"


class ShardStaging:
    """The staging area of one node's key: its plan and its shards, each a cache entry of its own."""

    def __init__(self, store: CacheStore, node: str, key: str) -> None:
        self.node = node
        self.key = key
        self.path = staging_dir(store, node, key)
        # a shard is an entry of the store rooted here: same atomic writes, checks and signatures
        self.shards = CacheStore(self.path, store.formats)

    def status(self, index: int, n_shards: int) -> str:
        return self.shards.status(shard_name(index, n_shards), self.key)

    def missing(self, n_shards: int) -> list[int]:
        """The shards with no complete entry, in order."""
        return [i for i in range(n_shards) if self.status(i, n_shards) != "ok"]

    def shard_dir(self, index: int, n_shards: int) -> Path:
        return self.shards.entry_dir(shard_name(index, n_shards), self.key)

    def log_path(self, index: int, n_shards: int) -> Path:
        return self.path / f"{shard_name(index, n_shards)}.log"

    def lock(self, index: int, n_shards: int) -> Any:
        return self.shards.lock(shard_name(index, n_shards), self.key)

    def save(self, index: int, n_shards: int, data: Any, parts: Mapping[str, Any], *, duration_s: float) -> None:
        """Store a shard's output (the caller holds the shard's lock)."""
        self.shards.save(shard_name(index, n_shards), self.key, parts, data, duration_s=duration_s)

    def load(self, index: int, n_shards: int) -> Any:
        """A complete shard's output (the caller holds the shard's lock)."""
        try:
            data, _ = self.shards.load(shard_name(index, n_shards), self.key)
        except UnusableEntry as exc:
            raise PipelineError(
                f"data pipeline node {self.node!r}: shard {index} of {n_shards} in {self.path} cannot be used: {exc}"
            ) from None
        return data

    def write_plan(self, plan: Mapping[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.path / PLAN_FILE, dict(plan))

    def read_plan(self) -> dict[str, Any]:
        try:
            return read_json(self.path / PLAN_FILE, expect=dict)
        except DamagedFile as exc:
            raise PipelineError(
                f"data pipeline node {self.node!r}: no usable shard plan for key {self.key[:12]} "
                f"({exc.path}: {exc.reason}); `runway prepare` writes it before the shards run"
            ) from None

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


# ------------------------------------------------------------------ stage


def shard_plan(plan: Any, name: str) -> dict[str, Any]:
    """What every shard of node ``name`` of a :class:`~runway.pipeline.plan.Plan` needs."""
    node = plan.pipeline.nodes[name]
    node_plan = plan.nodes[name]
    return {
        "format": PLAN_FORMAT,
        "node": name,
        "key": node_plan.key,
        "parts": dict(node_plan.parts),
        "transform": plan.transforms[name].name,
        "setup_kwargs": node.transform_kwargs(),
        "inputs": [[upstream, plan.nodes[upstream].key] for upstream in node.inputs],
        "inputs_as_list": node.inputs_as_list,
        "dummy": plan.dummy,
        "shards": node.shards,
    }


def stage_sharded_node(
    plan: Any, name: str, store: CacheStore, *, fresh: bool = False, check_inputs: bool = True
) -> ShardStaging:
    """Write node ``name``'s shard plan into its staging area (``fresh``: discard earlier shards first).

    Each shard reads the node's inputs from complete entries of ``store``;
    ``check_inputs`` checks that they are there now (a launcher that stages
    the node before the jobs computing its inputs have run passes ``False``:
    a shard then fails, exit code 2, when an input is still missing).
    """
    node_plan = plan.nodes[name]
    for upstream in plan.pipeline.nodes[name].inputs if check_inputs else ():
        if store.status(upstream, plan.nodes[upstream].key) != "ok":
            raise PipelineError(
                f"data pipeline node {name!r}: its input {upstream!r} has no complete cache entry "
                f"({plan.nodes[upstream].key[:12]}) for its shards to read"
            )
    staging = ShardStaging(store, name, node_plan.key)
    if fresh:
        staging.remove()
    staging.write_plan(shard_plan(plan, name))
    return staging


# ------------------------------------------------------------------ one shard


@dataclass
class _Prepared:
    plan: dict[str, Any]
    transform: Any
    project_root: Path


def _project_of(project: Any) -> Any:
    from runway.project import Project

    if project is None:
        return Project.find()
    if isinstance(project, (str, Path)):
        return Project.find(project, required=False) or Project(root=Path(project).resolve())
    return project


def _checked_plan(staging: ShardStaging, node: str, key: str) -> dict[str, Any]:
    """The plan, if it describes the entry ``key`` names (see the module docstring)."""
    from runway.pipeline.keys import hashed_setup_kwargs, key_of

    plan = staging.read_plan()
    parts = plan.get("parts")
    problem = None
    if plan.get("format") != PLAN_FORMAT:
        problem = f"format {plan.get('format')!r}, expected {PLAN_FORMAT}"
    elif plan.get("node") != node or plan.get("key") != key or not isinstance(parts, dict):
        problem = "it is the plan of another node or key"
    elif key_of(parts, node=node) != key:
        problem = "its key parts do not hash to the key"
    elif (
        not isinstance(plan.get("setup_kwargs"), dict)
        or parts.get("setup_kwargs") != hashed_setup_kwargs(plan["setup_kwargs"])
        or parts.get("transform") != plan.get("transform")
        or parts.get("inputs") != plan.get("inputs")
        or bool(parts.get("dummy")) != bool(plan.get("dummy"))
    ):
        problem = "its setup kwargs, transform or inputs differ from its key parts"
    if problem:
        raise PipelineError(f"data pipeline node {node!r}: shard plan {staging.path / PLAN_FILE} not used: {problem}")
    return plan


def _prepare(staging: ShardStaging, node: str, key: str, project: Any, plugins: Any) -> _Prepared:
    from runway.pipeline.keys import source_digest
    from runway.pipeline.registry import transform_registry
    from runway.plugins.manager import get_plugins

    plan = _checked_plan(staging, node, key)
    project = _project_of(project)
    project.load_data_code()
    registry = transform_registry(plugins or get_plugins())
    entry = registry.lookup(str(plan["transform"]), where=f"shard plan of node {node!r}")
    parts = plan["parts"]
    if parts.get("version") != entry.cls.version or parts.get("source") != source_digest(entry.cls):
        raise PipelineError(
            f"data pipeline node {node!r}: transform {entry.name} changed since its shards were planned "
            f"(version or source differs from key {key[:12]}); run `runway prepare` again"
        )
    transform = entry.cls()
    transform.use_dummy_data = bool(plan.get("dummy"))
    transform.node_name = node
    transform.project_root = project.root
    try:
        transform.setup(**plan["setup_kwargs"])
    except Exception as exc:
        exc.add_note(f"in data pipeline node {node!r} (transform {entry.name}, from {entry.source})")
        raise
    return _Prepared(plan=plan, transform=transform, project_root=project.root)


def _input_data(store: CacheStore, node: str, plan: Mapping[str, Any]) -> Any:
    found = []
    for upstream, upstream_key in plan["inputs"]:
        with store.lock(upstream, upstream_key):
            try:
                data, _ = store.load(upstream, upstream_key)
            except UnusableEntry as exc:
                raise PipelineError(
                    f"data pipeline node {node!r}: its input {upstream!r} ({str(upstream_key)[:12]}) cannot be "
                    f"read from the cache: {exc}; run `runway prepare` again"
                ) from None
        found.append(data)
    return found if plan.get("inputs_as_list") else found[0]


def _check_index(node: str, index: int, n_shards: int) -> None:
    if not (isinstance(n_shards, int) and n_shards >= 1 and isinstance(index, int) and 0 <= index < n_shards):
        raise PipelineError(f"data pipeline node {node!r}: shard index {index!r} is not in 0..{n_shards!r}-1")


def run_shard(
    cache_root: Path | str,
    node: str,
    key: str,
    shard_index: int,
    n_shards: int,
    *,
    project: Any = None,
    plugins: Any = None,
) -> str:
    """Compute shard ``shard_index`` (0-based) of ``n_shards`` of a staged node; any process may call it.

    ``cache_root`` is the cache folder; ``node`` and ``key`` name the entry
    whose staging area holds the shard plan (:func:`stage_sharded_node`);
    ``project`` is the project (or a folder inside it) whose code registers
    the transform, default the one around the current folder. Returns
    ``"reused"`` when the shard was complete already, else ``"computed"``.

    :raises runway.errors.PipelineError: no usable plan, or an input entry is
        unusable (exit code 2 from ``python -m runway.pipeline.shards``).
    """
    from runway.pipeline.formats import format_registry
    from runway.plugins.manager import get_plugins

    _check_index(node, shard_index, n_shards)
    plugins = plugins or get_plugins()
    store = CacheStore(Path(cache_root), format_registry(plugins))
    staging = ShardStaging(store, node, key)
    if staging.status(shard_index, n_shards) == "ok":
        return "reused"
    prepared = _prepare(staging, node, key, project, plugins)
    with staging.lock(shard_index, n_shards):
        if staging.status(shard_index, n_shards) == "ok":  # another process finished it while we waited
            return "reused"
        start = time.perf_counter()
        data = _input_data(store, node, prepared.plan)
        transform = prepared.transform
        try:
            data = transform._preprocess(data)
            if transform._check_input(data) is False:
                raise PipelineError(f"node {node!r}: {type(transform).__name__}._check_input rejected its input")
            result = transform._call(transform.shard_input(data, shard_index, n_shards))
            if transform._check_output(result) is False:
                raise PipelineError(f"node {node!r}: {type(transform).__name__}._check_output rejected shard {shard_index}")
        except Exception as exc:
            exc.add_note(f"in shard {shard_index} of {n_shards} of data pipeline node {node!r}")
            raise
        parts = {"node": prepared.plan["parts"], "shard": shard_index, "shards": n_shards}
        staging.save(shard_index, n_shards, result, parts, duration_s=time.perf_counter() - start)
    return "computed"


# ------------------------------------------------------------------ merge


def merge_shards_into_entry(
    store: CacheStore, node: str, key: str, n_shards: int, *, project: Any = None, plugins: Any = None
) -> dict[str, Any]:
    """Join the complete shards into the node's entry, then remove the staging area; returns its meta.

    The caller holds the node's entry lock (:func:`merge_sharded_entry` takes it).
    """
    staging = ShardStaging(store, node, key)
    missing = staging.missing(n_shards)
    if missing:
        raise PipelineError(
            f"data pipeline node {node!r}: cannot merge, shard(s) {', '.join(map(str, missing))} of {n_shards} "
            f"are not complete in {staging.path}"
        )
    prepared = _prepare(staging, node, key, project, plugins)
    start = time.perf_counter()
    outputs = []
    for index in range(n_shards):
        with staging.lock(index, n_shards):
            outputs.append(staging.load(index, n_shards))
    transform = prepared.transform
    merged = transform.merge_shards(outputs)
    if transform._check_output(merged) is False:
        raise PipelineError(f"node {node!r}: {type(transform).__name__}._check_output rejected the merged shards")
    meta = store.save(node, key, prepared.plan["parts"], merged, duration_s=time.perf_counter() - start)
    store.write_latest(node, key, prepared.plan["parts"])
    del merged, outputs  # the shards' files may be memory-mapped: let go of them first
    staging.remove()
    return meta


def merge_sharded_entry(
    cache_root: Path | str, node: str, key: str, n_shards: int, *, project: Any = None, plugins: Any = None
) -> str:
    """The merge step, from any process: ``"reused"`` when the entry was complete already, else ``"merged"``."""
    from runway.pipeline.formats import format_registry
    from runway.plugins.manager import get_plugins

    plugins = plugins or get_plugins()
    store = CacheStore(Path(cache_root), format_registry(plugins))
    with store.lock(node, key):
        if store.status(node, key) == "ok":
            return "reused"
        merge_shards_into_entry(store, node, key, n_shards, project=project, plugins=plugins)
    return "merged"


# ------------------------------------------------------------------ local processes


def shard_command(
    cache_root: Path | str, node: str, key: str, shard_index: int, n_shards: int, *, project_root: Path | str
) -> list[str]:
    """The command line that runs one shard in a process of its own."""
    return [
        sys.executable, "-m", "runway.pipeline.shards",
        "--project", str(project_root), "--cache-dir", str(cache_root),
        node, key, str(shard_index), str(n_shards),
    ]  # fmt: skip


def _describe_exit(code: int) -> str:
    if code < 0:
        import signal

        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").rstrip()
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _shard_process(log_path: str, environment: dict[str, str], cwd: str, argv: list[str]) -> None:
    """A local shard process: its output to its log, the environment and folder of the prepare that started it."""
    from runway.support.forkserver import enter_child, flush_std_streams

    enter_child(log_path, environment, cwd, append=False)
    code = main(argv)
    flush_std_streams()
    sys.exit(code)


def _process_context(preload: Sequence[str]) -> Any:
    """Processes forked from a server that imported ``preload`` once (POSIX), else spawned."""
    import multiprocessing

    from runway.support.forkserver import forkserver_context

    # the server preloads what this process asked for before it started (runway.support.forkserver)
    return forkserver_context([__name__, *preload]) or multiprocessing.get_context("spawn")


def run_local_shards(
    staging: ShardStaging,
    indices: Iterable[int],
    n_shards: int,
    *,
    cache_root: Path,
    project_root: Path,
    retries: int = 1,
    preload: Sequence[str] = (),
) -> dict[int, tuple[int, int]]:
    """Run shards as local processes, all at once; a failed one is rerun alone up to ``retries`` times.

    Each process runs :func:`main` as ``python -m runway.pipeline.shards``
    would, but is forked from a server process that imported ``preload``
    (the transform's ``shard_imports``) once, so N shards do not pay N times
    for importing ``datasets``. Returns ``{index: (exit code, attempts)}`` of
    the shards that still failed (a negative code: killed by that signal).
    """
    from multiprocessing.connection import wait

    from runway.support.forkserver import start as start_process

    indices = list(indices)
    failed: dict[int, tuple[int, int]] = {}
    if not indices:
        return failed
    staging.path.mkdir(parents=True, exist_ok=True)
    context = _process_context(preload)
    environment = dict(os.environ)
    attempts = {index: 0 for index in indices}

    def start(index: int) -> Any:
        argv = shard_command(cache_root, staging.node, staging.key, index, n_shards, project_root=project_root)[3:]
        process = context.Process(
            target=_shard_process,
            args=(str(staging.log_path(index, n_shards)), environment, str(project_root), argv),
            name=f"runway-{shard_name(index, n_shards)}",
        )
        start_process(process)
        attempts[index] += 1
        return process

    running = {start(index): index for index in indices}
    try:
        while running:
            ready = wait([p.sentinel for p in running])
            for process in [p for p in running if p.sentinel in ready]:
                index = running.pop(process)
                process.join()
                code = process.exitcode if process.exitcode is not None else 1
                if code == 0:
                    continue
                if code != BAD_INPUT_EXIT and attempts[index] <= retries:
                    running[start(index)] = index  # rerun this shard alone
                else:
                    failed[index] = (code, attempts[index])
    finally:
        for process in running:  # interrupted: the shards' processes go too
            process.terminate()
            process.join()
    return failed


def compute_sharded(
    plan: Any,
    name: str,
    store: CacheStore,
    *,
    project_root: Path,
    plugins: Any,
    info: Any = print,
) -> dict[str, Any]:
    """Stage, run the missing shards as local processes, merge (the caller holds the entry's lock).

    Returns the entry's meta. :raises ShardFailed: a shard failed after its retries.
    """
    node = plan.pipeline.nodes[name]
    key = plan.nodes[name].key
    n_shards = node.shards
    staging = stage_sharded_node(plan, name, store, fresh=plan.nodes[name].forced)
    todo = staging.missing(n_shards)
    reused = n_shards - len(todo)
    info(
        f"  {name}: {n_shards} shards"
        + (f", {reused} reused from an earlier run" if reused else "")
        + (f"; running {len(todo)} as local processes" if todo else "")
    )
    failed = run_local_shards(
        staging,
        todo,
        n_shards,
        cache_root=store.root,
        project_root=project_root,
        retries=node.shard_retries,
        preload=tuple(getattr(plan.transforms[name].cls, "shard_imports", ())),
    )
    if failed:
        lines = []
        for index, (code, attempts) in sorted(failed.items()):
            log = staging.log_path(index, n_shards)
            lines.append(
                f"shard {index} of {n_shards}: {_describe_exit(code)} after {attempts} attempt(s); log {log}"
                + ("\n    " + _tail(log).replace("\n", "\n    ") if _tail(log) else "")
            )
        done = n_shards - len(failed)
        raise ShardFailed(
            f"data pipeline node {name!r}: {len(failed)} of {n_shards} shards failed:\n  "
            + "\n  ".join(lines)
            + f"\nThe {done} completed shard(s) are kept in {staging.path} and reused by the next prepare."
        )
    return merge_shards_into_entry(store, name, key, n_shards, project=project_root, plugins=plugins)


# ------------------------------------------------------------------ entry point


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m runway.pipeline.shards [--project DIR] --cache-dir DIR NODE KEY INDEX N [--merge]``."""
    parser = argparse.ArgumentParser(
        prog="python -m runway.pipeline.shards",
        description="Compute one shard of a staged, sharded pipeline node (or, with --merge, merge its shards).",
    )
    parser.add_argument("--project", type=Path, default=None, help="the project folder (default: around the current folder)")
    parser.add_argument("--cache-dir", type=Path, required=True, help="the cache folder holding the staging area")
    parser.add_argument("--merge", action="store_true", help="merge the N complete shards into the node's entry")
    parser.add_argument("node")
    parser.add_argument("key")
    parser.add_argument("index", type=int, help="0-based shard index (ignored with --merge)")
    parser.add_argument("shards", type=int, help="the number of shards N")
    args = parser.parse_args(argv)
    try:
        if args.merge:
            outcome = merge_sharded_entry(args.cache_dir, args.node, args.key, args.shards, project=args.project)
        else:
            outcome = run_shard(args.cache_dir, args.node, args.key, args.index, args.shards, project=args.project)
    except RunwayError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main())
