"""Training through Runway's train path against a plain ``lightning.Trainer``.

The same LightningModule (the ``runway init`` template's digits classifier,
widened so that the training loop dominates) on the same cached data for the
same epochs, interleaved:

- runway: ``runway train bench`` in-process, the whole command: config
  resolution, version allocation, config/provenance/status records, the
  cached pipeline load, the executor built through ``build_executor``, the
  csv logger behind ``RunwayLightningLogger``, ``best``/``last`` checkpoints;
- baseline: ``lightning.Trainer(max_epochs=...)`` with Lightning's defaults
  (a ``CSVLogger``, its default end-of-epoch checkpoint) fitting the same
  module class on the same tensors.

Each is the best of ``repeats`` runs after one warm-up of each (as ``timeit``
does: other load on the machine only ever adds time, and a shared machine
adds a lot of it to single runs; the medians are in ``runs``). The row's
ratio is runway / baseline; the target is at most 1.05 (5% of the training
loop's wall time). Run directly: ``python benchmarks/bench_train_overhead.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

EPOCHS = 15
LIMIT = 0.05  # at most 5% slower than the plain Trainer
BENCH_CONFIG = f"""
local example = import 'experiments/example.jsonnet';

example + {{
  executor+: {{
    model+: {{ init_args+: {{ hidden: [512, 512] }} }},
    scheduler: {{ name: 'constant' }},
  }},
  train+: {{ epochs: {EPOCHS}, batch_size: 32 }},
}}
"""


@contextmanager
def _inside(folder: Path):
    old = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


def _quiet_lightning() -> None:
    import logging
    import warnings

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    logging.getLogger("lightning.fabric").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")


def _runway_train() -> float:
    from runway.cli.main import cli

    start = time.perf_counter()
    outcome = cli.main(args=["train", "bench"], prog_name="runway", standalone_mode=False)
    elapsed = time.perf_counter() - start
    if isinstance(outcome, int) and outcome != 0:
        raise RuntimeError(f"runway train failed with exit code {outcome}")
    return elapsed


def _plain_fit(project: Any, config: dict, data: dict, workdir: Path, index: int) -> float:
    import lightning.pytorch as pl

    from runway.experiment.executor import ExecutorContext
    from runway.experiment.registry import project_executors

    cls = project_executors()[config["executor"]["name"]]
    start = time.perf_counter()
    pl.seed_everything(config["meta"]["seed"], workers=True, verbose=False)
    context = ExecutorContext(experiment="plain", version=index, version_dir=workdir, project=project, data=data)
    module = cls(config=config, context=context)
    trainer = pl.Trainer(
        max_epochs=EPOCHS,
        deterministic=True,
        accelerator="cpu",
        devices=1,
        default_root_dir=str(workdir / f"plain_{index}"),
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=10,
    )
    trainer.fit(module)
    return time.perf_counter() - start


def run(repeats: int = 5) -> list[dict]:
    from runway.project.scaffold import create_project
    from runway.config import load_config
    from runway.experiment.data import TRAIN_SPLITS
    from runway.experiment.preparation import prepare_data
    from runway.plugins import get_plugins
    from runway.project import Project

    _quiet_lightning()
    with tempfile.TemporaryDirectory(prefix="runway-bench-train-") as tmp:
        root = Path(tmp) / "project"
        create_project(root)
        (root / "configs" / "experiments" / "bench.jsonnet").write_text(BENCH_CONFIG, encoding="utf-8")
        with _inside(root):
            project = Project.find()
            config = load_config("bench", project=project)
            _runway_train()  # warm-up: imports, the data cache, the plugin manager
            data, _ = prepare_data(config, project, get_plugins(), TRAIN_SPLITS)
            _plain_fit(project, config, data, Path(tmp), 0)
            runway_times, plain_times = [], []
            for index in range(1, repeats + 1):
                runway_times.append(_runway_train())
                plain_times.append(_plain_fit(project, config, data, Path(tmp), index))
    runway_s = min(runway_times)
    plain_s = min(plain_times)
    return [
        {
            "name": "train_path_vs_plain_trainer",
            "value": runway_s,
            "baseline": plain_s,
            "ratio": runway_s / plain_s,
            "limit": 1.0 + LIMIT,
            "unit": "seconds",
            "runs": {
                "runway": runway_times,
                "plain": plain_times,
                "median_ratio": statistics.median(runway_times) / statistics.median(plain_times),
            },
        }
    ]


if __name__ == "__main__":
    for row in run():
        shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items() if k != "runs"}
        print(shown, file=sys.stdout)
