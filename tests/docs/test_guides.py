"""The guides' snippets, run as written in an empty folder.

Fenced blocks are taken in document order:

- a block whose info string has ``title="PATH"`` is written to PATH;
- a ``bash`` block is run line by line; each line must be a ``runway ...``
  command (run in-process) that exits with 0;
- an untitled ``python`` block is executed;
- anything else (``text``, untitled ``jsonnet``) is illustration, except that
  with ``check_output=True`` a ``text`` block after a command is output that
  command printed: each of its lines must appear there, ``...`` standing for
  anything.
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
    return (*TEMPLATE_PACKAGES, "byoc_demo", "src")


@pytest.fixture
def empty_folder(tmp_path, monkeypatch, runway_builtin_plugins, runway_clean_process):
    folder = tmp_path / "guide"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def run_guide(guide: Path, folder: Path, *, check_output: bool = False) -> list[str]:
    """Run the guide's snippets in ``folder``; returns the commands run."""
    commands = []
    runner = CliRunner()
    last_output: str | None = None
    for lang, title, body in blocks(guide):
        if check_output and lang == "text" and title is None and last_output is not None:
            assert_shown_in(body, last_output, f"{guide.name}: after `{commands[-1]}`")
        elif title is not None:
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
                last_output = result.output
        elif lang == "python":
            exec(compile(body, f"{guide.name}:snippet", "exec"), {"__name__": "__guide__"})
    return commands


def assert_shown_in(shown: str, output: str, where: str) -> None:
    """Each line of ``shown`` is in ``output``; ``...`` in a line matches anything."""
    for line in shown.splitlines():
        pieces = [piece for piece in line.split("...") if piece.strip()]
        pattern = ".*?".join(re.escape(piece) for piece in pieces)
        assert not pieces or re.search(pattern, output), f"{where}: the guide shows a line the output lacks: {line!r}"


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


@pytest.fixture
def seed_project_folder(tmp_path, monkeypatch, runway_plugins, runway_clean_process):
    """An empty folder with every installed plugin (the guide's pipeline uses runway-hf's transforms)."""
    pytest.importorskip("runway_hf", reason="the guide's project uses the hf plugin's transforms")
    pytest.importorskip("transformers", reason="the guide's tokenizer is a transformers tokenizer")
    import datasets

    cache = tmp_path / "hf-datasets-cache"
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    folder = tmp_path / "sentiment"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.slow
def test_from_runway_for_ml_guide_runs(seed_project_folder):
    guide = GUIDES / "from_runway_for_ml.md"
    # the whole project is written before the first command: nothing is edited by hand after `runway migrate`
    found = blocks(guide)
    first_command = next(i for i, (lang, title, _) in enumerate(found) if lang == "bash" and title is None)
    assert not [title for _, title, _ in found[first_command:] if title is not None]

    commands = run_guide(guide, seed_project_folder, check_output=True)
    assert commands == [
        "runway migrate . --dry-run",
        "runway migrate .",
        "runway config show sentiment",
        "runway pipeline explain sentiment",
        "runway run sentiment",
    ]
    backups = list((seed_project_folder / ".runway_migrate_backup").rglob("SentimentExecutor.py"))
    assert backups and "from runway_for_ml.executors.base_executor import BaseExecutor" in backups[0].read_text()
    assert "from runway.compat import BaseExecutor" in (seed_project_folder / "src/executors/SentimentExecutor.py").read_text()

    from runway.experiment.records import read_records
    from runway.experiment.store import ExperimentStore

    version = ExperimentStore(seed_project_folder / "experiments").get("sentiment", 1)
    assert version.status["state"] == "completed"
    checkpoints = {p.name for p in (version.path / "train" / "checkpoints").iterdir()}
    assert {"best.ckpt", "last.ckpt"} <= checkpoints
    assert any(name.startswith("model_step_") for name in checkpoints)
    logged = (version.path / "train" / "logs" / "metrics.csv").read_text()
    assert "train_loss" in logged and "val_loss" in logged
    records = read_records(version.test_dir("seedtest"))
    assert len(records) == 16
    assert version.metrics("seedtest")["accuracy"] >= 0.9


def test_the_seed_guide_lists_every_seed_key():
    from runway.compat import SEED_KEYS

    text = (GUIDES / "from_runway_for_ml.md").read_text(encoding="utf-8")
    table = [line for line in text.splitlines() if line.startswith("| `")]
    missing = [key for key in SEED_KEYS if not any(f"`{key}`" in row.split("|")[1] for row in table)]
    assert not missing, f"keys missing from the guide's table: {missing}"
