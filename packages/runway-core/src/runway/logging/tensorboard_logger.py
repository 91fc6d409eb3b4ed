"""The built-in ``tensorboard`` logger: TensorBoard event files beside the csv copy.

``--logger tensorboard`` writes every metric of a run, through the same
``log_metrics`` hook as every other logger, as scalars into
``<run.log_dir>/tensorboard/`` (``train/logs/tensorboard``,
``test-<suffix>/logs/tensorboard``), so ``tensorboard --logdir experiments``
shows every version of every experiment. The run's config (secrets redacted)
is written once as the text summary ``config``. Metrics logged without a step
(evaluation) are written at step 0.

It needs the ``tensorboard`` package (``pip install 'runway-core[tensorboard]'``).
Without it this plugin implements no hook, so nothing else is affected and
``--logger tensorboard`` is refused with an error naming that extra (see
``FIRST_PARTY_PLUGINS`` in :mod:`runway.plugins.manager`). Neither torch nor
tensorboard is imported before a run starts.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from runway.hookspecs import hookimpl

if TYPE_CHECKING:
    from runway.logging.run import Run

PLUGIN = "tensorboard"
EXTRA = "runway-core[tensorboard]"
EVENTS_FOLDER = "tensorboard"

F = TypeVar("F", bound=Callable[..., Any])


def tensorboard_installed() -> bool:
    """Whether the ``tensorboard`` package can be imported (without importing it)."""
    try:
        return importlib.util.find_spec("tensorboard") is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules, a broken parent
        return False


AVAILABLE = tensorboard_installed()


def _hook_when_available(func: F) -> F:
    # Without tensorboard the functions stay plain functions: the plugin is
    # registered but is no logger, so asking for it names the extra to install.
    return hookimpl(func) if AVAILABLE else func


def events_dir(run: Run) -> Path:
    """The folder that holds the event files of ``run``."""
    return Path(run.log_dir) / EVENTS_FOLDER


# (version_dir, job_type) -> the SummaryWriter this process writes with
_writers: dict[tuple[str, str], Any] = {}


def _key(run: Run) -> tuple[str, str]:
    return (str(run.version_dir), run.job_type)


def _open(run: Run) -> Any:
    writer = _writers.get(_key(run))
    if writer is None:
        from torch.utils.tensorboard import SummaryWriter

        folder = events_dir(run)
        folder.mkdir(parents=True, exist_ok=True)
        writer = _writers[_key(run)] = SummaryWriter(log_dir=str(folder))
    return writer


@_hook_when_available
def logger_start_run(run: Run) -> None:
    writer = _open(run)
    if run.config:
        text = json.dumps(run.config, indent=2, sort_keys=True, default=str)
        # four leading spaces: TensorBoard renders the text as markdown, this keeps it verbatim
        writer.add_text("config", "\n".join("    " + line for line in text.splitlines()), global_step=0)


@_hook_when_available
def log_metrics(run: Run, metrics: dict[str, float], step: int | None) -> None:
    writer = _writers.get(_key(run)) or _open(run)
    at = 0 if step is None else int(step)
    for name, value in metrics.items():
        writer.add_scalar(name, float(value), global_step=at)


@_hook_when_available
def logger_finish_run(run: Run, status: str) -> None:
    writer = _writers.pop(_key(run), None)
    if writer is not None:
        writer.add_text("status", status, global_step=0)
        writer.close()  # flushes the event file
