"""Everything a job needs before its executor runs: seeds, data, the executor itself."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from runway.errors import ConfigError, PluginError
from runway.experiment.data import refs_for, resolve_data
from runway.experiment.settings import Settings, parse_section, parse_settings


def is_rank_zero() -> bool:
    """Whether this process is global rank 0 (true outside distributed runs)."""
    for var in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        raw = os.environ.get(var)
        if raw is not None and raw.strip().isdigit():
            if var == "LOCAL_RANK" and os.environ.get("NODE_RANK", "0") not in ("", "0"):
                return False
            return int(raw) == 0
    return True


def seed_everything(settings: Settings | Mapping[str, Any]) -> int | None:
    """Seed Python, numpy and torch (and dataloader workers) from ``meta.seed``.

    ``settings`` is the parsed settings, or a config whose ``meta`` is read.
    """
    from lightning.pytorch import seed_everything as seed_all

    meta = settings.meta if isinstance(settings, Settings) else parse_section(settings, "meta")
    if meta.seed is None:  # seed: false, LightningCLI's seed_everything: false
        return None
    seed_all(meta.seed, workers=True, verbose=False)
    return meta.seed


def prepare_data(
    config: dict[str, Any],
    project: Any,
    plugins: Any,
    splits: Sequence[str],
    *,
    dummy: bool = False,
    settings: Settings | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The data of ``splits`` from the pipeline (cached), and ``{node: cache key}`` consumed.

    ``executor.data`` (of ``settings``, parsed from ``config`` when not
    given) names each split's node; the pipeline itself runs from ``config``.
    """
    from runway.pipeline import run_pipeline

    settings = settings if settings is not None else parse_settings(config)
    refs = refs_for(settings.executor.data, splits)
    if not refs:
        raise ConfigError(
            f"executor.data: names none of the splits {', '.join(splits)}; "
            "map each to a pipeline node, e.g. {train: 'output:train'} or {train: {node: 'output:tensors', item: 'train'}}"
        )
    nodes = sorted({ref.node for ref in refs.values()})
    run = run_pipeline(config, project, nodes=nodes, dummy=dummy, plugins=plugins)
    outputs = run.outputs
    keys = {node: str(key) for node, key in run.keys.items()}
    return resolve_data(refs, outputs), keys


def registered_executor_names(plugins: Any) -> list[str]:
    from runway.experiment.registry import project_executors

    return sorted(project_executors())


def build_executor(config: dict[str, Any], context: Any, plugins: Any) -> Any:
    """The executor that ``executor.name`` asks for, through the ``build_executor`` hook.

    The name comes from ``context.settings`` when the context carries them.
    """
    settings = getattr(context, "settings", None) or parse_settings(config)
    name = settings.executor.name
    if not name:
        raise ConfigError(
            "executor.name: not set; name an executor registered with @runway.register_executor "
            "or a class path 'package.module:Class'"
        )
    module = plugins.hook.build_executor(name=name, config=config, context=context)
    if module is None:
        names = registered_executor_names(plugins)
        builders = [n for n in plugins.implementers("build_executor") if n != "core-executor"]
        raise PluginError(
            f"executor.name: no plugin builds executor {name!r}. Registered by the project: "
            f"{', '.join(names) or 'none'}; other plugins implementing build_executor: "
            f"{', '.join(builders) or 'none'}. A class path 'package.module:Class' also works."
        )
    return module
