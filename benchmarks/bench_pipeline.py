"""Planning and explaining a generated 1,000-node pipeline.

Rows (seconds, median of interleaved repeats; limit 0.2 s each):

``pipeline plan+explain, 1000 nodes, empty cache``
    parse and check the graph, resolve transforms and check their
    ``setup_kwargs``, compute every cache key, decide RUN/LOAD/SKIP and format
    the explanation.
``pipeline plan+explain, 1000 nodes, after an upstream change``
    the same when every node has a previous entry and its key changed, so
    each node's ``latest.json`` is read and diffed.

Baseline: ``graphlib.TopologicalSorter.static_order()`` over the same edges,
timed in the same loop, alternating with the measured call.
"""

from __future__ import annotations

import copy
import graphlib
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

NODES = 1000
REPEATS = 7
LIMIT_S = 0.2


def _pipeline_config(nodes: int = NODES, *, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    transforms: dict[str, Any] = {}
    names: list[str] = []
    for index in range(nodes):
        if index < 10:
            name = f"input:Load{index}"
            transforms[name] = {"transform_name": "BenchLoad", "setup_kwargs": {"path": f"data/{index}.csv", "rows": 100}}
        else:
            name = f"{'output' if index >= nodes - 20 else 'process'}:Step{index}"
            inputs = sorted(set(rng.sample(names[max(0, index - 50) :], k=min(len(names), rng.randint(1, 3)))))
            transforms[name] = {
                "transform_name": "BenchMerge" if len(inputs) > 1 else "BenchMap",
                "input_node": inputs if len(inputs) > 1 else inputs[0],
                "setup_kwargs": {"scale": index % 7, "options": {"lower": True, "max_len": 128}, "_workers": 4},
            }
        names.append(name)
    return {"name": "bench", "transforms": transforms}


def _plugins() -> Any:
    import runway
    from runway.plugins import make_plugin_manager

    class BenchLoad(runway.Transform):
        def setup(self, path: str, rows: int = 10) -> None:
            self.path, self.rows = path, rows

        def _call(self, data: Any) -> Any:
            return list(range(self.rows))

    class BenchMap(runway.Transform):
        def setup(self, scale: int = 1, options: dict | None = None, _workers: int = 1) -> None:
            self.scale = scale

        def _call(self, data: Any) -> Any:
            return [x * self.scale for x in data]

    class BenchMerge(runway.Transform):
        def setup(self, scale: int = 1, options: dict | None = None, _workers: int = 1) -> None:
            self.scale = scale

        def _call(self, data: Any) -> Any:
            return [x for part in data for x in part]

    class BenchTransforms:
        @runway.hookimpl
        def register_transforms(self, register: Any) -> None:
            for cls in (BenchLoad, BenchMap, BenchMerge):
                register(cls)

    return make_plugin_manager(builtins_only=True, extra_plugins=[("bench", BenchTransforms())])


def _plan_and_explain(config: dict[str, Any], plugins: Any, store: Any, root: Path) -> list[str]:
    from runway.pipeline.graph import Pipeline
    from runway.pipeline.plan import explain_lines, make_plan
    from runway.pipeline.registry import transform_registry

    pipeline = Pipeline.from_config(config)
    transforms = pipeline.check_transforms(transform_registry(plugins))
    plan = make_plan(pipeline, transforms, store, root=root)
    return explain_lines(plan)


def _topological_sort(config: dict[str, Any]) -> list[str]:
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for name, node in config["transforms"].items():
        inputs = node.get("input_node") or []
        sorter.add(name, *([inputs] if isinstance(inputs, str) else inputs))
    return list(sorter.static_order())


def _record_previous_entries(config: dict[str, Any], plugins: Any, store: Any, root: Path) -> None:
    """Give every node a complete entry and a latest.json (as if a run had happened)."""
    from runway.pipeline.cache import COMPLETE_MARKER
    from runway.pipeline.graph import Pipeline
    from runway.pipeline.plan import make_plan
    from runway.pipeline.registry import transform_registry

    pipeline = Pipeline.from_config(config)
    plan = make_plan(pipeline, pipeline.check_transforms(transform_registry(plugins)), store, root=root)
    for name, node in plan.nodes.items():
        entry = store.entry_dir(name, node.key)
        entry.mkdir(parents=True)
        (entry / COMPLETE_MARKER).write_text("")
        store.write_latest(name, node.key, node.parts)


def _measure(fn: Any, baseline: Any) -> tuple[float, float]:
    fn()  # warm-up: imports, source digests
    baseline()
    measured, base = [], []
    for _ in range(REPEATS):
        start = time.perf_counter()
        baseline()
        base.append(time.perf_counter() - start)
        start = time.perf_counter()
        fn()
        measured.append(time.perf_counter() - start)
    return statistics.median(measured), statistics.median(base)


def _rows(name: str, value: float, baseline: float) -> list[dict[str, Any]]:
    """Against the fixed budget (the limit), and against graphlib's sort (for scale)."""
    return [
        {"name": f"{name} vs {LIMIT_S * 1000:.0f} ms budget", "value": value, "baseline": LIMIT_S,
         "ratio": value / LIMIT_S, "limit": 1.0, "note": "baseline is the fixed budget, not a measurement"},
        {"name": f"{name} vs a bare graphlib sort", "value": value, "baseline": baseline,
         "ratio": value / baseline, "limit": None},
    ]


def run() -> list[dict[str, Any]]:
    from runway.pipeline.cache import CacheStore
    from runway.pipeline.formats import format_registry

    plugins = _plugins()
    config = _pipeline_config()
    rows = []
    with tempfile.TemporaryDirectory(prefix="runway-bench-pipeline-") as tmp:
        root = Path(tmp)
        store = CacheStore(root / "cache", format_registry(plugins))
        value, base = _measure(lambda: _plan_and_explain(config, plugins, store, root), lambda: _topological_sort(config))
        rows += _rows(f"plan+explain {NODES} nodes, empty cache", value, base)

        _record_previous_entries(config, plugins, store, root)
        changed = copy.deepcopy(config)
        for name, node in changed["transforms"].items():
            if name.startswith("input:"):
                node["setup_kwargs"]["rows"] = 200
        lines = _plan_and_explain(changed, plugins, store, root)
        assert all(line.startswith("RUN") for line in lines), "every node should rerun after the change"
        value, base = _measure(lambda: _plan_and_explain(changed, plugins, store, root), lambda: _topological_sort(changed))
        rows += _rows(f"plan+explain {NODES} nodes, all changed", value, base)
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: {row['value'] * 1000:.1f} ms (baseline {row['baseline'] * 1000:.2f} ms, x{row['ratio']:.2f})")
