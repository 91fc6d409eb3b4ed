"""A tiny Runway project for the pipeline tests: its transforms, configs and a subprocess runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from runway.pipeline.transform import forget_project_transforms

CODE_PACKAGE = "data_processing"

# The project's transforms. Each appends its name to the file named by the
# `_log` setup kwarg (keys starting with `_` do not join the cache key), so a
# test counts computations, even across processes.
TRANSFORMS = '''
import json
import os
import time
from pathlib import Path

import runway


def record(log, name):
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(name + "\\n")
            handle.flush()
            os.fsync(handle.fileno())


@runway.register_transform
class Numbers(runway.Transform):
    def setup(self, x=1, _log=None):
        self.x, self.log = x, _log

    def _call(self, data):
        record(self.log, self.node_name)
        n = 2 if self.use_dummy_data else 5
        return {"x": self.x, "values": list(range(n))}


@runway.register_transform
class Scale(runway.Transform):
    def setup(self, factor=10, _log=None, _sleep=0):
        self.factor, self.log, self.sleep = factor, _log, _sleep

    def _call(self, data):
        record(self.log, self.node_name)
        time.sleep(self.sleep)
        return {"x": data["x"] * self.factor, "values": [v * self.factor for v in data["values"]]}


@runway.register_transform
class Tokenize(runway.Transform):
    version = 1

    def setup(self, max_len=128, _log=None):
        self.max_len, self.log = max_len, _log

    def _call(self, data):
        record(self.log, self.node_name)
        return {"tokens": data["values"][: self.max_len], "max_len": self.max_len}


@runway.register_transform
class Report(runway.Transform):
    def setup(self, _log=None, _seen=None):
        self.log, self.seen = _log, _seen

    def _call(self, data):
        record(self.log, self.node_name)
        if self.seen:
            with open(self.seen, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(data) + "\\n")
        return {"report": data}


@runway.register_transform
class ReadText(runway.Transform):
    file_inputs = ("path",)

    def setup(self, path, _log=None):
        self.path, self.log = path, _log

    def _call(self, data):
        record(self.log, self.node_name)
        return (self.project_root / self.path).read_text(encoding="utf-8")


@runway.register_transform
def merge(parts, *, _log=None):
    record(_log, "merge")
    return {"parts": parts}


class SlowToWrite:
    """Pickled slowly when RUNWAY_TEST_SLOW_WRITE names a file: it is touched, then we sleep."""

    def __init__(self, value):
        self.value = value

    def __reduce__(self):
        flag = os.environ.get("RUNWAY_TEST_SLOW_WRITE")
        if flag:
            Path(flag).write_text("writing")
            time.sleep(60)
        return (SlowToWrite, (self.value,))


@runway.register_transform
class MakeObject(runway.Transform):
    def setup(self, _log=None):
        self.log = _log

    def _call(self, data):
        record(self.log, self.node_name)
        return SlowToWrite(data["x"])
'''


def explain_line(output: str, node: str) -> str:
    """The line of `pipeline explain` output about ``node``."""
    for line in output.splitlines():
        parts = line.split(None, 2)
        if len(parts) >= 2 and parts[1] == node:
            return line
    raise AssertionError(f"no line for {node} in:\n{output}")


def pipeline_config(log: str = "calls.txt", **overrides: object) -> dict:
    """input:A (Numbers) -> process:B (Scale) -> output:C (Report, cache: false)."""
    config = {
        "name": "p",
        "transforms": {
            "input:A": {"transform_name": "Numbers", "setup_kwargs": {"x": 1, "_log": log}},
            "process:B": {"transform_name": "Scale", "input_node": "input:A", "setup_kwargs": {"_log": log}},
            "output:C": {
                "transform_name": "Report",
                "input_node": "process:B",
                "cache": False,
                "setup_kwargs": {"_log": log},
            },
        },
    }
    config.update(overrides)
    return config


class TinyProject:
    """A project folder: runway.toml, configs/experiments/*.jsonnet, data_processing/."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "runway.toml").write_text("")
        (root / "configs" / "experiments").mkdir(parents=True)
        (root / CODE_PACKAGE).mkdir()
        (root / CODE_PACKAGE / "transforms.py").write_text(TRANSFORMS, encoding="utf-8")
        self.log = root / "calls.txt"

    def write_config(self, name: str, data_pipeline: dict, **sections: object) -> Path:
        path = self.root / "configs" / "experiments" / f"{name}.jsonnet"
        path.write_text(json.dumps({"data_pipeline": data_pipeline, **sections}, indent=2), encoding="utf-8")
        return path

    def calls(self) -> Counter:
        if not self.log.exists():
            return Counter()
        return Counter(self.log.read_text(encoding="utf-8").split())

    def reset_calls(self) -> None:
        self.log.unlink(missing_ok=True)

    @property
    def cache_dir(self) -> Path:
        return self.root / "local_cache"

    def edit_transforms(self, old: str, new: str) -> None:
        path = self.root / CODE_PACKAGE / "transforms.py"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")
        forget_project_code()

    def run_cli(self, *args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
        """``runway ARGS`` in a real subprocess in this project."""
        full_env = {**os.environ, "RUNWAY_PLUGINS_BUILTIN_ONLY": "1", **(env or {})}
        return subprocess.Popen(
            [sys.executable, "-m", "runway", *args],
            cwd=self.root,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kwargs,
        )


def forget_project_code() -> None:
    """Unimport the project's code and its registered transforms (a fresh process, as far as we need)."""
    for name in [m for m in sys.modules if m == CODE_PACKAGE or m.startswith(CODE_PACKAGE + ".")]:
        del sys.modules[name]
    forget_project_transforms()
