"""Hook implementations of the ``mlflow`` plugin.

One MLflow experiment per Runway experiment name, one MLflow run per
experiment version. The run id is kept with ``run.save_state("mlflow", ...)``
so that a resumed or requeued training, and every ``infer``/``eval`` of that
version, log into the same run. Test and evaluation jobs are told apart by
their job type: their outcome is the tag ``runway.<job_type>.status`` (their
metrics arrive already named ``<suffix>/<metric>``); only training sets the
run's status (``FINISHED``, ``FAILED``, ``KILLED``).

Config (``plugins.mlflow`` in the experiment config):

``tracking_uri``
    the tracking server or store; else ``MLFLOW_TRACKING_URI``; else a local
    file store ``<project>/mlruns`` (view it with
    ``mlflow ui --backend-store-uri <project>/mlruns``; MLflow 3 keeps file
    stores in maintenance mode, so the plugin sets ``MLFLOW_ALLOW_FILE_STORE``
    for it).
``experiment``
    the MLflow experiment name (default: the Runway experiment name).
``timeout`` / ``retries``
    per-request timeout in seconds (default 10) and retries (default 1), so a
    dead server fails fast; ``MLFLOW_HTTP_REQUEST_TIMEOUT`` and
    ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` in the environment win.

Params are the flattened config (dotted keys) with secrets redacted.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runway.hookspecs import hookimpl

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from runway.logging.run import Run

PLUGIN = "mlflow"
TRAIN_JOB = "train"
STATUS = {"completed": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}
SETTINGS = {"tracking_uri": str, "experiment": str, "timeout": (int, float), "retries": int}
DEFAULT_TIMEOUT_S = 10
DEFAULT_RETRIES = 1
# MLflow's limits per log_batch request
PARAMS_PER_BATCH = 100
METRICS_PER_BATCH = 1000
MAX_PARAM_VALUE = 6000


@dataclass
class _OpenRun:
    client: "MlflowClient"
    run_id: str


# (version_dir, job_type) -> the MLflow run this process logs into
_open_runs: dict[tuple[str, str], _OpenRun] = {}


def settings(config: dict) -> dict[str, Any]:
    section = ((config or {}).get("plugins") or {}).get(PLUGIN) or {}
    return section if isinstance(section, dict) else {}


def tracking_uri(run: "Run") -> str:
    """``plugins.mlflow.tracking_uri``, else ``MLFLOW_TRACKING_URI``, else ``<project>/mlruns``."""
    uri = settings(run.config).get("tracking_uri") or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return str(uri)
    from runway.project import Project

    found = Project.find(run.version_dir, required=False)
    project_root = found.root if found is not None else Path(run.version_dir).resolve().parent.parent
    return (project_root / "mlruns").as_uri()


def _fail_fast(config: dict) -> None:
    """Short HTTP timeouts and few retries unless the environment says otherwise."""
    section = settings(config)
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(section.get("timeout", DEFAULT_TIMEOUT_S)))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(section.get("retries", DEFAULT_RETRIES)))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")


def config_params(config: dict) -> dict[str, str]:
    """The flattened config, dotted keys, secrets as ``***``, values as MLflow strings."""
    from runway.config import flatten, redact

    params = {}
    for key, value in flatten(redact(config or {})).items():
        text = value if isinstance(value, str) else _json(value)
        params[key or "config"] = text[:MAX_PARAM_VALUE]
    return params


def _json(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def _experiment_id(client: "MlflowClient", name: str) -> str:
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    try:
        return client.create_experiment(name)
    except MlflowException:  # another process created it first
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


def _existing_run_id(client: "MlflowClient", run: "Run", uri: str) -> str | None:
    from mlflow.exceptions import MlflowException

    state = run.state(PLUGIN)
    run_id = state.get("run_id")
    if not run_id or state.get("tracking_uri") != uri:
        return None
    try:
        found = client.get_run(run_id)
    except MlflowException:  # deleted, or a store that was wiped: start afresh
        return None
    return run_id if found.info.lifecycle_stage == "active" else None


def _create_run(client: "MlflowClient", run: "Run", uri: str) -> str:
    from mlflow.entities import Param

    from runway.config.redact import redact_mapping

    name = settings(run.config).get("experiment") or run.experiment
    tags = {
        "runway.experiment": run.experiment,
        "runway.version": str(run.version),
        "runway.version_dir": str(run.version_dir),
        **{k: str(v) for k, v in redact_mapping(run.tags or {}).items()},
    }
    created = client.create_run(_experiment_id(client, name), run_name=run.name, tags=tags)
    run_id = created.info.run_id
    params = [Param(k, v) for k, v in config_params(run.config).items()]
    for start in range(0, len(params), PARAMS_PER_BATCH):
        client.log_batch(run_id, params=params[start : start + PARAMS_PER_BATCH])
    run.save_state(PLUGIN, {"run_id": run_id, "tracking_uri": uri, "experiment_id": created.info.experiment_id})
    return run_id


@hookimpl
def logger_start_run(run: "Run") -> None:
    from mlflow.tracking import MlflowClient

    _fail_fast(run.config)
    uri = tracking_uri(run)
    if uri.startswith("file:"):
        # MLflow 3 refuses file stores unless asked; the default local store is one
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=uri)
    run_id = _existing_run_id(client, run, uri) or _create_run(client, run, uri)
    if run.job_type == TRAIN_JOB:
        client.update_run(run_id, status="RUNNING")
    else:
        client.set_tag(run_id, f"runway.{run.job_type}.status", "running")
    _open_runs[(str(run.version_dir), run.job_type)] = _OpenRun(client, run_id)


def _open_run(run: "Run") -> _OpenRun:
    found = _open_runs.get((str(run.version_dir), run.job_type))
    if found is None:
        raise RuntimeError(f"no MLflow run open for {run.name} ({run.job_type}): logger_start_run did not succeed")
    return found


@hookimpl
def log_metrics(run: "Run", metrics: dict[str, float], step: int | None) -> None:
    from mlflow.entities import Metric

    opened = _open_run(run)
    now_ms = int(time.time() * 1000)
    at = 0 if step is None else int(step)
    batch = [Metric(key, float(value), now_ms, at) for key, value in metrics.items()]
    for start in range(0, len(batch), METRICS_PER_BATCH):
        opened.client.log_batch(opened.run_id, metrics=batch[start : start + METRICS_PER_BATCH])


@hookimpl
def log_artifact(run: "Run", path: str, name: str) -> None:
    opened = _open_run(run)
    folder = Path(name).parent.as_posix()
    opened.client.log_artifact(opened.run_id, path, artifact_path=None if folder == "." else folder)


@hookimpl
def logger_finish_run(run: "Run", status: str) -> None:
    opened = _open_runs.pop((str(run.version_dir), run.job_type), None)
    if opened is None:
        return
    if run.job_type == TRAIN_JOB:
        opened.client.set_terminated(opened.run_id, status=STATUS.get(status, "FAILED"))
    else:
        opened.client.set_tag(opened.run_id, f"runway.{run.job_type}.status", status)


@hookimpl
def validate_config(config: dict) -> list[str] | None:
    from runway.logging.plugin_settings import plugin_settings_problems

    return plugin_settings_problems(config, PLUGIN, SETTINGS, _setting_problem)


def _setting_problem(key: str, value: Any) -> str | None:
    expected = SETTINGS[key]
    if not isinstance(value, expected) or isinstance(value, bool):
        kind = "a number" if expected == (int, float) else expected.__name__
        return f"plugins.{PLUGIN}.{key}: expected {kind}, got {value!r}"
    if key in ("timeout", "retries") and value < 0:
        return f"plugins.{PLUGIN}.{key}: must not be negative, got {value!r}"
    return None
