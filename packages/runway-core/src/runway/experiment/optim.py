"""Optimizers and learning-rate schedules from an executor's config.

.. code-block:: jsonnet

    executor: {
      optimizer: { name: "AdamW", lr: 1e-3, weight_decay: 0.01 },   // or Adam, SGD
      scheduler: { name: "cosine", warmup_steps: 10 },                // or linear, constant, none
    }

Every key besides ``name`` goes to the torch optimizer (``lr``,
``weight_decay``, ``betas``, ``momentum``...). Schedules step every
optimizer step; ``warmup_steps`` (or ``warmup_ratio`` of all steps) ramps
the rate linearly from 0, then ``linear`` decays it to 0, ``cosine`` to
``min_lr_ratio`` (default 0) times the base rate, and ``constant`` keeps it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from runway.errors import ConfigError

OPTIMIZERS = ("AdamW", "Adam", "SGD")
SCHEDULES = ("constant", "linear", "cosine", "none")
_ALIASES = {"linear_warmup": "linear", "linear_with_warmup": "linear", "cosine_with_warmup": "cosine"}


def build_optimizer(parameters: Iterable[Any], spec: dict[str, Any] | None) -> Any:
    """The torch optimizer that ``spec`` describes (default: AdamW, lr 1e-3)."""
    import torch

    spec = dict(spec or {})
    name = spec.pop("name", "AdamW")
    by_lower = {o.lower(): o for o in OPTIMIZERS}
    canonical = by_lower.get(str(name).lower())
    if canonical is None:
        raise ConfigError(f"executor.optimizer.name: unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    spec.setdefault("lr", 1e-3)
    if "betas" in spec:
        spec["betas"] = tuple(spec["betas"])
    try:
        return getattr(torch.optim, canonical)(parameters, **spec)
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


def build_scheduler(optimizer: Any, spec: dict[str, Any] | None, total_steps: int) -> dict[str, Any] | None:
    """A Lightning ``lr_scheduler`` dict for ``spec``, or ``None`` for no schedule."""
    import torch

    if not spec:
        return None
    spec = dict(spec)
    raw = str(spec.pop("name", "constant")).lower()
    name = _ALIASES.get(raw, raw)
    if name not in SCHEDULES:
        raise ConfigError(
            f"executor.scheduler.name: unknown schedule {raw!r}; choose one of {', '.join(SCHEDULES)}"
        )
    if name == "none":
        return None
    warmup = spec.pop("warmup_steps", None)
    ratio = spec.pop("warmup_ratio", None)
    if warmup is None:
        warmup = int(round(float(ratio or 0.0) * total_steps))
    min_lr_ratio = float(spec.pop("min_lr_ratio", 0.0))
    if spec:
        raise ConfigError(
            f"executor.scheduler: unknown key(s) {', '.join(sorted(spec))}; "
            "known: name, warmup_steps, warmup_ratio, min_lr_ratio"
        )
    factor = schedule_factor(name, total_steps, int(warmup), min_lr_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    return {"scheduler": scheduler, "interval": "step", "frequency": 1}
