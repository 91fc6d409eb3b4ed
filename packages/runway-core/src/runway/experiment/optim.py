"""Optimizers and learning-rate schedules from an executor's config.

.. code-block:: jsonnet

    executor: {
      optimizer: { name: "AdamW", lr: 1e-3, weight_decay: 0.01 },   // or Adam, SGD
      scheduler: { name: "cosine", warmup_steps: 10 },                // or linear, constant, none
    }

LightningCLI's form works too: ``optimizer: { class_path: "torch.optim.Adam",
init_args: { lr: 0.01 } }``. Every key besides ``name`` goes to the torch optimizer (``lr``,
``weight_decay``, ``betas``, ``momentum``...). Schedules step every
optimizer step; ``warmup_steps`` (or ``warmup_ratio`` of all steps) ramps
the rate linearly from 0, then ``linear`` decays it to 0, ``cosine`` to
``min_lr_ratio`` (default 0) times the base rate, and ``constant`` keeps it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from runway.errors import ConfigError
from runway.experiment.settings import (
    OPTIMIZERS,
    SCHEDULES,
    OptimizerSettings,
    SchedulerSettings,
    parse_optimizer,
    parse_scheduler,
)

__all__ = ["OPTIMIZERS", "SCHEDULES", "build_optimizer", "build_scheduler", "schedule_factor"]


def build_optimizer(parameters: Iterable[Any], spec: OptimizerSettings | Mapping[str, Any] | None) -> Any:
    """The torch optimizer that ``spec`` describes (default: AdamW, lr 1e-3).

    ``spec`` is the parsed ``executor.optimizer`` or the section as written.
    """
    import torch

    settings = spec if isinstance(spec, OptimizerSettings) else parse_optimizer(spec)
    if settings.class_path is not None:  # LightningCLI's form
        from runway.experiment.lightning_objects import OPTIMIZER_KIND, instantiate_object

        spec_object = {"class_path": settings.class_path, "init_args": settings.init_args}
        return instantiate_object(spec_object, "executor.optimizer", OPTIMIZER_KIND, parameters)
    try:
        return getattr(torch.optim, settings.name)(parameters, **settings.kwargs())
    except TypeError as exc:
        raise ConfigError(f"executor.optimizer: {exc}") from None


def schedule_factor(name: str, total_steps: int, warmup_steps: int, min_lr_ratio: float = 0.0) -> Callable[[int], float]:
    """The multiplier of the base learning rate at each step."""
    total_steps = max(1, total_steps)
    warmup_steps = max(0, min(warmup_steps, total_steps))

    def factor(step: int) -> float:
        if warmup_steps and step < warmup_steps:
            return (step + 1) / warmup_steps
        if name == "constant":
            return 1.0
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        if name == "linear":
            return max(0.0, 1.0 - progress)
        return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def build_scheduler(
    optimizer: Any, spec: SchedulerSettings | Mapping[str, Any] | None, total_steps: int
) -> dict[str, Any] | None:
    """A Lightning ``lr_scheduler`` dict for ``spec``, or ``None`` for no schedule.

    ``spec`` is the parsed ``executor.scheduler`` or the section as written.
    """
    import torch

    settings = spec if isinstance(spec, SchedulerSettings) or spec is None else parse_scheduler(spec)
    if settings is None or settings.name == "none":
        return None
    warmup = settings.warmup_steps
    if warmup is None:
        warmup = int(round(float(settings.warmup_ratio or 0.0) * total_steps))
    factor = schedule_factor(settings.name, total_steps, int(warmup), settings.min_lr_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return {"scheduler": scheduler, "interval": "step", "frequency": 1}
