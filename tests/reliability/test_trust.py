"""Trust: a cache that never unpickles what nobody verified, secrets that stay
secret in every sink, damaged records that break nothing, provenance of code
outside git, and no traceback for bad input or the machine's state."""

from __future__ import annotations

import errno
import json
import math
import os
import pickle
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from reliability_helpers import LightProject, assert_clean_failure, hold_launcher_env, light_pipeline, run_runway, write_fake_distribution
from secret_sinks import files_holding, log_with_secrets, mlflow_run_text, submit_with_secrets

from runway.pipeline.cache import DATA_DIR, LOCKS_DIR, META_FILE, data_checksum, file_manifest, node_folder_name
from runway.plugins import make_plugin_manager, set_plugins


@pytest.fixture(autouse=True)
def own_cache_key(tmp_path, monkeypatch):
    """The cache signing key of this test's user lives in its own config folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("RUNWAY_CACHE_KEY", raising=False)
    monkeypatch.delenv("RUNWAY_CACHE_KEY_FILE", raising=False)


def _hold_env(tmp_path: Path) -> dict[str, str]:
    env = hold_launcher_env(tmp_path / "site")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    return env


class Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def _pickled_entry(light) -> Path:
    folder = light.cache_dir / node_folder_name("output:wrapped")
    (entry,) = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert json.loads((entry / META_FILE).read_text())["format"] == "pickle"
    return entry


def _same_size_exploit(marker: Path, size: int) -> bytes:
    """A pickle that runs code, padded to exactly ``size`` bytes (pickle stops at STOP)."""
    evil = pickle.dumps(Exploit(marker))
    assert len(evil) <= size, (len(evil), size)
    return evil + b"\0" * (size - len(evil))


# ----------------------------------------------------------------------------- the pickle cache


def test_a_same_size_pickle_with_its_mtime_restored_is_never_unpickled(light, invoke, tmp_path):
    assert invoke("prepare", "light").exit_code == 0
    entry = _pickled_entry(light)
    data = entry / DATA_DIR / "data.pkl"
    before = data.stat()
    marker = tmp_path / "unpickled"
    data.write_bytes(_same_size_exploit(marker, before.st_size))
    os.utime(data, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert json.loads((entry / META_FILE).read_text())["files"] == file_manifest(entry / DATA_DIR)  # the shortcut would pass
    light.log.unlink()

    result = invoke("prepare", "light")
    assert result.exit_code == 0, result.output
    assert not marker.exists(), "a pickle whose size and mtime matched was unpickled without its checksum"
    assert "checksum mismatch" in result.output
    assert light.calls() == {"output:wrapped": 1}  # recomputed; the JSON entries still loaded by the shortcut


def test_a_pickle_whose_meta_was_rewritten_to_match_is_refused_without_the_key(light, invoke, tmp_path):
    assert invoke("prepare", "light").exit_code == 0
    light.log.unlink()
    assert invoke("prepare", "light").exit_code == 0 and not light.calls()  # a signed entry loads
    entry = _pickled_entry(light)
    marker = tmp_path / "unpickled"
    (entry / DATA_DIR / "data.pkl").write_bytes(pickle.dumps(Exploit(marker)))
    meta = json.loads((entry / META_FILE).read_text())
    # what someone who can write the shared cache folder, but holds no key, can forge
    meta.update(checksum=data_checksum(entry / DATA_DIR), files=file_manifest(entry / DATA_DIR), signature="0" * 64)
    (entry / META_FILE).write_text(json.dumps(meta))

    result = invoke("prepare", "light")
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    assert "signature does not match" in result.output
    assert light.calls() == {"output:wrapped": 1}


def test_a_read_only_shared_cache_is_still_read(light, invoke, tmp_path):
    light.cache_dir.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(light.cache_dir)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); needs root on Linux")
    try:
        assert invoke("prepare", "light").exit_code == 0
        light.log.unlink()
        shutil.rmtree(light.cache_dir / LOCKS_DIR)  # the readers' locks must not be needed
        subprocess.run(["mount", "-o", "remount,ro", str(light.cache_dir)], check=True)
        result = invoke("prepare", "light")
        assert result.exit_code == 0, result.output
        assert not light.calls(), result.output  # every entry loaded, the pickle one included
        assert not (light.cache_dir / LOCKS_DIR).exists()

        result = invoke("prepare", "light", "--regenerate", "scale:a")
        assert result.exit_code == 0, result.output
        assert "not writable" in result.output and light.calls()["scale:a"] == 1
    finally:
        subprocess.run(["umount", "-l", str(light.cache_dir)], check=False)


# ----------------------------------------------------------------------------- secrets

WIDER = {
    "+_svc.passphrase": "SECRET-PASSPHRASE-1",
    "+_svc.private_key": "SECRET-PRIVATE-KEY-2",
    "+_svc.auth": "SECRET-AUTH-3",
    "+_svc.bearer": "SECRET-BEARER-4",
    "+_svc.pwd": "SECRET-PWD-5",
    "+_svc.cookie": "SECRET-COOKIE-6",
    "+_svc.access_token_v2": "SECRET-ACCESS-TOKEN-7",
}
IN_JSON = "SECRET-IN-JSON-8"
IN_URL = "SECRET-IN-URL-9"
IN_TAG = "SECRET-IN-TAG-10"
IN_SWEEP = ("SECRET-SWEPT-11", "SECRET-SWEPT-12")
ALL_SECRETS = [*WIDER.values(), IN_JSON, IN_URL, IN_TAG, *IN_SWEEP]


def test_secrets_in_json_values_urls_tags_sweeps_and_wider_names_stay_out_of_records_and_output(light, tmp_path):
    opts = [f"{k}={v}" for k, v in WIDER.items()]
    opts += ['+_svc2={"nested": [{"api_key": "%s"}], "port": 1}' % IN_JSON, f"+_db.url=postgresql://me:{IN_URL}@db:5432/x"]
    printed = submit_with_secrets(
        light.root, _hold_env(tmp_path), opts, [f"api_key={IN_TAG}", "plain"], [f"+_svc.api_key={IN_SWEEP[0]},{IN_SWEEP[1]}"]
    )
    assert not files_holding(light.root, ALL_SECRETS)
    assert not [s for s in ALL_SECRETS if s in printed], printed
    provenance = json.loads((light.experiments_dir / "light_V1" / "provenance.json").read_text())
    assert '+_svc2={"nested": [{"api_key": "***"}], "port": 1}' in provenance["command"]
    assert "+_db.url=postgresql://me:***@db:5432/x" in provenance["command"]
    assert provenance["tag"] == ["api_key=***", "plain"]
    config = json.loads((light.experiments_dir / "light_V1" / "config.json").read_text())
    assert config["_db"]["url"] == "postgresql://me:***@db:5432/x"
    assert set(config["_svc"].values()) == {"***"}
    ledger = json.loads(next((light.experiments_dir / "_sweeps").glob("light-*.json")).read_text())
    assert {p["overrides"]["+_svc.api_key"] for p in ledger["points"]} == {"***"}


def test_wandb_offline_run_files_hold_no_secret(tmp_path, monkeypatch):
    pytest.importorskip("runway_wandb.plugin")
    version_dir = _version_folder(tmp_path)
    config = {"_svc": {"api_key": IN_JSON, "nested": {"passphrase": WIDER["+_svc.passphrase"]}}, "_db": f"http://u:{IN_URL}@h/x"}
    argv = ["runway", "train", "light", "--opts", f"+_svc.api_key={IN_JSON}", f'+_svc2={{"cookie": "{WIDER["+_svc.cookie"]}"}}']
    log_with_secrets(version_dir, config, {"api_key": IN_TAG}, argv, None, monkeypatch)
    assert list((version_dir / "wandb").rglob("*.wandb")), "no offline wandb run was written"
    assert not files_holding(version_dir / "wandb", ALL_SECRETS)


@pytest.mark.mlflow_server
def test_mlflow_server_holds_no_secret(tmp_path, monkeypatch, mlflow_server):
    pytest.importorskip("runway_mlflow.plugin")
    version_dir = _version_folder(tmp_path)
    config = {"_svc": {"token_v2": IN_JSON}, "_db": {"url": f"https://u:{IN_URL}@h/x"}}
    argv = ["runway", "train", "light", "--tag", f"api_key={IN_TAG}"]
    log_with_secrets(version_dir, config, {"api_key": IN_TAG, "db": f"http://u:{IN_URL}@h"}, argv, mlflow_server.uri, monkeypatch)
    shown = mlflow_run_text(mlflow_server.uri, version_dir)
    assert '"api_key": "***"' in shown and "http://u:***@h" in shown
    assert not [s for s in ALL_SECRETS if s in shown], shown
    assert not files_holding(mlflow_server.folder, ALL_SECRETS)


def _version_folder(tmp_path: Path) -> Path:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "runway.toml").write_text("")
    version_dir = tmp_path / "proj" / "experiments" / "light_V1"
    version_dir.mkdir(parents=True)
    return version_dir


# ----------------------------------------------------------------------------- damaged records

DAMAGES = {
    "truncated status.json": ("status.json", b'{"state": "compl'),
    "status.json holding a list": ("status.json", b"[]"),
    "provenance.json not UTF-8": ("provenance.json", b'{"created": "\xff\xfe"}'),
    "truncated config.json": ("config.json", b'{"data_pipeline": {'),
}


def _three_versions(light, tmp_path) -> None:
    env = _hold_env(tmp_path)
    for _ in range(3):
        done = run_runway(light.root, "train", "light", "--launcher", "hold", env=env)
        assert done.code == 0, done.err


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_record_lists_as_damaged_and_every_other_version_still_lists(light, invoke, tmp_path, damage):
    _three_versions(light, tmp_path)
    name, content = DAMAGES[damage]
    broken = light.experiments_dir / "light_V2" / name
    broken.write_bytes(content)

    result = invoke("list")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    lines = {line.split()[1]: line for line in result.output.splitlines()[1:] if line.startswith("light")}
    assert set(lines) == {"1", "2", "3"}, result.output
    assert "damaged" in lines["2"] and str(broken) in lines["2"]
    assert "damaged" not in lines["1"] + lines["3"]
    rows = json.loads(invoke("list", "--json").output)
    assert [r["status"] == "damaged" for r in rows] == [False, True, False]
    assert rows[1]["damaged"]["file"] == str(broken)

    assert_clean_failure(invoke("show", "light", "--version", "2"), str(broken))
    if name == "config.json":
        assert_clean_failure(invoke("infer", "light", "test", "--version", "2"), str(broken))
        assert_clean_failure(invoke("rerun", "light:2"), str(broken))


def test_truncated_or_garbage_checkpoints_are_refused_naming_the_file(tmp_path):
    torch = pytest.importorskip("torch")
    from runway.errors import RunwayError
    from runway.experiment.checkpoint_io import DamagedCheckpoint, check_checkpoint

    whole = tmp_path / "last.ckpt"
    torch.save({"state_dict": {"w": torch.zeros(4096)}, "epoch": 3}, whole)
    check_checkpoint(whole)
    data = whole.read_bytes()
    damaged = {
        "truncated.ckpt": data[: len(data) // 2],
        "cut-short.ckpt": data[:-20],
        "garbage.ckpt": os.urandom(4096),
        "empty.ckpt": b"",
        "text.ckpt": b"not a checkpoint\n",
    }
    for name, content in damaged.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(DamagedCheckpoint, match=str(path)) as caught:
            check_checkpoint(path)
        assert isinstance(caught.value, RunwayError) and caught.value.exit_code == 2
    with pytest.raises(DamagedCheckpoint, match="missing"):
        check_checkpoint(tmp_path / "absent.ckpt")


def test_a_full_disk_during_a_checkpoint_save_is_an_error_naming_it_and_keeps_the_previous_one(tmp_path):
    torch = pytest.importorskip("torch")
    from runway.experiment.checkpoint_io import AtomicCheckpointIO, CheckpointNotSaved, check_checkpoint

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); needs root on Linux")
    try:
        target = folder / "last.ckpt"
        AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.zeros(16)}}, target)
        with pytest.raises(CheckpointNotSaved, match=str(target)):
            AtomicCheckpointIO().save_checkpoint({"state_dict": {"w": torch.zeros(1_000_000)}}, target)
        check_checkpoint(target)
        assert torch.load(target, weights_only=True)["state_dict"]["w"].shape == (16,)
        assert [p.name for p in folder.iterdir()] == ["last.ckpt"]
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


# ----------------------------------------------------------------------------- bad output, plugins, paths

CYCLIC = '''
import runway


@runway.register_transform
class Loop(runway.Transform):
    def _call(self, data):
        out = {"values": [1, 2]}
        out["values"].append(out)
        return out


@runway.register_transform
class Unpicklable(runway.Transform):
    def _call(self, data):
        return {"handler": lambda row: row}
'''


def _with_node(light, transform: str) -> None:
    (light.root / "data_processing" / "bad_outputs.py").write_text(CYCLIC)
    pipeline = light_pipeline()
    pipeline["transforms"]["output:bad"] = {"transform_name": transform, "input_node": "input:a"}
    light.write_config("light", pipeline)


def test_a_self_referencing_output_names_its_node_and_releases_the_entry_lock(light, invoke):
    _with_node(light, "Loop")
    result = invoke("prepare", "light", "--node", "output:bad")
    assert_clean_failure(result, "'output:bad'")
    assert "contains the container it is in" in result.output
    from filelock import FileLock

    for lock in (light.cache_dir / LOCKS_DIR).glob("output_bad*.lock"):
        FileLock(str(lock), timeout=0).acquire().lock.release()  # free: nobody holds it any more


def test_an_unpicklable_output_names_its_node(light, invoke):
    _with_node(light, "Unpicklable")
    result = invoke("prepare", "light", "--node", "output:bad")
    assert_clean_failure(result, "'output:bad'")
    assert "cannot be cached with the pickle format" in result.output


def _plugin(tmp_path: Path, source: str, name: str) -> None:
    import importlib.metadata as metadata
    import sys

    site = write_fake_distribution(tmp_path / "site", dist=f"runway-{name}", plugin=name, module=f"{name}_{uuid.uuid4().hex[:8]}", source=source)
    sys.path.insert(0, str(site))  # restored by the clean_process fixture
    dist = next(d for d in metadata.distributions(path=[str(site)]) if d.metadata["Name"] == f"runway-{name}")
    set_plugins(make_plugin_manager(builtins_only=False, allow=[name], block=None, trace=False, entry_points=dist.entry_points))


def test_a_plugin_whose_import_raises_system_exit_is_reported_as_broken(light, invoke, tmp_path):
    _plugin(tmp_path, "import sys\nsys.exit(3)\n", "quitter")
    result = invoke("plugins")
    assert result.exit_code == 0, result.output
    assert "quitter" in result.output and "SystemExit" in result.output
    assert invoke("config", "show", "light").exit_code == 0  # the other commands still work


def test_a_validate_config_hook_that_raises_names_its_plugin(light, invoke, tmp_path):
    source = "import runway\n\n@runway.hookimpl\ndef validate_config(config):\n    raise KeyError('boom')\n"
    _plugin(tmp_path, source, "checker")
    result = invoke("config", "show", "light")
    assert_clean_failure(result, "plugin 'checker'")
    assert "KeyError" in result.output


def _long_node(light, tmp_path) -> None:
    pipeline = light_pipeline()
    pipeline["transforms"]["output:" + "n" * 300] = {"transform_name": "Numbers", "setup_kwargs": {"n": 3}}
    light.write_config("light", pipeline)


def _cache_loop(light, tmp_path) -> None:
    os.symlink(light.cache_dir, light.cache_dir)


def _cache_is_a_file(light, tmp_path) -> None:
    light.cache_dir.write_text("not a folder")


def _node_folder_is_a_file(light, tmp_path) -> None:
    light.cache_dir.mkdir()
    (light.cache_dir / node_folder_name("input:a")).write_text("not a folder")


@pytest.mark.parametrize(
    ("setup", "fragment", "code"),
    [
        (_long_node, "File name too long", errno.ENAMETOOLONG),
        (_cache_loop, "ymbolic link", errno.ELOOP),
        (_cache_is_a_file, "Not a directory", errno.ENOTDIR),
        (_node_folder_is_a_file, "File exists", errno.EEXIST),
    ],
    ids=["ENAMETOOLONG", "ELOOP", "ENOTDIR", "EEXIST"],
)
def test_unusable_paths_exit_2_naming_the_path(light, invoke, tmp_path, setup, fragment, code):
    setup(light, tmp_path)
    result = invoke("prepare", "light")
    assert_clean_failure(result, fragment)
    assert "local_cache" in result.output


def test_a_500_deep_opts_path_is_a_config_error(light, invoke):
    deep = ".".join(["a"] * 500)
    for token in (f"+_x.{deep}=1", f"_x.{deep}=1", f"~_x.{deep}", "+_x=" + "[" * 500 + "]" * 500):
        result = invoke("config", "show", "light", "--opts", token)
        if token.startswith("+_x=["):
            assert result.exit_code in (0, 2), result.output  # a string, or refused: never a traceback
            assert "Traceback" not in result.output
        else:
            assert_clean_failure(result, "levels deep" if token.startswith("+") else "_x")


def test_nan_and_infinity_are_valid_json_in_records_and_refused_in_configs(tmp_path):
    from runway.config import fingerprint
    from runway.errors import ConfigError
    from runway.support.files import read_json, write_json

    path = write_json(tmp_path / "metrics.json", {"test/loss": math.nan, "test/acc": 0.5, "curve": [math.inf, -math.inf, 1.0]})
    assert json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{c} written into JSON")) == {
        "test/loss": None, "test/acc": 0.5, "curve": [None, None, 1.0]
    }
    assert read_json(path)["test/acc"] == 0.5
    with pytest.raises(ConfigError, match=r"'train\.optimizer\.lr' is nan"):
        fingerprint({"train": {"optimizer": {"lr": math.nan}}})


# ----------------------------------------------------------------------------- provenance of code without git


def test_code_outside_git_is_digested_per_file_and_rerun_names_the_edited_one(light, invoke, tmp_path):
    done = run_runway(light.root, "train", "light", "--launcher", "hold", env=_hold_env(tmp_path))
    assert done.code == 0, done.err
    assert "not in a git repository" in done.err
    provenance = json.loads((light.experiments_dir / "light_V1" / "provenance.json").read_text())
    assert provenance["git"] is None
    assert "data_processing/light_transforms.py" in provenance["code"]["files"]
    assert provenance["code"]["digest"]

    from runway.experiment.rerun import plan_rerun
    from runway.project import Project

    def code_differences() -> list[str]:
        # (the hold launcher's package is installed only in the subprocesses: not a code difference)
        return [d for d in plan_rerun(Project.find(light.root), "light:1").differences if d.startswith("code")]

    assert code_differences() == []
    with open(light.root / "data_processing" / "light_transforms.py", "a", encoding="utf-8") as handle:
        handle.write("\n# changed\n")
    (light.root / "data_processing" / "helpers.py").write_text("X = 1\n")
    differences = code_differences()
    assert any("changed: data_processing/light_transforms.py" in d and "new: data_processing/helpers.py" in d for d in differences), differences


def test_a_project_ignored_by_the_enclosing_repository_is_warned_about(tmp_path):
    from runway.experiment.provenance import code_warning, git_state

    outer = tmp_path / "outer"
    project = LightProject(outer / "ignored" / "proj")
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    (outer / ".gitignore").write_text("ignored/\n")
    subprocess.run(["git", "-C", str(outer), "add", ".gitignore"], check=True)
    subprocess.run(["git", "-C", str(outer), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"], check=True)
    git = git_state(project.root)
    assert git is not None  # the enclosing repository answers, about other files
    assert "ignored by the git repository" in (code_warning(project.root, git) or "")
    tracked = LightProject(outer / "tracked")
    assert code_warning(tracked.root, git_state(tracked.root)) is None


# ----------------------------------------------------------------------------- configs name classes only

@pytest.mark.parametrize(
    ("opts", "where"),
    [
        (["executor.model.class_path=os:system", 'executor.model.init_args={"command":"touch PWNED"}'], "executor.model.class_path"),
        (["executor.model.class_path=builtins.dict"], "executor.model.class_path"),
        (["executor.name=os:system"], "executor.name"),
        (['+train.trainer_paras.callbacks=[{"class_path":"os.system","init_args":{"command":"touch PWNED"}}]'], "callbacks"),
    ],
    ids=["model is os:system", "model is not a Module", "executor is a function", "callback is a function"],
)
def test_a_config_can_name_only_classes_of_the_kind_its_key_expects(runway_project, runway_builtin_plugins, runway_cli, opts, where):
    root = runway_project()
    result = runway_cli("train", "example", "--opts", *opts)
    assert_clean_failure(result, where)
    assert not (root / "PWNED").exists() and not Path("PWNED").exists()
    assert not list((root / "experiments").glob("example_V*"))  # refused before a version exists
