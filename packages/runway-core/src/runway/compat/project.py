"""``runway migrate PROJECT_DIR``: a whole runway_for_ml project brought to Runway, in place.

:func:`migrate_project` plans every change without writing anything; the
plan is then shown as a diff (``--dry-run``) or applied, each changed file
first copied under ``.runway_migrate_backup/<time>/``. It changes:

- the project's Python code: imports of ``runway_for_ml`` become imports of
  :mod:`runway.compat` (see its docstring for why they are rewritten), and
  ``pytorch_lightning`` becomes ``lightning.pytorch``;
- the marker ``runway.toml``: ``code_dirs`` are the folders whose modules
  register transforms or executors (``src/data_ops``, ``src/executors``,
  ...), found from the layout; ``cache_dir`` where every config agrees;
- each experiment config (a ``.jsonnet`` under ``configs/``), evaluated
  and rewritten by :func:`runway.compat.migration.migrate_config`; one
  outside ``configs/experiments/`` gets a one-line experiment file there
  that imports it, so ``runway run NAME`` finds it.
"""

from __future__ import annotations

import ast
import difflib
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BACKUP_DIR = ".runway_migrate_backup"
#: folders never searched for code or configs
_SKIPPED = {
    ".git", ".venv", "venv", "env", "node_modules", "__pycache__", "experiments", "local_cache", "cache",
    "third_party", "runway_for_ml", "wandb", "tensorboards", BACKUP_DIR, "data", "tests", "scripts",
}
_SEED_MARKERS = ("runway_for_ml", "register_transform_functor", "register_executor", "BaseTransform", "BaseExecutor")
#: the seed's own command-line entry point, which `runway` replaces
_ENTRY_POINTS = {"main.py", "runway_main.py"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_GENERIC_STEMS = {"exp_config", "experiment_config", "config", "experiment", "example_experiment_config"}


@dataclass
class FileChange:
    path: Path
    old: str | None  # None: a new file
    new: str

    def diff(self, root: Path) -> str:
        rel = self.path.relative_to(root).as_posix()
        before = (self.old or "").splitlines(keepends=True)
        after = self.new.splitlines(keepends=True)
        return "".join(difflib.unified_diff(before, after, "/dev/null" if self.old is None else f"a/{rel}", f"b/{rel}"))


@dataclass
class ProjectMigration:
    root: Path
    files: list[FileChange] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    todos: list[str] = field(default_factory=list)
    experiments: list[str] = field(default_factory=list)

    def diff(self) -> str:
        return "".join(change.diff(self.root) for change in self.files)

    def apply(self, stamp: str) -> Path | None:
        """Write every change, after copying the files it replaces under the backup folder."""
        from runway.support.files import write_atomic

        backup = self.root / BACKUP_DIR / stamp
        saved = False
        for change in self.files:
            if change.old is not None:
                target = backup / change.path.relative_to(self.root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(change.path, target)
                saved = True
            change.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(change.path, change.new)
        return backup if saved else None


# --------------------------------------------------------------------------- the code


def _python_files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).parts
        if any(part in _SKIPPED or part.startswith(".") for part in rel[:-1]):
            continue
        found.append(path)
    return found


def find_code_dirs(root: Path) -> list[str]:
    """The folders (relative to ``root``) whose modules use the seed's registration API."""
    dirs: list[str] = []
    for path in _python_files(root):
        if path.name in _ENTRY_POINTS or path.parent == root:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if any(marker in text for marker in _SEED_MARKERS):
            folder = path.parent.relative_to(root).as_posix()
            if not any(folder == d or folder.startswith(d + "/") for d in dirs):
                dirs = [d for d in dirs if not d.startswith(folder + "/")] + [folder]
    return sorted(dirs)


def _compat_names() -> set[str]:
    import runway.compat as compat

    return set(compat._LAZY) | set(compat._NEED_HF)


def rewrite_imports(text: str, where: str) -> tuple[str, list[str], list[str]]:
    """``text`` with the seed's imports rewritten; the lines that say what, and what is left to do."""
    try:
        tree = ast.parse(text, filename=where)
    except SyntaxError as exc:
        return text, [], [f"{where}: not parsed ({exc.msg}, line {exc.lineno}); its imports are unchanged"]
    provided = _compat_names()
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    notes: list[str] = []
    todos: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        indent = re.match(r"\s*", lines[node.lineno - 1]).group(0)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            module = node.module
            if module == "runway_for_ml" or module.startswith("runway_for_ml."):
                known = [a for a in node.names if a.name in provided]
                unknown = [a for a in node.names if a.name not in provided]
                parts = []
                if known:
                    names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in known)
                    parts.append(f"{indent}from runway.compat import {names}\n")
                if unknown:
                    names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in unknown)
                    parts.append(f"{indent}from {module} import {names}\n")
                    todos.append(
                        f"{where}:{node.lineno}: {module}.{{{', '.join(a.name for a in unknown)}}} has no Runway "
                        f"counterpart in runway.compat; replace it"
                    )
                edits.append((node.lineno, node.end_lineno or node.lineno, "".join(parts)))
                if known:
                    notes.append(f"{where}:{node.lineno}: from {module} import ... -> from runway.compat import ...")
            elif module == "pytorch_lightning" or module.startswith("pytorch_lightning."):
                target = "lightning.pytorch" + module[len("pytorch_lightning"):]
                names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
                edits.append((node.lineno, node.end_lineno or node.lineno, f"{indent}from {target} import {names}\n"))
                notes.append(f"{where}:{node.lineno}: {module} -> {target} (the Lightning that Runway trains with)")
        elif isinstance(node, ast.Import):
            renamed = []
            changed = False
            for alias in node.names:
                if alias.name == "pytorch_lightning" or alias.name.startswith("pytorch_lightning."):
                    target = "lightning.pytorch" + alias.name[len("pytorch_lightning"):]
                    renamed.append(f"{target} as {alias.asname or alias.name.split('.')[0]}")
                    changed = True
                else:
                    if alias.name.split(".")[0] == "runway_for_ml":
                        todos.append(f"{where}:{node.lineno}: `import {alias.name}`: write `from runway.compat import NAME`")
                    renamed.append(alias.name + (f" as {alias.asname}" if alias.asname else ""))
            if changed:
                edits.append((node.lineno, node.end_lineno or node.lineno, f"{indent}import {', '.join(renamed)}\n"))
                notes.append(f"{where}:{node.lineno}: pytorch_lightning -> lightning.pytorch")
    for start, end, replacement in sorted(edits, reverse=True):
        lines[start - 1 : end] = [replacement]
    return "".join(lines), notes, todos


# --------------------------------------------------------------------------- the marker


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _with_key(text: str, key: str, value: Any) -> str:
    line = f"{key} = {_toml_value(value)}\n"
    pattern = re.compile(rf"^{re.escape(key)}\s*=.*$\n?", re.M)
    if pattern.search(text):
        return pattern.sub(line, text, count=1)
    # top-level keys go before the first table
    table = re.search(r"^\[", text, re.M)
    if table:
        return text[: table.start()] + line + text[table.start() :]
    return (text if not text or text.endswith("\n") else text + "\n") + line


# --------------------------------------------------------------------------- the configs


def _experiment_name(evaluated: dict[str, Any], path: Path, taken: set[str]) -> str:
    declared = evaluated.get("experiment_name")
    if isinstance(declared, str) and _NAME.match(declared):
        name = declared
    elif path.stem not in _GENERIC_STEMS:
        name = path.stem
    else:
        name = path.parent.name if path.parent.name not in ("configs", "exp_configs") else path.stem
    base, n = name, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def migrate_project(root: Path) -> ProjectMigration:
    """Plan the migration of the project at ``root`` (nothing is written)."""
    from runway.compat.migration import migrate_config
    from runway.config import evaluate_file
    from runway.config.loading import standard_ext_vars
    from runway.errors import RunwayError
    from runway.project import MARKER_FILE, Project

    root = root.resolve()
    plan = ProjectMigration(root)
    marker = root / MARKER_FILE
    marker_text = marker.read_text(encoding="utf-8") if marker.is_file() else None
    try:
        settings = tomllib.loads(marker_text or "")
    except tomllib.TOMLDecodeError as exc:
        raise RunwayError(f"{marker}: {exc}") from None

    code_dirs = list(settings.get("code_dirs") or [])
    for folder in find_code_dirs(root):
        if folder not in code_dirs:
            code_dirs.append(folder)
    project = Project(root=root, settings={**settings, "code_dirs": code_dirs})

    for path in _python_files(root):
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        if "runway_for_ml" not in text and "pytorch_lightning" not in text:
            continue
        if path.name in _ENTRY_POINTS and "runway_for_ml" in text:
            plan.todos.append(f"{rel}: the seed's command-line entry point; `runway run NAME` replaces it (not imported by Runway)")
            continue
        new, notes, todos = rewrite_imports(text, rel)
        plan.lines.extend(notes)
        plan.todos.extend(todos)
        if new != text:
            plan.files.append(FileChange(path, text, new))

    configs_dir = project.configs_dir
    experiments_dir = project.experiment_configs_dir
    taken = {p.stem for p in experiments_dir.glob("*.jsonnet")} if experiments_dir.is_dir() else set()
    cache_dirs: set[str] = set()
    for path in sorted(configs_dir.rglob("*.jsonnet")) if configs_dir.is_dir() else []:
        rel = path.relative_to(root).as_posix()
        try:
            evaluated = evaluate_file(path, ext_vars=standard_ext_vars(path.stem, root), search_paths=[configs_dir])
        except Exception as exc:  # a broken config is reported, the others still migrate
            plan.todos.append(f"{rel}: not evaluated ({str(exc).splitlines()[0]}); migrate it by hand")
            continue
        if not isinstance(evaluated, dict):
            continue
        meta = evaluated.get("meta") or evaluated.get("meta_config") or {}
        if isinstance(meta, dict) and isinstance(meta.get("default_cache_dir"), str):
            cache_dirs.add(meta["default_cache_dir"].strip("./") or ".")
        migration = migrate_config(evaluated, project=project)
        if not migration.changes:
            continue
        from runway.compat.migration import render

        plan.lines.extend(f"{rel}: {line}" for line in migration.lines() if not line.startswith("!"))
        plan.todos.extend(f"{rel}: {line[2:]}" for line in migration.lines() if line.startswith("!"))
        plan.files.append(FileChange(path, path.read_text(encoding="utf-8"), render(migration.config, path, path)))
        if path.parent == experiments_dir:
            plan.experiments.append(path.stem)
            continue
        name = _experiment_name(evaluated, path, taken)
        stub = experiments_dir / f"{name}.jsonnet"
        relative = Path("..") / path.relative_to(configs_dir)
        plan.files.append(FileChange(
            stub, None,
            f"// The runway_for_ml config {rel}, migrated by `runway migrate`.\nimport '{relative.as_posix()}'\n",
        ))
        plan.experiments.append(name)
        plan.lines.append(f"{rel}: runs as experiment {name!r} (configs/experiments/{name}.jsonnet imports it)")

    new_marker = marker_text or "# Runway project marker, written by `runway migrate`.\n"
    if code_dirs != list(settings.get("code_dirs") or []):
        new_marker = _with_key(new_marker, "code_dirs", code_dirs)
        plan.lines.append(f"{MARKER_FILE}: code_dirs = {code_dirs} (the folders that register transforms and executors)")
    if len(cache_dirs) == 1 and "cache_dir" not in settings:
        (cache_dir,) = cache_dirs
        new_marker = _with_key(new_marker, "cache_dir", cache_dir)
        plan.lines.append(f"{MARKER_FILE}: cache_dir = {cache_dir!r} (meta.default_cache_dir)")
    if new_marker != marker_text:
        plan.files.insert(0, FileChange(marker, marker_text, new_marker))
    return plan
