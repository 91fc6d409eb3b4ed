"""Errors that Runway reports to the user without a traceback.

A :class:`RunwayError` is bad usage, config or input: the CLI prints its
message and exits with code 2. Anything else is a bug or a failed run and
keeps its traceback (exit code 1).
"""

from __future__ import annotations

import errno
from collections.abc import Iterable

#: errnos of OSErrors that the machine, not Runway or the user's code, is responsible
#: for (a full disk, a read-only or forbidden folder): reported as bad input (exit 2)
ENVIRONMENT_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EACCES", "EPERM") if hasattr(errno, name)
)


def is_machine_state(exc: BaseException) -> bool:
    """Whether ``exc`` is an OSError of :data:`ENVIRONMENT_ERRNOS`."""
    return isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS


class RunwayError(Exception):
    """A user-facing error: the message says what is wrong and where."""

    exit_code = 2


class ConfigError(RunwayError):
    """A config file, an override or a config value is wrong."""


class PluginError(RunwayError):
    """A plugin is missing, broken, or nobody provides what was asked for."""


class PipelineError(RunwayError):
    """The data pipeline's graph or one of its nodes is wrong."""


class ExperimentError(RunwayError):
    """An experiment, version, checkpoint or test run cannot be found or used."""


class RunFailed(Exception):
    """A run started and failed (exit code 1); the cause is chained."""

    exit_code = 1


def closest(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates closest to ``word``, best first (may be empty)."""
    import difflib

    pool = sorted(set(candidates))
    found = difflib.get_close_matches(word, pool, n=n, cutoff=0.5)
    if not found:
        lowered = word.lower()
        found = [c for c in pool if lowered and (lowered in c.lower() or c.lower() in lowered)][:n]
    return found


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x' or 'y'?`` or an empty string."""
    found = closest(word, candidates)
    if not found:
        return ""
    return " Did you mean " + " or ".join(repr(f) for f in found) + "?"
