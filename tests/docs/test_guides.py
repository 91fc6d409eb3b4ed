"""The guides' snippets, run as written in an empty folder.

Fenced blocks are taken in document order:

- a block whose info string has ``title="PATH"`` is written to PATH;
- a ``bash`` block is run line by line; each line must be a ``runway ...``
  command (run in-process) that exits with 0;
- an untitled ``python`` block is executed;
- anything else (``text``, untitled ``jsonnet``) is illustration.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from runway.cli.main import cli
from runway.testing import TEMPLATE_PACKAGES

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "guides"
FENCE = re.compile(r"^```(?P<lang>[\w-]*)(?P<info>[^\n]*)\n(?P<body>.*?)^```\s*$", re.MULTILINE | re.DOTALL)
TITLE = re.compile(r'title="(?P<path>[^"]+)"')



def blocks(guide: Path) -> list[tuple[str, str | None, str]]:
    """``(language, title or None, body)`` of each fenced block."""
    found = []
    for match in FENCE.finditer(guide.read_text(encoding="utf-8")):
        title = TITLE.search(match["info"])
        found.append((match["lang"], title["path"] if title else None, match["body"]))
    return found


@pytest.fixture
def runway_project_packages():
    """The template's packages and the guide's own."""
    return (*TEMPLATE_PACKAGES, "byoc_demo")


@pytest.fixture
def empty_folder(tmp_path, monkeypatch, runway_builtin_plugins, runway_clean_process):
    folder = tmp_path / "guide"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def run_guide(guide: Path, folder: Path) -> list[str]:
    """Run the guide's snippets in ``folder``; returns the commands run."""
    commands = []
    runner = CliRunner()
    for lang, title, body in blocks(guide):
        if title is not None:
            target = folder / title
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
        elif lang == "bash":
            for line in body.splitlines():
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                argv = shlex.split(line)
                assert argv[0] == "runway", f"{guide.name}: only runway commands can run here: {line!r}"
                result = runner.invoke(cli, argv[1:], catch_exceptions=False)
                assert result.exit_code == 0, f"{guide.name}: `{line}` exited {result.exit_code}:\n{result.output}"
                commands.append(line)
        elif lang == "python":
            exec(compile(body, f"{guide.name}:snippet", "exec"), {"__name__": "__guide__"})
    return commands


@pytest.mark.slow
def test_lightning_guide_runs(empty_folder):
    commands = run_guide(GUIDES / "lightning.md", empty_folder)
    assert "runway run blobs" in commands
    from runway.experiment.store import ExperimentStore

    version = ExperimentStore(empty_folder / "experiments").get("blobs", 1)
    assert version.status["state"] == "completed"
    assert (version.test_dir("again") / "records.parquet").is_file()
    assert version.metrics("test")["accuracy"] > 0.9

    # the LightningCLI project: its YAML trained with LightningCLI's keys in --opts
    store = ExperimentStore(empty_folder / "experiments")
    moved = store.get("blobs_cli", 1)
    assert moved.status["state"] == "completed" and moved.config["train"]["epochs"] == 2
    assert moved.config["executor"]["init_args"] == {"hidden": 8, "lr": 0.2}
    assert (moved.test_dir("test") / "records.parquet").is_file()
    assert store.get("blobs_yaml", 1).metrics("test")["accuracy"] > 0.9
    # and the guide's fit.yaml is LightningCLI's own config for the guide's main.py
    assert_lightning_cli_reads(empty_folder / "main.py", "fit.yaml")


def assert_lightning_cli_reads(main: Path, config: str) -> None:
    """``python main.py fit --config CONFIG --print_config`` succeeds."""
    import contextlib
    import io
    import runpy
    import sys
    from unittest import mock

    out = io.StringIO()
    argv = [str(main), "fit", "--config", config, "--print_config"]
    with mock.patch.object(sys, "argv", argv), contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
        runpy.run_path(str(main), run_name="__main__")
    assert not exited.value.code, out.getvalue()
    assert "byoc_demo.models.Classifier" in out.getvalue()


def test_from_runway_for_ml_guide_runs(empty_folder):
    commands = run_guide(GUIDES / "from_runway_for_ml.md", empty_folder)
    assert any(c.startswith("runway migrate") for c in commands)
    migrated = (empty_folder / "configs" / "experiments" / "numbers.jsonnet").read_text()
    assert '"loggers": [\n    "tensorboard"\n  ]' in migrated and '"suffix": "first"' in migrated


def test_the_seed_guide_lists_every_seed_key():
    from runway.compat import SEED_KEYS

    text = (GUIDES / "from_runway_for_ml.md").read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if line.startswith("| `")]
    missing = [key for key in SEED_KEYS if not any(f"`{key}`" in row.split("|")[1] for row in table)]
    assert not missing, f"keys missing from the guide's table: {missing}"
