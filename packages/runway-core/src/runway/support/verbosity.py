"""How much a command prints: ``runway -q`` (quiet), the default, ``runway -v`` (verbose).

The level lives in the environment (``RUNWAY_VERBOSITY``), so that every
process a command starts (a sweep's ``runway execute`` children, Lightning's
DDP ranks, a SLURM task) prints the same way. :func:`quiet_third_party`
silences the libraries' informational output at its source, never by
parsing what they print:

- Lightning's start-up and end lines (``GPU available``, ``TPU available``,
  ``LOCAL_RANK``, each DDP rank's ``Initializing distributed``,
  ``Loading `train_dataloader` to estimate...``,
  ``Trainer.fit stopped``, callbacks added from entry points, the model
  summary): the level of the loggers that emit them is ``WARNING`` unless
  verbose. Lightning sets its package logger to ``INFO`` when imported, so
  the levels are set on the emitting (child) loggers, which it leaves alone.
  Levels are set when ``logging`` is loaded; a command that has not loaded
  it by then has logged nothing, and sets them before it builds a
  ``Trainer`` (:func:`runway.experiment.lightning_noise.quiet_lightning`);
- known deprecation warnings of libraries that the user cannot act on
  (Lightning's ``_pytree`` ``LeafSpec`` warning): ``warnings`` filters;
- W&B's ``Symlinked N files into the W&B run directory`` notes, which its
  ``save`` prints for each record Runway uploads: the ``wandb`` plugin
  saves its records with W&B's terminal warnings off, unless verbose;
- Hugging Face ``datasets``' progress bars (``Saving the dataset (0/1
  shards)``, ``Map``, ``Filter``): ``HF_DATASETS_DISABLE_PROGRESS_BARS``
  before ``datasets`` is imported, ``datasets.disable_progress_bars()``
  after; Runway's own progress (:mod:`runway.support.progress`) says what
  runs instead.

Errors and warnings that the user can act on are never hidden.
``RUNWAY_TRACEBACK=1`` (``runway --traceback``) shows every frame of a crash
in project code instead of the project's own frames only.
"""

from __future__ import annotations

import os
import sys
import warnings

ENV = "RUNWAY_VERBOSITY"
TRACEBACK_ENV = "RUNWAY_TRACEBACK"
QUIET, NORMAL, VERBOSE = 0, 1, 2
_NAMES = {"quiet": QUIET, "normal": NORMAL, "verbose": VERBOSE}

#: loggers whose INFO lines are start-up chatter (their WARNINGs always show)
CHATTY_LOGGERS = (
    "lightning.pytorch.utilities.rank_zero",
    "lightning.fabric.utilities.rank_zero",
    "lightning.fabric.utilities.registry",
    "lightning.pytorch.accelerators.cuda",
    "lightning.pytorch.callbacks.model_summary",
    "lightning.fabric.utilities.distributed",
    "pytorch_lightning.utilities.rank_zero",
    "pytorch_lightning.accelerators.cuda",
    "pytorch_lightning.callbacks.model_summary",
    "lightning_fabric.utilities.rank_zero",
    "lightning_fabric.utilities.registry",
    "lightning_fabric.utilities.distributed",
)
#: (message regex, category) of third-party warnings the user cannot act on
KNOWN_WARNINGS = (
    (r".*isinstance\(treespec, LeafSpec\)", FutureWarning),
    (r".*LeafSpec.* is deprecated", FutureWarning),
    (r"The `srun` command is available on your system", Warning),
)


def level() -> int:
    """The level of this process: QUIET, NORMAL (the default) or VERBOSE."""
    raw = os.environ.get(ENV, "").strip().lower()
    if raw in _NAMES:
        return _NAMES[raw]
    try:
        return max(QUIET, min(VERBOSE, int(raw)))
    except ValueError:
        return NORMAL


def is_quiet() -> bool:
    return level() <= QUIET


def is_verbose() -> bool:
    return level() >= VERBOSE


def full_traceback() -> bool:
    """Whether a crash shows all its frames (``runway --traceback``)."""
    return os.environ.get(TRACEBACK_ENV, "").strip().lower() in ("1", "true", "yes")


def set_level(value: int, *, traceback: bool | None = None) -> None:
    """Set the level for this process and those it starts, and apply it (:func:`quiet_third_party`)."""
    os.environ[ENV] = next(name for name, number in _NAMES.items() if number == max(QUIET, min(VERBOSE, value)))
    if traceback is not None:
        if traceback:
            os.environ[TRACEBACK_ENV] = "1"
        else:
            os.environ.pop(TRACEBACK_ENV, None)
    quiet_third_party()


def quiet_third_party() -> None:
    """Apply the current level to the libraries' loggers, warnings and progress bars. Idempotent, cheap,
    imports nothing heavy: call it at start-up and again before building a Trainer."""
    verbose = is_verbose()
    logging = sys.modules.get("logging")
    if logging is not None:  # else nothing has logged yet, and building a Trainer calls this again
        for name in CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    ours = {(message, category) for message, category in KNOWN_WARNINGS}
    # one filter each, never stacked; none with -v
    warnings.filters[:] = [f for f in warnings.filters if not (f[0] == "ignore" and (getattr(f[1], "pattern", None), f[2]) in ours)]
    getattr(warnings, "_filters_mutated", lambda: None)()
    if not verbose:
        for message, category in KNOWN_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
    _hf_progress(enabled=verbose)


def _hf_progress(*, enabled: bool) -> None:
    if enabled:
        os.environ.pop("HF_DATASETS_DISABLE_PROGRESS_BARS", None)
    else:
        os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] = "1"
    datasets = sys.modules.get("datasets")
    if datasets is None:
        return  # not imported yet: the environment variable decides when it is
    switch = getattr(datasets, "enable_progress_bars" if enabled else "disable_progress_bars", None)
    if callable(switch):
        switch()
