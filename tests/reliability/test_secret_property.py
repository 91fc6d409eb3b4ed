"""Property: random nested values with secret names and secret-looking URLs, given
through ``--opts``, ``--tag`` and a sweep, are found nowhere afterwards: not in
any file under the project (but the owner-only secret stores), not in what the
commands print, not in W&B's offline files, not in MLflow's store."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import LightProject, hold_launcher_env
from secret_sinks import files_holding, log_with_secrets, mlflow_run_text, submit_with_secrets

SECRET_NAMES = [
    "api_key", "passphrase", "private_key", "auth", "bearer", "pwd", "cookie", "access_token_v2",
    "password", "hf_token", "clientSecret", "X-Api-Key", "db_credentials",
]
PLAIN_NAMES = ["lr", "name", "layers", "base", "depth", "mode"]

secret_values = st.binary(min_size=6, max_size=6).map(lambda b: "sEc" + b.hex())
urls = st.tuples(st.sampled_from(["https", "http", "postgresql", "redis"]), st.sampled_from(["me", "svc", "u"]), secret_values).map(
    lambda t: f"{t[0]}://{t[1]}:{t[2]}@host.example:5432/db"
)
plain_leaves = st.one_of(st.integers(-5, 5), st.sampled_from(["adam", "mlp", "x"]), st.booleans())


def _tree(children: Any) -> Any:
    return st.one_of(
        st.dictionaries(st.sampled_from(PLAIN_NAMES), children, min_size=1, max_size=3),
        st.dictionaries(st.sampled_from(SECRET_NAMES), st.one_of(secret_values, children), min_size=1, max_size=2),
        st.lists(children, min_size=1, max_size=2),
    )


trees = st.recursive(st.one_of(plain_leaves, urls, secret_values.map(lambda s: {"api_key": s})), _tree, max_leaves=6)


def _secrets_in(value: Any, under_secret: bool = False) -> list[str]:
    """The generated secret strings inside ``value``."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in _secrets_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in _secrets_in(v)]
    if isinstance(value, str) and "sEc" in value:
        return ["sEc" + value.split("sEc", 1)[1][:12]]
    return []


@pytest.mark.slow
@pytest.mark.mlflow_server
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    tree=st.dictionaries(st.sampled_from(PLAIN_NAMES + SECRET_NAMES), trees, min_size=1, max_size=3),
    dotted=st.tuples(st.sampled_from(SECRET_NAMES), secret_values),
    url=urls,
    tag=st.tuples(st.sampled_from(SECRET_NAMES), secret_values),
    tag_url=urls,
    swept=st.tuples(st.sampled_from(SECRET_NAMES), secret_values, secret_values),
)
def test_secrets_given_anywhere_are_found_nowhere(tree, dotted, url, tag, tag_url, swept, clean_process, monkeypatch, mlflow_server):
    pytest.importorskip("runway_wandb.plugin")
    pytest.importorskip("runway_mlflow.plugin")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
        project = LightProject(tmp_path / "proj")
        project.write_config("light")
        env = hold_launcher_env(tmp_path / "site")
        env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
        opts = [
            "+_tree=" + json.dumps(tree),
            f"+_svc.{dotted[0]}={dotted[1]}",
            f"+_db.url={url}",
        ]
        tags = [f"{tag[0]}={tag[1]}", f"db={tag_url}"]
        sweep = [f"+_swept.{swept[0]}={swept[1]},{swept[2]}"]
        secrets = sorted({*_secrets_in(tree), dotted[1], *_secrets_in(url), tag[1], *_secrets_in(tag_url), swept[1], swept[2]})

        printed = submit_with_secrets(project.root, env, opts, tags, sweep)
        assert not [s for s in secrets if s in printed], printed
        assert not files_holding(project.root, secrets)

        version_dir = project.experiments_dir / "light_V1"
        raw = {"_tree": tree, "_svc": {dotted[0]: dotted[1]}, "_db": {"url": url}}
        argv = ["runway", "train", "light", "--opts", *opts, *sum((["--tag", t] for t in tags), [])]
        log_with_secrets(version_dir, raw, dict(t.split("=", 1) for t in tags), argv, mlflow_server.uri, monkeypatch)
        assert list((version_dir / "wandb").rglob("*.wandb"))
        assert not files_holding(version_dir / "wandb", secrets)
        shown = mlflow_run_text(mlflow_server.uri, version_dir)
        assert not [s for s in secrets if s in shown], shown
        assert not files_holding(mlflow_server.folder, secrets)
