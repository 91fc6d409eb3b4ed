"""The repository's promises about itself: README commands, CI, constraints."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _readme_command(heading: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    match = re.search(r"```(?:bash|sh)?\n(.+?)\n```", section, re.S)
    assert match, f"no command block under {heading!r}"
    return match.group(1).strip()


def test_ci_runs_exactly_the_readme_test_command():
    command = _readme_command("## Run the tests")
    ci_lines = [ln.strip() for ln in (REPO / ".ci" / "run").read_text().splitlines()]
    assert command in ci_lines


def test_every_install_goes_through_the_torch_constraint():
    assert "torch==2.13.0" in (REPO / "constraints.txt").read_text().split()
    tox = (REPO / "tox.ini").read_text()
    assert "-c {toxinidir}/constraints.txt" in tox
    for heading in ("## Run the main job", "## Run the tests"):
        for part in _readme_command(heading).split("&&"):
            if "pip install" in part:
                assert "-c constraints.txt" in part, part


def test_each_plugin_declares_its_entry_point():
    for name in ("hf", "slurm", "wandb", "mlflow"):
        pyproject = (REPO / "packages" / f"runway-{name}" / "pyproject.toml").read_text()
        assert f'{name} = "runway_{name}.plugin"' in pyproject
        assert '"runway-core' in pyproject


def test_every_reliability_promise_names_a_test_that_exists():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Reliability", 1)[1]
    named = re.findall(r"`(tests/reliability/[\w/]+\.py)::(\w+)`", section)
    assert len(named) >= 14
    for path, test in named:
        source = (REPO / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {test}\(", source, re.M), f"{path}::{test} is named in README but missing"
