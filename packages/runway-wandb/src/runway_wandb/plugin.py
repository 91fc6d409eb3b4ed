"""Hook implementations of the ``wandb`` plugin.

Online when an API key is configured (``WANDB_API_KEY`` or a netrc entry for
the wandb host), otherwise offline, announced with one line that says how to
upload later. ``WANDB_MODE`` or ``plugins.wandb.mode`` decide when set.

One wandb run per experiment version: its id is kept with
``run.save_state("wandb", ...)`` so that a resumed or requeued training and
every ``infer``/``eval`` of that version log into the same run
(``resume="allow"``), never found by a name lookup. Runs are grouped by
experiment name; a test or evaluation job joins with its own ``job_type``,
logs its metrics (already named ``<suffix>/<metric>``) without a step, and
keeps its status in the summary key ``runway/<job_type>/status``. Files go under
``<version_dir>/wandb/``.

Config (``plugins.wandb``): ``project`` (default: the Runway project folder's
name), ``entity`` (optional), ``mode`` (``online``, ``offline``,
``disabled``), ``tags`` (a list of strings).

What wandb records of the process itself goes through Runway's redaction
too: wandb copies ``sys.argv`` into its run metadata and settings, so
``wandb.init`` sees the command line redacted, and code saving is off (a
script's text may hold anything).
"""

from __future__ import annotations

import netrc
import os
import secrets
import string
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from runway.hookspecs import hookimpl

if TYPE_CHECKING:
    from runway.logging.run import Run

PLUGIN = "wandb"
TRAIN_JOB = "train"
MODES = ("online", "offline", "disabled")
SETTINGS = {"project": str, "entity": str, "mode": str, "tags": list}
EXIT_CODES = {"completed": 0, "failed": 1, "interrupted": 255}
DEFAULT_HOST = "https://api.wandb.ai"

# (version_dir, job_type) -> the wandb run this process logs into
_open_runs: dict[tuple[str, str], Any] = {}
_offline_announced = False


def settings(config: dict) -> dict[str, Any]:
    section = ((config or {}).get("plugins") or {}).get(PLUGIN) or {}
    return section if isinstance(section, dict) else {}


def has_api_key() -> bool:
    """``WANDB_API_KEY``, or a netrc entry for the wandb host."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL") or DEFAULT_HOST).hostname or ""
    try:
        return netrc.netrc(os.environ.get("NETRC")).authenticators(host) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def choose_mode(config: dict) -> tuple[str, str]:
    """The wandb mode and why it was chosen."""
    asked = settings(config).get("mode")
    if asked:
        return str(asked), "plugins.wandb.mode"
    env = os.environ.get("WANDB_MODE")
    if env:
        return ("offline" if env == "dryrun" else env), "WANDB_MODE"
    if has_api_key():
        return "online", "API key found"
    return "offline", "no API key in WANDB_API_KEY or ~/.netrc"


def project_name(run: "Run") -> str:
    """``plugins.wandb.project``, else the name of the Runway project's folder."""
    asked = settings(run.config).get("project")
    if asked:
        return str(asked)
    from runway.project import Project

    found = Project.find(run.version_dir, required=False)
    root = found.root if found is not None else Path(run.version_dir).resolve().parent.parent
    return root.name


def files_dir(run: "Run") -> Path:
    """``<version_dir>``: wandb writes its run folders into ``<that>/wandb/``."""
    return Path(run.version_dir)


def new_run_id() -> str:
    """Eight lowercase letters and digits, the shape of wandb's own run ids."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(8))


def _announce_offline(run: "Run", why: str) -> None:
    global _offline_announced
    if _offline_announced:
        return
    _offline_announced = True
    folder = files_dir(run) / "wandb"
    print(
        f"wandb: logging offline ({why}) to {folder}; upload later with `wandb sync {folder}/offline-run-*`",
        file=sys.stderr,
    )


def _redacted(config: dict) -> dict:
    from runway.config import redact

    return redact(config or {})


@contextmanager
def _redacted_argv() -> Iterator[None]:
    """``sys.argv`` with secrets hidden while wandb reads it (metadata ``args``, ``program``)."""
    from runway.config.redact import redact_argv

    original = sys.argv
    sys.argv = redact_argv(original)
    try:
        yield
    finally:
        sys.argv = original


@hookimpl
def logger_start_run(run: "Run") -> None:
    import wandb

    from runway.config.redact import redact_argv

    mode, why = choose_mode(run.config)
    section = settings(run.config)
    state = run.state(PLUGIN)
    run_id = state.get("run_id") or new_run_id()
    project = project_name(run)
    if not state.get("run_id"):
        # kept before init: a crash inside init still resumes this id next time
        run.save_state(PLUGIN, {"run_id": run_id, "project": project, "entity": section.get("entity")})
    if mode == "offline":
        _announce_offline(run, why)
    folder = files_dir(run)
    (folder / "wandb").mkdir(parents=True, exist_ok=True)
    tags = redact_argv(str(t) for t in section.get("tags") or [])
    with _redacted_argv():
        wandb_run = _init(
            wandb,
            project=project,
            entity=section.get("entity"),
            id=run_id,
            name=run.name,
            group=run.experiment,
            job_type=run.job_type,
            tags=tags or None,
            config=_redacted(run.config),
            dir=str(folder),
            mode=mode,
        )
    _open_runs[(str(run.version_dir), run.job_type)] = wandb_run


def _init(wandb: Any, **kwargs: Any) -> Any:
    # a script's saved source or a job built from it could hold anything the redaction cannot see
    settings = wandb.Settings(save_code=False, disable_code=True, disable_job_creation=True)
    return wandb.init(resume="allow", reinit="create_new", allow_val_change=True, settings=settings, **kwargs)


def _open_run(run: "Run") -> Any:
    found = _open_runs.get((str(run.version_dir), run.job_type))
    if found is None:
        raise RuntimeError(f"no wandb run open for {run.name} ({run.job_type}): logger_start_run did not succeed")
    return found


@hookimpl
def log_metrics(run: "Run", metrics: dict[str, float], step: int | None) -> None:
    wandb_run = _open_run(run)
    if run.job_type == TRAIN_JOB:
        wandb_run.log(dict(metrics), step=step)
    else:
        # a test's metrics have no place on training's step axis
        wandb_run.log(dict(metrics))

@hookimpl
def log_artifact(run: "Run", path: str, name: str) -> None:
    wandb_run = _open_run(run)
    posix = Path(path).as_posix()
    base = posix[: -len(name)].rstrip("/") if posix.endswith("/" + name) else str(Path(path).parent)
    with _link_notes_off():
        wandb_run.save(path, base_path=base, policy="now")


@contextmanager
def _link_notes_off() -> Iterator[None]:
    """W&B's ``save`` notes, for every record Runway uploads, that it symlinked (hardlinked,
    copied) the file into its run folder and that ``wandb.save`` must be called again for
    changes: Runway saves each record once, complete, so the note is noise. Its terminal
    warnings are off for that call only (``runway -v`` keeps them)."""
    from runway.support.verbosity import is_verbose

    from wandb.errors import term

    if is_verbose() or not hasattr(term, "_show_warnings"):
        yield
        return
    shown, term._show_warnings = term._show_warnings, False
    try:
        yield
    finally:
        term._show_warnings = shown


@hookimpl
def logger_finish_run(run: "Run", status: str) -> None:
    wandb_run = _open_runs.pop((str(run.version_dir), run.job_type), None)
    if wandb_run is None:
        return
    wandb_run.summary[f"runway/{run.job_type}/status"] = status
    # only training decides the run's state; a failed test keeps its own status key
    exit_code = EXIT_CODES.get(status, 1) if run.job_type == TRAIN_JOB else 0
    wandb_run.finish(exit_code=exit_code)


@hookimpl
def validate_config(config: dict) -> list[str] | None:
    from runway.logging.plugin_settings import plugin_settings_problems

    return plugin_settings_problems(config, PLUGIN, SETTINGS, _setting_problem)


def _setting_problem(key: str, value: Any) -> str | None:
    expected = SETTINGS[key]
    if value is not None and not isinstance(value, expected):
        return f"plugins.{PLUGIN}.{key}: expected {expected.__name__}, got {value!r}"
    if key == "mode" and value not in MODES:
        return f"plugins.{PLUGIN}.mode: expected one of {', '.join(MODES)}, got {value!r}"
    if key == "tags" and not all(isinstance(t, str) for t in value):
        return f"plugins.{PLUGIN}.tags: expected a list of strings, got {value!r}"
    return None
