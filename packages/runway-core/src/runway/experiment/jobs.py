"""What every experiment job does around its work: records, status, failure.

A command that starts work on an experiment (``train``, ``run``) first
allocates a version and writes ``config.json`` (secrets redacted),
``provenance.json`` and a ``pending`` status, then hands a :class:`Job` to a
launcher. The launched process (told its version by ``RUNWAY_EXPERIMENT_VERSION``)
runs the work inside :func:`tracked`, which keeps ``status.json`` true.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from runway.errors import RunFailed, RunwayError
from runway.experiment.provenance import PROVENANCE_FILE, collect_provenance
from runway.experiment.records import write_json_atomic
from runway.experiment.status import write_failure, write_status
from runway.experiment.store import CONFIG_FILE, ExperimentStore, Version
from runway.launch.local import LAUNCHER_NAME as LOCAL_LAUNCHER

T = TypeVar("T")


def start_version(
    store: ExperimentStore,
    name: str,
    config: dict[str, Any],
    project: Any,
    *,
    argv: list[str],
    parent: str | None,
    tags: list[str],
    launcher: str,
    plugin_distributions: tuple[str, ...] = (),
) -> Version:
    """Allocate a version and write its records before anything runs."""
    from runway.config import fingerprint, redact

    version = store.allocate(name)
    write_json_atomic(version.path / CONFIG_FILE, redact(config))
    provenance = collect_provenance(
        argv=argv,
        project_root=project.root,
        experiment=name,
        version=version.number,
        config_fingerprint=fingerprint(config),
        parent=parent,
        tag=tags,
        launcher=launcher,
        plugin_distributions=plugin_distributions,
    )
    write_json_atomic(version.path / PROVENANCE_FILE, provenance)
    # The local launcher runs the job in this very process: recording it as the
    # owner lets a kill before the job marks itself running read as interrupted.
    owner = {"pid": os.getpid(), "host": socket.gethostname()} if launcher == LOCAL_LAUNCHER else {"pid": None, "host": None}
    write_status(version.path, "pending", job_type=None, launcher=launcher, **owner)
    return version


@contextmanager
def tracked(version: Version, job_type: str, *, record: bool = True) -> Iterator[None]:
    """Mark ``version`` running, then completed, failed (with the error) or interrupted.

    A :class:`RunwayError` inside (bad config found late) keeps its exit
    code 2; any other exception becomes :class:`RunFailed` (exit code 1).
    ``record=False`` (DDP ranks other than 0) leaves ``status.json`` alone.
    """
    if record:
        write_status(version.path, "running", job_type=job_type)
    try:
        yield
    except KeyboardInterrupt:
        if record:
            write_status(version.path, "interrupted", job_type=job_type, reason="KeyboardInterrupt")
        raise
    except RunwayError as exc:
        if record:
            write_failure(version.path, exc, job_type=job_type)
        raise
    except Exception as exc:
        if record:
            write_failure(version.path, exc, job_type=job_type)
        raise RunFailed(f"{job_type} of {version.label} failed: {type(exc).__name__}: {exc}") from exc
    except BaseException as exc:  # SystemExit from a signal handler (Lightning's on SIGTERM/SIGINT)
        if record:
            write_status(version.path, "interrupted", job_type=job_type, reason=f"{type(exc).__name__}: {exc}")
        raise
    if record:
        write_status(version.path, "completed", job_type=job_type)


def command_line(argv: list[str] | None = None) -> list[str]:
    """The command line as the user typed it (for provenance), secret values as ``***``."""
    from runway.config.redact import redact_argv

    return redact_argv(sys.argv if argv is None else argv)


def run_job(version: Version, job_type: str, work: Callable[[], T], *, record: bool = True) -> T:
    with tracked(version, job_type, record=record):
        return work()
