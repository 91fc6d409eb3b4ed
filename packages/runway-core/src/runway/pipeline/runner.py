"""Running a pipeline: plan, then load or compute each needed node in topological order.

Nodes run one after another in this process, or, with ``jobs`` > 1, up to
``jobs`` at a time in threads: a node starts once every node it reads is
done, so independent branches of the DAG run concurrently. A node that must
run takes its entry's lock first; if another process (or thread) finished
the same entry meanwhile, it is loaded instead of computed again, so
concurrent runs of one pipeline compute each node once. Results stay in
memory only while a later node of the run still reads them (and for the
requested nodes). A node with ``setup_kwargs._shards: N`` is computed as N
local processes and merged (:mod:`runway.pipeline.shards`).
"""

from __future__ import annotations

import graphlib
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from runway.errors import PipelineError
from runway.pipeline.cache import CacheStore, UnusableEntry
from runway.pipeline.formats import format_registry
from runway.pipeline.graph import Pipeline
from runway.pipeline.plan import LOAD, RUN, Plan, decide, make_plan
from runway.pipeline.registry import transform_registry
from runway.plugins.manager import Plugins, get_plugins
from runway.support.progress import human_size


class Progress:
    """The pipeline's reporter: a line per node started and done on a stream (stderr by default).

    On a terminal (and not ``runway -q``) a bar over the run's nodes is drawn
    instead of the start lines (:mod:`runway.support.progress`), with the
    node running and the size of the last one written; the done lines stay
    above it. ``runway -q`` keeps the warnings only; ``quiet=True``
    prints nothing.
    """

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        from runway.support.verbosity import is_quiet

        self.stream = stream
        self.quiet = quiet
        self.terse = quiet or is_quiet()
        self._bar: Any = None
        self._done = 0

    def _write(self, line: str, *, always: bool = False) -> None:
        if self.quiet or (self.terse and not always):
            return
        if self._bar is not None:
            self._bar.log(line)
        else:
            print(line, file=self.stream or sys.stderr, flush=True)

    def _bar_for(self, total: int) -> Any:
        if self._bar is None and not self.terse:
            from runway.support.progress import on_terminal, progress

            if on_terminal(self.stream or sys.stderr):
                import atexit

                self._bar = progress("prepare", total, unit="nodes", stream=self.stream or sys.stderr, terminal=True)
                atexit.register(self.close)  # a failed run leaves no bar behind
        return self._bar

    def close(self) -> None:
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()

    def start(self, index: int, total: int, name: str, action: str, reasons: Iterable[str]) -> None:
        bar = self._bar_for(total)
        if bar is not None:
            bar.update(note=f"{action.lower()} {name}")
            return
        why = "; ".join(reasons)
        self._write(f"[{index}/{total}] {action:<4} {name}" + (f"  ({why})" if why else ""))

    def done(self, index: int, total: int, name: str, action: str, seconds: float, detail: str = "") -> None:
        verb = "loaded" if action == LOAD else "done"
        self._write(f"[{index}/{total}] {verb:<6} {name} in {seconds:.2f}s" + (f"  {detail}" if detail else ""))
        self._done += 1
        if self._bar is not None:
            self._bar.update(completed=self._done, note=f"{name} {detail}".strip())
            if self._done >= total:
                self.close()

    def warning(self, message: str) -> None:
        self._write(f"warning: {message}", always=True)

    def info(self, message: str) -> None:
        self._write(message)


@dataclass
class PipelineRun:
    """What a run produced.

    ``outputs`` maps each requested node to its data; ``keys`` maps every node
    the requested ones depend on to its cache key (what an experiment records
    as the data it consumed); ``actions`` says what happened to each node
    (``RUN``, ``LOAD``, ``SKIP``), ``seconds`` how long it took, and
    ``warnings`` lists unusable cache entries that were recomputed.
    """

    plan: Plan
    outputs: dict[str, Any] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    actions: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def output_keys(self) -> dict[str, str]:
        return {name: self.keys[name] for name in self.outputs}


class Runner:
    """Executes one :class:`Plan` against a cache store."""

    def __init__(
        self,
        plan: Plan,
        store: CacheStore,
        plugins: Plugins,
        progress: Progress,
        *,
        project_root: Path | None = None,
        jobs: int = 1,
    ) -> None:
        self.plan = plan
        self.project_root = project_root
        self.store = store
        self.plugins = plugins
        self.progress = progress
        self.pipeline = plan.pipeline
        self.results: dict[str, Any] = {}
        self.run = PipelineRun(plan=plan, keys=plan.keys, actions={n: p.action for n, p in plan.nodes.items()})
        self._counter = 0
        self._total = sum(1 for p in plan.nodes.values() if p.action != "SKIP")
        self._readers_left: dict[str, int] = {}
        self.jobs = jobs
        # bookkeeping shared by the worker threads; one lock per node so that a
        # node wanted by two threads (a failed load's inputs) is produced once
        self._state = threading.RLock()
        self._node_locks = {name: threading.Lock() for name in plan.nodes}

    # -------------------------------------------------------------- driving

    def execute(self) -> PipelineRun:
        actions = {n: p.action for n, p in self.plan.nodes.items() if p.action in (RUN, LOAD)}
        if self.jobs > 1:
            self._produce_concurrently(actions)
        else:
            self._produce(actions)
        for name in self.plan.targets:
            self.run.outputs[name] = self.results[name]
        return self.run

    def _count_readers(self, actions: Mapping[str, str]) -> None:
        with self._state:
            for name, action in actions.items():
                if action == RUN:
                    for upstream in self.pipeline.nodes[name].inputs:
                        self._readers_left[upstream] = self._readers_left.get(upstream, 0) + 1

    def _produce(self, actions: Mapping[str, str]) -> None:
        self._count_readers(actions)
        for name in self.pipeline.order:
            action = actions.get(name)
            if action is not None:
                self._step(name, action)

    def _produce_concurrently(self, actions: Mapping[str, str]) -> None:
        """Up to ``jobs`` nodes at a time, each once every node it reads (and this run produces) is done."""
        from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

        self._count_readers(actions)
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter(
            {name: [i for i in self.pipeline.nodes[name].inputs if i in actions] for name in actions}
        )
        sorter.prepare()
        running: dict[Future[None], str] = {}
        failure: BaseException | None = None
        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="runway-node") as pool:
            while failure is None and (sorter.is_active() or running):
                for name in sorter.get_ready():
                    running[pool.submit(self._step, name, actions[name])] = name
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    name = running.pop(future)
                    if future.exception() is not None and failure is None:
                        failure = future.exception()
                    elif future.exception() is None:
                        sorter.done(name)
            # a failure starts nothing new; the nodes still running finish (a thread cannot be stopped)
            wait(running)
        if failure is not None:
            raise failure

    def _step(self, name: str, action: str) -> None:
        """Load or compute one node of the plan (its inputs are produced first if a load fails)."""
        with self._node_locks[name]:
            if name in self.results:
                return
            if action == LOAD:
                if self._load(name):
                    return
                with self._state:
                    for upstream in self.pipeline.nodes[name].inputs:  # it reads its inputs after all
                        self._readers_left[upstream] = self._readers_left.get(upstream, 0) + 1
            self._ensure_inputs(name)
            self._compute(name)
        for upstream in self.pipeline.nodes[name].inputs:
            self._release(upstream)

    def _ensure_inputs(self, name: str) -> None:
        """Inputs of a node whose planned load failed: load or compute them now."""
        missing = [i for i in self.pipeline.nodes[name].inputs if i not in self.results]
        if not missing:
            return
        closure = self.pipeline.ancestors(missing)
        order = [n for n in self.pipeline.order if n in closure and n not in self.results]
        plans = self.plan.nodes

        def loadable(node: str) -> bool:
            return not plans[node].forced and self.pipeline.nodes[node].cache and (
                self.store.status(node, plans[node].key) == "ok"
            )

        actions = decide(order, missing, inputs_of={n: self.pipeline.nodes[n].inputs for n in order}, loadable=loadable)
        with self._state:
            self._total += len(actions)
        self._produce(actions)

    def _release(self, name: str) -> None:
        with self._state:
            left = self._readers_left.get(name, 0) - 1
            self._readers_left[name] = left
            if left <= 0 and name not in self.plan.targets:
                self.results.pop(name, None)

    # ---------------------------------------------------------- load, run

    def _next(self) -> int:
        with self._state:
            self._counter += 1
            return self._counter

    def _load(self, name: str) -> bool:
        plan = self.plan.nodes[name]
        index = self._next()
        self.progress.start(index, self._total, name, LOAD, plan.reasons)
        start = time.perf_counter()
        with self.store.lock(name, plan.key):
            try:
                data, meta = self.store.load(name, plan.key)
            except UnusableEntry as exc:
                self._warn(f"cache entry of {name} ({plan.key[:12]}) not used: {exc}; recomputing")
                return False
            self.store.write_latest(name, plan.key, plan.parts)
        self._finish(name, LOAD, index, start, data, f"({meta.get('format')}, {human_size(int(meta.get('size', 0)))})")
        return True

    def _compute(self, name: str) -> None:
        node = self.pipeline.nodes[name]
        plan = self.plan.nodes[name]
        index = self._next()
        reasons = plan.reasons if plan.action == RUN else ("its cache entry was unusable",)
        self.progress.start(index, self._total, name, RUN, reasons)
        start = time.perf_counter()
        if not node.cache or not self.store.writable:
            data = self._apply(name)
            if node.cache:
                self._warn(f"cache folder {self.store.root} is not writable: {name} was computed but not stored")
            self._finish(name, RUN, index, start, data, "(not cached)")
            return
        with self.store.lock(name, plan.key):
            status = self.store.status(name, plan.key)
            if status == "incomplete":
                self._warn(
                    f"cache entry of {name} ({plan.key[:12]}) has no completion marker "
                    "(an interrupted write); recomputing"
                )
            if not plan.forced and status == "ok":
                # another process computed it while we waited for the lock
                try:
                    data, meta = self.store.load(name, plan.key)
                except UnusableEntry as exc:
                    self._warn(f"cache entry of {name} ({plan.key[:12]}) not used: {exc}; recomputing")
                else:
                    self.store.write_latest(name, plan.key, plan.parts)
                    self._finish(name, LOAD, index, start, data, "(computed by another run)")
                    return
            if node.shards > 1:
                data, meta = self._compute_sharded(name)
            else:
                data = self._apply(name)
                meta = self.store.save(name, plan.key, plan.parts, data, duration_s=time.perf_counter() - start)
            self.store.write_latest(name, plan.key, plan.parts)
        self._finish(name, RUN, index, start, data, f"(cached as {meta['format']}, {human_size(int(meta['size']))})")

    def _compute_sharded(self, name: str) -> tuple[Any, dict[str, Any]]:
        """Shards as local processes, merged into the entry (we hold its lock); the data is read back from it."""
        from runway.pipeline.shards import compute_sharded

        node = self.pipeline.nodes[name]
        plan = self.plan.nodes[name]
        if node.inspect:
            self._inspect(name, "input", self._input_of(name))
        compute_sharded(
            self.plan, name, self.store, project_root=self.project_root or Path.cwd(), plugins=self.plugins, info=self.progress.info
        )
        try:
            data, meta = self.store.load(name, plan.key)
        except UnusableEntry as exc:
            raise PipelineError(f"data pipeline node {name!r}: its merged entry cannot be read back: {exc}") from None
        if node.inspect:
            self._inspect(name, "output", data)
        return data, meta

    def _input_of(self, name: str) -> Any:
        node = self.pipeline.nodes[name]
        inputs = [self.results[i] for i in node.inputs]
        return inputs if node.inputs_as_list else (inputs[0] if inputs else None)

    def _apply(self, name: str) -> Any:
        node = self.pipeline.nodes[name]
        entry = self.plan.transforms[name]
        inputs = [self.results[i] for i in node.inputs]
        data: Any = inputs if node.inputs_as_list else (inputs[0] if inputs else None)
        if node.inspect:
            self._inspect(name, "input", data)
        transform = entry.cls()
        transform.use_dummy_data = self.plan.dummy
        transform.node_name = name
        transform.project_root = self.project_root
        try:
            transform.setup(**node.transform_kwargs())
            result = transform(data)
        except Exception as exc:
            exc.add_note(f"in data pipeline node {name!r} (transform {entry.name}, from {entry.source})")
            raise
        if node.inspect:
            self._inspect(name, "output", result)
        return result

    def _inspect(self, name: str, side: str, data: Any) -> None:
        summary = self.plugins.hook.summarize_data(data=data)
        self.progress.info(f"  inspect {name} {side}:")
        for key, value in (summary or {}).items():
            self.progress.info(f"    {key}: {value}")

    def _finish(self, name: str, action: str, index: int, start: float, data: Any, detail: str) -> None:
        seconds = time.perf_counter() - start
        with self._state:
            self.results[name] = data
            self.run.actions[name] = action
            self.run.seconds[name] = seconds
        self.progress.done(index, self._total, name, action, seconds, detail)

    def _warn(self, message: str) -> None:
        with self._state:
            self.run.warnings.append(message)
        self.progress.warning(message)


# ---------------------------------------------------------------- public API


def _project(project: Any) -> Any:
    from runway.project import Project

    if project is None:
        return Project.find()
    if isinstance(project, (str, Path)):
        return Project.find(project, required=False) or Project(root=Path(project).resolve())
    return project


def _section(config: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """The ``data_pipeline`` section and the config's dummy-data flag."""
    if "data_pipeline" in config:
        meta = config.get("meta") or {}
        return config["data_pipeline"], bool(isinstance(meta, Mapping) and meta.get("use_dummy_data"))
    return config, False


def plan_pipeline(
    config: Mapping[str, Any],
    project: Any = None,
    *,
    nodes: Iterable[str] | None = None,
    regenerate: Iterable[str] = (),
    dummy: bool = False,
    plugins: Plugins | None = None,
    cache_dir: Path | str | None = None,
) -> Plan:
    """Check the pipeline and plan a run without running anything (``explain``).

    Arguments are those of :func:`run_pipeline`.
    """
    return _planned(config, project, nodes=nodes, regenerate=regenerate, dummy=dummy, plugins=plugins, cache_dir=cache_dir)[0]


def _planned(
    config: Mapping[str, Any],
    project: Any,
    *,
    nodes: Iterable[str] | None,
    regenerate: Iterable[str],
    dummy: bool,
    plugins: Plugins | None,
    cache_dir: Path | str | None,
) -> tuple[Plan, CacheStore, Plugins]:
    project = _project(project)
    project.load_data_code()
    plugins = plugins or get_plugins()
    section, config_dummy = _section(config)
    pipeline = Pipeline.from_config(section)
    transforms = pipeline.check_transforms(transform_registry(plugins))
    store = CacheStore(Path(cache_dir) if cache_dir else project.cache_dir, format_registry(plugins))
    plan = make_plan(
        pipeline,
        transforms,
        store,
        root=project.root,
        targets=list(nodes) if nodes else None,
        regenerate=regenerate,
        dummy=dummy or config_dummy,
    )
    return plan, store, plugins


def run_pipeline(
    config: Mapping[str, Any],
    project: Any = None,
    *,
    nodes: Iterable[str] | None = None,
    regenerate: Iterable[str] = (),
    dummy: bool = False,
    plugins: Plugins | None = None,
    cache_dir: Path | str | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
) -> PipelineRun:
    """Run a data pipeline and return the requested nodes' outputs.

    :param config: a whole config holding ``data_pipeline`` (its
        ``meta.use_dummy_data`` is honoured), or the ``data_pipeline`` section.
    :param project: a :class:`runway.project.Project`, a folder inside one,
        or ``None`` for the project around the current folder. Its code
        folders are imported first, so ``@register_transform`` counts.
    :param nodes: the nodes to produce; default every node named ``output:...``.
    :param regenerate: nodes to recompute even if cached (and what reads them).
    :param dummy: run on dummy data (``Transform.use_dummy_data``), in a
        cache namespace of its own.
    :param plugins: the plugin manager (default: the process-wide one).
    :param cache_dir: a cache folder other than the project's.
    :param progress: where progress lines go (default: stderr).
    :param jobs: how many nodes may run at a time (threads); independent
        branches of the DAG then run concurrently, each node still once.
    :returns: a :class:`PipelineRun` with ``outputs`` and ``keys``.
    :raises runway.errors.PipelineError: the graph or a node's config is wrong
        (nothing has run then).
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise PipelineError(f"--jobs: expected a positive integer, got {jobs!r}")
    project = _project(project)
    plan, store, plugins = _planned(
        config, project, nodes=nodes, regenerate=regenerate, dummy=dummy, plugins=plugins, cache_dir=cache_dir
    )
    return Runner(plan, store, plugins, progress or Progress(), project_root=project.root, jobs=jobs).execute()

