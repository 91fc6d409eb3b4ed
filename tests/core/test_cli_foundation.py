"""The CLI spine: version, plugins, module entry, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from click.testing import CliRunner

import runway
from runway.cli.main import cli

HEAVY = ["torch", "lightning", "datasets", "transformers", "wandb", "mlflow", "submitit", "numpy"]


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"runway {runway.__version__}"


def test_python_dash_m_runway_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "runway", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"runway {runway.__version__}"


def test_plugins_lists_builtins_with_their_hooks(runway_builtin_plugins):
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["core-metrics"]["distribution"] == "runway-core"
    assert rows["core-metrics"]["version"] == runway.__version__
    assert "register_metrics" in rows["core-metrics"]["hooks"]
    assert all(row["builtin"] for row in rows.values())


def test_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def _modules_loaded_by(args: list[str]) -> set[str]:
    code = textwrap.dedent(
        f"""
        import sys
        from runway.cli.main import main
        try:
            main({args!r})
        except SystemExit:
            pass
        print("MODULES=" + ",".join(sorted(sys.modules)), file=sys.stderr)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES=")][-1]
    return set(line[len("MODULES="):].split(","))


def test_help_and_plugins_import_no_heavy_library():
    for args in (["--help"], ["plugins"]):
        loaded = _modules_loaded_by(args)
        heavy = sorted(m for m in HEAVY if m in loaded)
        assert heavy == [], f"runway {' '.join(args)} imported {heavy}"
