"""The documentation site builds with `mkdocs build --strict` (any warning fails), and its generated
pages cover every command and every hook; its getting-started page runs as written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_guides import empty_folder, run_guide, runway_project_packages  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    if os.environ.get("CI") is None:
        pytest.importorskip("mkdocs", reason="the docs extra: pip install -c constraints.txt -e 'packages/runway-core[docs]'")
        pytest.importorskip("material", reason="the docs extra installs mkdocs-material")
    target = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
        cwd=REPO, capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert "WARNING" not in built.stderr, built.stderr
    return target


def test_the_site_builds_strictly_with_a_page_per_concept(site):
    for page in (
        "index.html", "getting-started/index.html", "reference/cli/index.html", "hooks/index.html",
        "guides/configuration/index.html", "guides/data-pipeline/index.html", "guides/experiments/index.html",
        "guides/logging/index.html", "guides/launching/index.html", "guides/sweeps-and-comparison/index.html",
        "guides/lightning/index.html", "plugins/hf/index.html", "plugins/slurm/index.html",
    ):
        assert (site / page).is_file(), page


def test_every_section_of_the_core_readme_is_a_guide(site):
    sys.path.insert(0, str(REPO / "scripts" / "docs"))
    from mkdocs_hooks import core_sections, slug

    for title, _ in core_sections():
        page = site / "guides" / slug(title) / "index.html"
        assert page.is_file(), title
        assert f'href="guides/{slug(title)}/"' in (site / "index.html").read_text(encoding="utf-8"), f"{title} is missing from the navigation"


def test_the_cli_reference_is_generated_from_every_command(site):
    from runway.cli.main import COMMANDS

    sys.path.insert(0, str(REPO / "scripts" / "docs"))
    from cli_reference import cli_markdown

    text = cli_markdown()
    for name in COMMANDS:
        assert f"## `runway {name}`" in text, name
    assert "### `runway config show`" in text and "### `runway pipeline explain`" in text
    assert "`--overwrite`" in text and "`--sort METRIC`" in text
    html = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "runway rm" in html and "NAME:VERSION" in html


def test_the_hook_reference_names_every_hook(site):
    import inspect

    from runway import hookspecs

    html = (site / "hooks" / "index.html").read_text(encoding="utf-8")
    specs = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, f"{hookspecs.PROJECT_NAME}_spec")]
    assert specs
    for name in specs:
        assert name in html, name


@pytest.mark.slow
def test_getting_started_runs_as_written(empty_folder):  # noqa: F811
    commands = run_guide(REPO / "docs" / "getting-started.md", empty_folder)
    assert commands[:3] == ["runway init .", commands[1], "runway run quick"]
    assert "runway rm quick:2" in commands
    from runway.experiment.store import ExperimentStore

    store = ExperimentStore(empty_folder / "experiments")
    assert store.versions("quick") == [1]
    assert store.get("quick", 1).metrics("test")


def test_the_hf_readme_states_the_accuracy_its_test_checks():
    """READMEs state only what a test checks: the example's accuracy is the test's threshold."""
    import re

    checked = re.search(r'metrics\["accuracy"\] >= ([0-9.]+)', (REPO / "tests" / "hf" / "test_example.py").read_text())
    assert checked is not None
    readme = " ".join((REPO / "packages" / "runway-hf" / "README.md").read_text(encoding="utf-8").split())
    assert f"accuracy of at least {checked[1]} on the test split" in readme
    assert "accuracy 1.0" not in readme
