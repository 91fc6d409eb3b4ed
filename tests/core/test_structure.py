"""The shape of the code: nothing below the CLI imports it."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCES = Path(__file__).resolve().parents[2] / "packages"
# the CLI's own entry (`python -m runway`) and the fixture that drives it in tests
ALLOWED = {("runway/__main__.py", "runway.cli.main"), ("runway/testing.py", "runway.cli.main")}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_module_outside_the_cli_imports_it():
    offenders = []
    for path in sorted(SOURCES.glob("*/src/**/*.py")):
        relative = path.relative_to(path.parents[len(path.relative_to(SOURCES).parts) - 3]).as_posix()
        if relative.startswith("runway/cli/"):
            continue
        for name in _imports(path):
            allowed = any(relative == file and (name == module or name.startswith(module + ".")) for file, module in ALLOWED)
            if (name == "runway.cli" or name.startswith("runway.cli.")) and not allowed:
                offenders.append(f"{relative} imports {name}")
    assert not offenders, "\n".join(offenders)
