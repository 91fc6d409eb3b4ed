"""Data commands import the project's transforms only: no models, no Lightning, no torch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runway.project import Project

HEAVY = ("torch", "lightning", "pytorch_lightning")


def _modules_after(args: list[str], cwd: Path) -> tuple[set[str], subprocess.CompletedProcess]:
    """The modules a ``runway ARGS`` process had imported when it exited (dumped at exit)."""
    code = textwrap.dedent(
        f"""
        import atexit, sys
        atexit.register(lambda: print("MODULES=" + ",".join(sorted(sys.modules)), file=sys.stderr))
        from runway.cli.main import main
        main({args!r})
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ}
    )
    lines = [line for line in proc.stderr.splitlines() if line.startswith("MODULES=")]
    assert lines, proc.stderr
    return set(lines[-1][len("MODULES="):].split(",")), proc


@pytest.fixture(scope="module")
def init_project(tmp_path_factory) -> Path:
    from click.testing import CliRunner

    from runway.cli.main import cli

    root = tmp_path_factory.mktemp("init") / "proj"
    result = CliRunner().invoke(cli, ["init", str(root)])
    assert result.exit_code == 0, result.output
    return root


def test_pipeline_explain_in_a_fresh_init_project_imports_neither_torch_nor_lightning(init_project):
    loaded, proc = _modules_after(["pipeline", "explain", "example"], init_project)
    assert "output:tensors" in proc.stdout
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]
    # the transforms were imported, the model and executor were not
    assert "data_processing.digits" in loaded
    assert not [m for m in loaded if m.startswith(("executors", "modeling", "metrics"))]


def test_pipeline_show_and_config_show_import_no_heavy_library(init_project):
    for args in (["pipeline", "show", "example"], ["config", "show", "example"]):
        loaded, proc = _modules_after(args, init_project)
        assert proc.returncode in (0, None), proc.stderr
        assert not [m for m in loaded if m.split(".")[0] in HEAVY], args


def _project_with(root: Path, files: dict[str, str], marker: str = "") -> Project:
    root.mkdir()
    (root / "runway.toml").write_text(marker)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return Project.find(root)


def test_data_code_is_the_modules_that_register_transforms(tmp_path, monkeypatch):
    """A transform registered outside data_processing/ still counts; a model module is not imported."""
    project = _project_with(
        tmp_path / "p",
        {
            "data_processing/prep.py": "import runway\n@runway.register_transform\ndef prep_rows(data):\n    return data\n",
            "executors/extra.py": "import runway\n@runway.register_transform\ndef extra_rows(data):\n    return data\n",
            "modeling/net.py": "raise RuntimeError('a model module was imported by a data command')\n",
        },
    )
    monkeypatch.syspath_prepend(str(project.root))
    try:
        project.load_data_code()
        assert {"data_processing.prep", "executors.extra"} <= set(sys.modules)
        assert "modeling.net" not in sys.modules
        with pytest.raises(RuntimeError, match="model module"):
            project.load_code()
    finally:
        from runway.pipeline.transform import forget_project_transforms

        for name in [m for m in sys.modules if m.split(".")[0] in ("data_processing", "executors", "modeling")]:
            del sys.modules[name]
        forget_project_transforms()


def test_data_code_dirs_names_the_folders_outright(tmp_path, monkeypatch):
    project = _project_with(
        tmp_path / "q",
        {
            "data_processing/helpers.py": "VALUE = 1\n",  # no marker: imported because the folder is named
            "executors/extra.py": "raise RuntimeError('not a data folder')\n",
        },
        marker='data_code_dirs = ["data_processing"]\n',
    )
    monkeypatch.syspath_prepend(str(project.root))
    try:
        project.load_data_code()
        assert "data_processing.helpers" in sys.modules
        assert "executors.extra" not in sys.modules
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] in ("data_processing", "executors")]:
            del sys.modules[name]
