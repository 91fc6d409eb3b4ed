"""Project code runs from its source as it is now: never from a cached .pyc that a same-second edit left stale."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "import sys; from runway.project import Project; from pathlib import Path; project = Project(root=Path(sys.argv[1])); project.load_code(); "
    "import modeling.model as model; print(model.VALUE, type(sys.modules['modeling.layers'].__spec__.loader).__name__)"
)


def _run(root) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # an interpreter that caches bytecode
    done = subprocess.run([sys.executable, "-c", PROBE, str(root)], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_an_edit_within_the_same_second_and_size_runs_the_new_code(tmp_path):
    root = tmp_path / "project"
    (root / "modeling").mkdir(parents=True)
    (root / "runway.toml").write_text("")
    (root / "modeling" / "__init__.py").write_text("")
    # model imports layers by name, before the project loads layers by path: both from source
    (root / "modeling" / "aaa_model_first.py").write_text("import modeling.model\n")
    (root / "modeling" / "model.py").write_text("from modeling.layers import VALUE\n")
    layers = root / "modeling" / "layers.py"
    layers.write_text("VALUE = 1\n")
    stamp = layers.stat().st_mtime_ns
    assert _run(root) == "1 SourceOnlyLoader"

    layers.write_text("VALUE = 2\n")  # same size
    os.utime(layers, ns=(stamp, stamp))  # and the same modification time, as an edit within the second has
    assert _run(root) == "2 SourceOnlyLoader"
    assert not list(root.rglob("*.pyc"))


def test_a_virtual_environment_inside_the_project_is_not_its_code(tmp_path):
    """Installed packages keep their cached bytecode even when the environment lives in the project's folder."""
    from runway.support.imports import ProjectCodeFinder

    finder = ProjectCodeFinder()
    finder.roots.append(os.path.join(os.path.dirname(os.__file__), ""))  # as if the standard library were the project
    spec = finder.find_spec("json")
    assert type(spec.loader).__name__ == "SourceFileLoader"
