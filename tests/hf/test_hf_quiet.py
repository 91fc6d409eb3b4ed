"""HF datasets' progress bars (`Saving the dataset (0/1 shards)`, `Map`) stay out of a prepare, unless -v;
the example's writer says what to install before anything fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runway_hf.examples import text_classification
from runway_hf.examples.text_classification import EXPERIMENT_NAME, write_example

RUNWAY = Path(sys.executable).with_name("runway")
BARS = ("Saving the dataset", "Map:", "Filter:", "examples/s]")


def _prepare(root: Path, *flags: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNWAY_") and k != "HF_DATASETS_DISABLE_PROGRESS_BARS"}
    done = subprocess.run(
        [str(RUNWAY), *flags, "prepare", EXPERIMENT_NAME, "--regenerate", "input:LoadSentences"],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout
    return done.stdout


@pytest.mark.slow
def test_prepare_shows_no_hf_bars_by_default_and_shows_them_with_verbose(tmp_path):
    root = tmp_path / "project"
    write_example(root, rows=120, epochs=1)
    assert 'requires = ["runway-hf[transformers]"]' in (root / "runway.toml").read_text(encoding="utf-8")
    quiet = _prepare(root)
    assert not [line for line in quiet.splitlines() if any(bar in line for bar in BARS)]
    assert "[3/3] done   output:Tokenize" in quiet
    assert "Saving the dataset" in _prepare(root, "-v")


def test_the_example_writer_names_the_pip_line_when_transformers_is_missing(tmp_path, monkeypatch, capsys):
    from runway.project import requirements

    real = requirements._installed
    monkeypatch.setattr(requirements, "_installed", lambda name: None if name == "tokenizers" else real(name))
    with pytest.raises(SystemExit) as stopped:
        text_classification.main([str(tmp_path / "project")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "from runway-hf[transformers]" in err and "-m pip install 'tokenizers>=0.15'" in err
    assert not (tmp_path / "project").exists()  # nothing written before it could fail
