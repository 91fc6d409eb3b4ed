"""Feeding secrets to every place a value leaves Runway, then looking for them.

:func:`submit_with_secrets` runs ``train`` (with ``--opts`` and ``--tag``)
and a ``sweep`` in a light project through the ``hold`` launcher, then
``list``, ``show`` and ``sweep status``; :func:`log_with_secrets` starts a
real W&B offline run and a real MLflow run (against the session's server)
whose process command line, config and tags hold the secrets.
:func:`files_holding` greps every file under a folder for them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reliability_helpers import run_runway

# the files whose whole point is to hold the secrets, readable by their owner only
SECRET_STORES = ("secrets.json", ".secrets")


def files_holding(root: Path, secrets: Iterable[str], *, allow_secret_stores: bool = True) -> list[str]:
    """``path: secret`` for every file under ``root`` whose bytes contain a secret."""
    wanted = [s.encode("utf-8") for s in secrets]
    found = []
    for path in sorted(Path(root).rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        if allow_secret_stores and path.name.endswith(SECRET_STORES):
            assert path.stat().st_mode & 0o077 == 0, f"{path} holds secrets and is readable by others"
            continue
        data = path.read_bytes()
        found.extend(f"{path}: {s.decode()}" for s in wanted if s in data)
    return found


def submit_with_secrets(root: Path, env: dict[str, str], opts: list[str], tags: list[str], sweep_opts: list[str]) -> str:
    """Everything the commands printed (stdout and stderr), the sweep's own point lines included."""
    printed = []
    done = run_runway(root, "train", "light", "--launcher", "hold", "--opts", *opts, *sum((["--tag", t] for t in tags), []), env=env)
    assert done.code == 0, done.err
    printed.append(done.out + done.err)
    done = run_runway(root, "sweep", "light", "--launcher", "hold", "--opts", *sweep_opts, env=env)
    assert done.code == 0, done.err
    printed.append(done.out + done.err)
    for args in (["list"], ["list", "--json"], ["show", "light", "--version", "1"], ["sweep", "status"], ["sweep", "status", "--json"]):
        done = run_runway(root, *args, env=env)
        assert done.code == 0, (args, done.err)
        printed.append(done.out + done.err)
    return "\n".join(printed)


def log_with_secrets(
    version_dir: Path, config: dict[str, Any], tags: dict[str, str], argv: list[str], mlflow_uri: str | None, monkeypatch: Any
) -> list[str]:
    """Start, feed and finish the wandb (offline) and, given a server, mlflow loggers; returns their names."""
    from runway.logging import Run, open_loggers
    from runway.plugins import make_plugin_manager

    names = ["wandb"] + (["mlflow"] if mlflow_uri else [])
    plugins = make_plugin_manager(builtins_only=False, allow=names, block=None, trace=False)
    config = json.loads(json.dumps(config))
    config.setdefault("plugins", {})
    config["plugins"]["wandb"] = {"project": "trust", "mode": "offline", "tags": [f"{k}={v}" for k, v in tags.items()]}
    if mlflow_uri:
        config["plugins"]["mlflow"] = {"tracking_uri": mlflow_uri}
    monkeypatch.setattr(sys, "argv", argv)
    run = Run("light", 1, version_dir, config=config, tags=dict(tags), job_type="train")
    loggers = open_loggers(names, run, plugins)
    loggers.log_metrics({"loss": 0.5}, 0)
    loggers.finish("completed")
    return names


def mlflow_run_text(uri: str, version_dir: Path) -> str:
    """Every tag and param of the mlflow runs of ``version_dir``, as the server returns them."""
    from mlflow.tracking import MlflowClient

    run_id = json.loads((version_dir / "loggers" / "mlflow.json").read_text())["run_id"]
    found = MlflowClient(uri).get_run(run_id)
    return json.dumps({"tags": found.data.tags, "params": found.data.params, "name": found.info.run_name})
