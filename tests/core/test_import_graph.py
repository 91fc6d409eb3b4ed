"""No import cycles among the modules of runway.experiment and runway.cli.

Imports inside functions count: a cycle that only closes at call time still
ties the modules together. Imports under ``if TYPE_CHECKING:`` do not run
and are left out.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import runway

SOURCE = Path(runway.__file__).resolve().parent
PACKAGES = ("experiment", "cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST):
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _imported(node: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if not isinstance(node, ast.ImportFrom):
        return set()
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    # `from pkg import mod` imports the submodule pkg.mod when there is one
    names = {f"{target}.{alias.name}" for alias in node.names}
    return {target} | (names & known)


def import_graph() -> dict[str, set[str]]:
    files = {p: _module_name(p) for package in PACKAGES for p in (SOURCE / package).rglob("*.py")}
    known = set(files.values())
    graph: dict[str, set[str]] = {}
    for path, module in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: set[str] = set()
        for node in _runtime_nodes(tree):
            edges |= _imported(node, module, path.name == "__init__.py", known)
        graph[module] = {target for target in edges if target in known and target != module}
    return graph


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert "runway.experiment.training" in graph["runway.experiment.inference"]
    assert "runway.experiment.modules" in graph["runway.experiment.training"]


def test_runway_experiment_and_cli_have_no_import_cycles() -> None:
    try:
        tuple(graphlib.TopologicalSorter(import_graph()).static_order())
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise AssertionError(f"import cycle: {' -> '.join(cycle)}") from None


def test_a_cycle_would_be_found(tmp_path: Path) -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        assert set(exc.args[1]) == {"a", "b", "c"}
    else:
        raise AssertionError("the cycle a -> b -> c -> a was not found")
