"""Nothing from a command line or a config runs as code; secrets stay out of
every record and logger; the cache never unpickles what this project did not write."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest
from reliability_helpers import hold_launcher_env, light_pipeline, run_runway

from runway.hookspecs import hookimpl
from runway.pipeline.cache import COMPLETE_MARKER, DATA_DIR, META_FILE, node_folder_name
from runway.plugins import get_plugins

SECRETS = {"_svc.api_key": "XYZ-API-KEY", "_svc.password": "PW-HUNTER2", "_hf.hf_token": "hf_SECRET_TOKEN"}


def _payload(marker: Path) -> str:
    return f"__import__('os').system('touch {marker}')"


def test_opts_values_are_strings_never_code(light, invoke, tmp_path):
    marker = tmp_path / "pwned"
    result = invoke("config", "show", "light", "--opts", f"+_x={_payload(marker)}", f"+_y=exec('open(\"{marker}\",\"w\")')")
    assert result.exit_code == 0, result.output
    assert _payload(marker) in result.output  # shown back as the plain string it is
    assert not marker.exists()


def test_jsonnet_has_no_way_to_run_a_command(light, invoke, tmp_path):
    marker = tmp_path / "pwned"
    (light.root / "configs" / "experiments" / "evil.jsonnet").write_text(
        f"{{ data_pipeline: {{ name: std.native('system')('touch {marker}') }} }}\n", encoding="utf-8"
    )
    result = invoke("config", "show", "evil")
    assert result.exit_code == 2 and "Error:" in result.output, result.output
    assert "Traceback" not in result.output
    assert not marker.exists()


@pytest.mark.parametrize("name", ["evil_module.Thing", "evil_module:Thing", "evil_module", "os.system", "builtins:eval"])
def test_transform_names_resolve_only_through_the_registry(light, invoke, tmp_path, name):
    marker = tmp_path / "imported"
    # importable from the project root, and it would announce being imported
    (light.root / "evil_module.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Thing: pass\n")
    pipeline = light_pipeline()
    pipeline["transforms"]["scale:a"]["transform_name"] = name
    light.write_config("light", pipeline)
    result = invoke("prepare", "light")
    assert result.exit_code == 2 and "unknown transform" in result.output.lower(), result.output
    assert not marker.exists()
    assert not light.calls()  # nothing ran


def test_secrets_never_reach_config_provenance_or_status(light, tmp_path):
    env = hold_launcher_env(tmp_path / "site")
    opts = [f"+{key}={value}" for key, value in SECRETS.items()]
    done = run_runway(light.root, "train", "light", "--launcher", "hold", "--opts", *opts, env=env)
    assert done.code == 0, done.err
    version = light.experiments_dir / "light_V1"
    for record in ("config.json", "provenance.json", "status.json"):
        text = (version / record).read_text(encoding="utf-8")
        for secret in SECRETS.values():
            assert secret not in text, f"{secret} leaked into {record}"
    command = json.loads((version / "provenance.json").read_text())["command"]
    assert "+_svc.api_key=***" in command and "light" in command  # the command line is kept, redacted
    config = json.loads((version / "config.json").read_text())
    assert config["_svc"] == {"api_key": "***", "password": "***"}


class RecordingLogger:
    """A logger plugin that keeps what it was handed."""

    def __init__(self) -> None:
        self.configs: list[dict] = []
        self.metrics: list[dict] = []

    @hookimpl
    def logger_start_run(self, run):
        self.configs.append(json.loads(json.dumps(run.config)))

    @hookimpl
    def log_metrics(self, run, metrics, step):
        self.metrics.append(dict(metrics))


def test_loggers_only_see_the_redacted_config(light, invoke):
    from runway.config import redact
    from runway.experiment.store import ExperimentStore

    config = {"data_pipeline": light_pipeline(), "_svc": {"api_key": SECRETS["_svc.api_key"]}}
    version = ExperimentStore(light.experiments_dir).allocate("light")
    # what start_version writes; the trainers hand loggers Run(config=version.config), this very file
    (version.path / "config.json").write_text(json.dumps(redact(config)))
    logs = version.path / "train" / "logs"
    logs.mkdir(parents=True)
    (logs / "metrics.csv").write_text("step,metric,value,time\n0,train/loss,0.5,1.0\n")
    recorder = RecordingLogger()
    get_plugins().pm.register(recorder, name="recorder")

    result = invoke("sync", "light", "--logger", "recorder")
    assert result.exit_code == 0, result.output
    assert recorder.metrics == [{"train/loss": 0.5}]
    assert recorder.configs and all(SECRETS["_svc.api_key"] not in json.dumps(c) for c in recorder.configs)


def test_mlflow_params_are_redacted_even_from_a_raw_config():
    plugin = pytest.importorskip("runway_mlflow.plugin")
    params = plugin.config_params({"_svc": {"api_key": "XYZ"}, "wandb": {"api_key": "K"}, "train": {"lr": 0.1}})
    assert params["_svc.api_key"] == "***" and params["wandb.api_key"] == "***" and params["train.lr"] == "0.1"


class Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def _entry(light) -> Path:
    folder = light.cache_dir / node_folder_name("output:wrapped")
    (entry,) = [p for p in folder.iterdir() if p.is_dir()]
    return entry


@pytest.mark.parametrize(
    "tamper",
    ["replace the data of a complete entry", "entry without marker or meta", "marker without meta", "meta copied from another entry"],
)
def test_a_foreign_pickle_in_the_cache_is_never_unpickled(light, invoke, tmp_path, tamper):
    assert invoke("prepare", "light").exit_code == 0
    entry = _entry(light)
    assert json.loads((entry / META_FILE).read_text())["format"] == "pickle"
    marker = tmp_path / "unpickled"
    evil = pickle.dumps(Exploit(marker))
    if tamper == "replace the data of a complete entry":
        (entry / DATA_DIR / "data.pkl").write_bytes(evil)
    else:
        meta = (entry / META_FILE).read_text()
        shutil.rmtree(entry)
        (entry / DATA_DIR).mkdir(parents=True)
        (entry / DATA_DIR / "data.pkl").write_bytes(evil)
        if tamper != "entry without marker or meta":
            (entry / COMPLETE_MARKER).write_text("now\n")
        if tamper == "meta copied from another entry":
            (entry / META_FILE).write_text(meta)
    light.log.unlink()

    for args in (("cache", "ls"), ("cache", "du"), ("pipeline", "explain", "light"), ("prepare", "light"), ("cache", "gc")):
        result = invoke(*args)
        assert result.exit_code == 0, result.output
        assert not marker.exists(), f"`runway {' '.join(args)}` unpickled a foreign file ({tamper})"
    assert light.calls()["output:wrapped"] == 1  # recomputed instead
