"""Config loading speed: Runway's load_config against the C++ jsonnet binding.

A generated experiment of ~300 leaf keys spread over six files (one
experiment file importing five ``.libsonnet`` files from ``configs/``, with
locals, functions and object composition) is loaded, interleaved, by:

- runway: ``runway.config.load_config`` = go-jsonnet evaluation + three
  ``--opts`` overrides + validation (the plugin manager is built once,
  before timing);
- baseline: ``_jsonnet.evaluate_file`` (the C++ binding) on the same files,
  evaluation only.

Each is the median of ``repeats`` runs. Two rows: the ratio to the C++
binding (at most 0.25), and Runway's load against the fixed 10 ms budget.
Run directly: ``python benchmarks/bench_config.py``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

SECTIONS = ("data_pipeline", "executor", "train", "test", "eval")
BUDGET_SECONDS = 0.010
# go-jsonnet is ~20x faster than the C++ binding on this config; a ratio above
# this means the evaluation path regressed (or fell back to a slow one).
MAX_RATIO_TO_CPP = 0.25


def _library(section: str, index: int) -> str:
    """One .libsonnet of ~60 leaves: a helper function, nested objects, lists."""
    groups = []
    for group in range(6):
        fields = [f"      k{group}_{leaf}: {index * 100 + group * 10 + leaf}," for leaf in range(6)]
        fields.append(f'      name: "{section}-{group}",')
        fields.append(f"      ratio: scale({group}),")
        fields.append(f"      items: [{group}, {group + 1}, std.toString({group})],")
        groups.append(f"    group{group}: {{\n" + "\n".join(fields) + "\n    },")
    return (
        f"local scale(x) = x * 0.5 + {index};\n"
        "{\n"
        f"  {section}: {{\n" + "\n".join(groups) + "\n  },\n"
        "}\n"
    )


def write_project(root: Path) -> Path:
    """A project with a 300-key experiment over six files; returns the experiment file."""
    (root / "runway.toml").write_text("")
    configs = root / "configs"
    (configs / "experiments").mkdir(parents=True)
    for index, section in enumerate(SECTIONS):
        (configs / f"{section}.libsonnet").write_text(_library(section, index))
    imports = " + ".join(f"(import '{section}.libsonnet')" for section in SECTIONS)
    experiment = configs / "experiments" / "bench.jsonnet"
    experiment.write_text(
        f"local parts = {imports};\n"
        "parts + {\n"
        "  meta: { name: std.extVar('runway.experiment_name'), seed: 42, tags: ['bench'] },\n"
        "  loggers: ['csv'],\n"
        "  train+: { group0+: { k0_0: 7 } },\n"
        "}\n"
    )
    return experiment


def _median_seconds(samples: list[float]) -> float:
    return statistics.median(samples)


def run(repeats: int = 15) -> list[dict]:
    import _jsonnet

    from runway.config import flatten, load_config
    from runway.plugins import make_plugin_manager
    from runway.project import Project

    plugins = make_plugin_manager(builtins_only=True)
    opts = ["train.group0.k0_1=3", "+meta.note=bench", "test.group1.items.0=9"]
    with tempfile.TemporaryDirectory() as tmp:
        experiment = write_project(Path(tmp))
        project = Project.find(experiment)
        search = [str(project.configs_dir)]
        ext_vars = {"runway.experiment_name": "bench"}

        def runway_load() -> dict:
            return load_config("bench", project=project, opts=opts, plugins=plugins)

        def cpp_evaluate() -> str:
            return _jsonnet.evaluate_file(str(experiment), jpathdir=search, ext_vars=ext_vars)

        leaves = len(flatten(runway_load()))  # also warms both interpreters' imports
        cpp_evaluate()
        ours: list[float] = []
        theirs: list[float] = []
        for _ in range(repeats):
            start = time.perf_counter()
            runway_load()
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            cpp_evaluate()
            theirs.append(time.perf_counter() - start)

    value, baseline = _median_seconds(ours), _median_seconds(theirs)
    note = f"{leaves} keys, median of {repeats}"
    return [
        {
            "name": "load 300 keys/6 files vs C++ jsonnet",
            "value": value,
            "baseline": baseline,
            "ratio": value / baseline,
            "limit": MAX_RATIO_TO_CPP,
            "note": note,
        },
        {
            "name": "load 300 keys/6 files vs 10 ms budget",
            "value": value,
            "baseline": BUDGET_SECONDS,
            "ratio": value / BUDGET_SECONDS,
            "limit": 1.0,
            "note": "baseline is the fixed budget, not a measurement",
        },
    ]

if __name__ == "__main__":
    for row in run():
        print(
            f"{row['name']}: {row['value'] * 1000:.2f} ms vs {row['baseline'] * 1000:.2f} ms, "
            f"ratio {row['ratio']:.3f} (limit {row['limit']:g}; {row['note']})"
        )
