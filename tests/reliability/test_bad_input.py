"""The bad-input corpus: every entry fails with exit code 2, ``Error: ...`` saying
what and where, and no Python traceback.

Each row is (id, setup, command, expected message fragment). ``setup(project,
tmp_path)`` breaks something in a fresh light project (the cwd) and may return
replacement arguments. Running as root, ``chmod`` does not stop writes, so an
unwritable experiments folder is simulated twice: the path is a regular file,
and (where ``mount`` works, as root on Linux) a read-only tmpfs mounted on it.
A full disk is a 64 kB tmpfs mounted on the cache folder.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reliability_helpers import LightProject, assert_cache_consistent, assert_clean_failure, light_pipeline, write_fake_distribution

from runway.experiment.store import ExperimentStore
from runway.plugins import make_plugin_manager, set_plugins

BROKEN_PLUGIN = "import runway\nraise ImportError('the backend library is missing')\n"


def _write(project: LightProject, name: str, text: str) -> None:
    (project.root / "configs" / "experiments" / f"{name}.jsonnet").write_text(text, encoding="utf-8")


def _pipeline_with(project: LightProject, **changes: dict) -> None:
    pipeline = light_pipeline()
    for node, spec in changes.items():
        pipeline["transforms"][node] = spec
    project.write_config("light", pipeline)


def _bare_version(project: LightProject) -> None:
    """A version submitted (its job written) that never trained: no checkpoints."""
    from runway.config import fingerprint
    from runway.job.spec import JobSpec, key_digests, write_config, write_spec

    version = ExperimentStore(project.experiments_dir).allocate("light")
    config = {"data_pipeline": light_pipeline()}
    write_config(version.path, config)
    write_spec(version.path, JobSpec(
        command="train", experiment="light", version=version.number, project_root=str(project.root),
        fingerprint=fingerprint(config), key_digests=key_digests(config),
    ))


def _version_with_metrics(project: LightProject) -> None:
    version = ExperimentStore(project.experiments_dir).allocate("light")
    (version.path / "config.json").write_text(json.dumps({"data_pipeline": light_pipeline()}))
    logs = version.path / "train" / "logs"
    logs.mkdir(parents=True)
    (logs / "metrics.csv").write_text("step,metric,value,time\n0,train/loss,0.5,1.0\n")


def _broken_plugin(project: LightProject, tmp_path: Path) -> None:
    site = write_fake_distribution(
        tmp_path / "site", dist="runway-broken", plugin="broken", module=f"broken_{uuid.uuid4().hex[:8]}", source=BROKEN_PLUGIN
    )
    import importlib.metadata as metadata
    import sys

    sys.path.insert(0, str(site))  # restored by the clean_process fixture
    dist = next(d for d in metadata.distributions(path=[str(site)]) if d.metadata["Name"] == "runway-broken")
    set_plugins(make_plugin_manager(builtins_only=False, allow=["broken"], block=None, trace=False, entry_points=dist.entry_points))


def _mount(where: Path, options: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); needs root on Linux")
    _MOUNTS.append(where)


_MOUNTS: list[Path] = []

Setup = Callable[[LightProject, Path], None]

CORPUS: list[tuple[str, Setup, list[str], str]] = [
    (
        "broken jsonnet",
        lambda p, t: _write(p, "light", "{\n  data_pipeline: {\n    name: 'x',,\n  }\n}\n"),
        ["config", "show", "light"],
        "light.jsonnet:3:",
    ),
    (
        "missing jsonnet import",
        lambda p, t: _write(p, "light", "local x = import 'nowhere.libsonnet';\nx\n"),
        ["config", "show", "light"],
        "nowhere.libsonnet",
    ),
    (
        "unknown override key",
        lambda p, t: None,
        ["config", "show", "light", "--opts", "data_pipeline.nmae=x"],
        "'data_pipeline.name'",
    ),
    (
        "override into a scalar",
        lambda p, t: None,
        ["config", "show", "light", "--opts", "data_pipeline.name.sub=1"],
        "'data_pipeline.name' is a string",
    ),
    (
        "wrong type of a section",
        lambda p, t: p.write_config("light", light_pipeline(), train=3),
        ["config", "show", "light"],
        "train",
    ),
    (
        "unknown section",
        lambda p, t: p.write_config("light", light_pipeline(), trian={}),
        ["config", "show", "light"],
        "'train'",
    ),
    (
        "unknown transform",
        lambda p, t: _pipeline_with(p, **{"scale:a": {"transform_name": "Scal", "input_node": "input:a"}}),
        ["pipeline", "explain", "light"],
        "'Scale'",
    ),
    (
        "cycle",
        lambda p, t: _pipeline_with(
            p,
            **{
                "input:a": {"transform_name": "Scale", "input_node": "scale:a"},
                "scale:a": {"transform_name": "Scale", "input_node": "input:a"},
            },
        ),
        ["pipeline", "explain", "light"],
        "input:a",
    ),
    (
        "missing input node",
        lambda p, t: _pipeline_with(p, **{"scale:a": {"transform_name": "Scale", "input_node": "input:zz"}}),
        ["prepare", "light"],
        "input:zz",
    ),
    (
        "unknown setup kwarg",
        lambda p, t: _pipeline_with(p, **{"scale:a": {"transform_name": "Scale", "input_node": "input:a", "setup_kwargs": {"factr": 2}}}),
        ["prepare", "light"],
        "factr",
    ),
    (
        "missing input file",
        lambda p, t: _pipeline_with(p, **{"input:a": {"transform_name": "ReadLines", "setup_kwargs": {"path": "data/absent.txt"}}}),
        ["prepare", "light"],
        "data/absent.txt",
    ),
    (
        "missing config file",
        lambda p, t: None,
        ["prepare", "--config", "nowhere/exp.jsonnet"],
        "nowhere/exp.jsonnet",
    ),
    (
        "unknown experiment",
        lambda p, t: None,
        ["config", "show", "lihgt"],
        "lihgt",
    ),
    (
        "missing checkpoint",
        lambda p, t: _bare_version(p),
        ["infer", "light", "test"],
        "no checkpoint 'best'",
    ),
    (
        "unknown version",
        lambda p, t: _bare_version(p),
        ["infer", "light", "test", "--version", "7"],
        "no version 7",
    ),
    (
        "unknown logger",
        lambda p, t: _version_with_metrics(p),
        ["sync", "light", "--logger", "nolog"],
        "unknown logger 'nolog'",
    ),
    (
        "unknown logger for train",
        lambda p, t: None,
        ["train", "light", "--logger", "nolog"],
        "unknown logger 'nolog'",
    ),
    (
        "unknown launcher",
        lambda p, t: None,
        ["train", "light", "--launcher", "nolaunch"],
        "unknown launcher 'nolaunch'",
    ),
    (
        "broken plugin",
        _broken_plugin,
        ["train", "light", "--launcher", "broken"],
        "plugin 'broken' from runway-broken 0.1 failed to import",
    ),
    (
        "experiments path is a file",
        lambda p, t: p.experiments_dir.write_text("not a folder"),
        ["train", "light"],
        "experiments",
    ),
    (
        "experiments folder read-only",
        lambda p, t: _mount(p.experiments_dir, "ro,size=64k"),
        ["train", "light"],
        "experiments",
    ),
    (
        "full disk",
        lambda p, t: (_mount(p.cache_dir, "size=64k"), p.write_config("light", light_pipeline(n=50000))),
        ["prepare", "light"],
        "No space left on device",
    ),
]


@pytest.fixture
def unmount_after() -> Iterator[None]:
    yield
    while _MOUNTS:
        subprocess.run(["umount", "-l", str(_MOUNTS.pop())], check=False)


@pytest.mark.parametrize(("setup", "args", "fragment"), [row[1:] for row in CORPUS], ids=[row[0] for row in CORPUS])
def test_bad_input_fails_cleanly_with_exit_2(light, tmp_path, invoke, unmount_after, setup, args, fragment):
    setup(light, tmp_path)
    result = invoke(*args)
    if "broken" in args:
        # the plugin's own import traceback is part of the message, by design: it is theirs to fix
        output = result.output.split("failed to import", 1)[0]
        assert result.exit_code == 2 and "Error:" in output and fragment in result.output, result.output
        assert "the backend library is missing" in result.output
        return
    assert_clean_failure(result, fragment)
    assert_cache_consistent(light.cache_dir)  # a failed write leaves nothing half-written behind
    if args[0] == "train" and {"nolog", "nolaunch"} & set(args):  # refused before anything was allocated
        assert not list(light.experiments_dir.glob("light_V*"))
