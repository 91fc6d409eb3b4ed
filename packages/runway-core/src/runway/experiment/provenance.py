"""``provenance.json``: everything needed to know how a version came to be.

Command line, git commit and a patch of uncommitted changes (when the project
is in a git repository), Python and key package versions, host, time, the
parent experiment, the config's fingerprint and the cache keys of the data
the run consumed (``"data": {node: key}``, added once the data is prepared).

``code`` records the project's code whether or not git knows it: the
SHA-256 of every file under the project's code folders and of the source
file of every registered transform and executor (a plugin's too), and one
digest over them all. ``runway rerun`` compares it file by file. A project
outside git, or one that its enclosing repository ignores (``runway init``
inside another repository's ignored folder), gets a warning: only this
digest, not a commit, says what code ran.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runway.support.clock import now_iso

# a patch beyond this is cut: the record must stay readable, and huge diffs
# are almost always generated files
MAX_PATCH_BYTES = 1_000_000
KEY_PACKAGES = ("runway-core", "torch", "lightning", "numpy", "scikit-learn")
# files hashed into ``code``, at most: a code folder holding data is cut, not read whole
MAX_CODE_FILES = 5000
_SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".ipynb_checkpoints", "node_modules"})


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(root: Path) -> dict[str, Any] | None:
    """Commit, dirty flag and ``git diff HEAD`` (capped) of the repo holding ``root``."""
    commit = _git(["rev-parse", "HEAD"], root)
    if commit is None:
        return None
    patch = _git(["diff", "HEAD", "--no-color"], root) or ""
    untracked = (_git(["ls-files", "--others", "--exclude-standard"], root) or "").splitlines()
    encoded = patch.encode("utf-8")
    truncated = len(encoded) > MAX_PATCH_BYTES
    if truncated:
        patch = encoded[:MAX_PATCH_BYTES].decode("utf-8", errors="ignore")
    return {
        "commit": commit.strip(),
        "dirty": bool(patch) or bool(untracked),
        "patch": patch,
        "patch_truncated": truncated,
        "untracked": untracked[:200],
    }


def git_ignores(root: Path) -> bool:
    """Whether the git repository around ``root`` ignores ``root`` itself."""
    done = _git(["rev-parse", "--show-toplevel"], root)
    if done is None:
        return False
    try:
        return subprocess.run(
            ["git", "check-ignore", "-q", "--", str(root)], cwd=done.strip(), capture_output=True, timeout=30, check=False
        ).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _file_digest(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _code_files(folder: Path) -> Iterable[Path]:
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and not name.endswith((".pyc", ".pyo")):
                yield Path(current) / name


def _registered_sources() -> list[Path]:
    """Source files of every registered transform, project executor and ``build_executor`` plugin."""
    from runway.experiment.registry import project_executors
    from runway.pipeline.registry import transform_registry
    from runway.plugins import get_plugins

    plugins = get_plugins()
    objects: list[object] = [transform_registry(plugins).get(name).cls for name in transform_registry(plugins)]
    objects.extend(project_executors().values())
    objects.extend(impl.plugin for impl in plugins.pm.hook.build_executor.get_hookimpls())
    found = []
    for obj in objects:
        try:
            source = inspect.getsourcefile(obj)  # type: ignore[arg-type]
        except TypeError:
            source = None
        if source and os.path.isfile(source):
            found.append(Path(source).resolve())
    return found


def code_state(root: Path, code_dirs: Iterable[Path] | None = None) -> dict[str, Any]:
    """``{"digest", "files": {name: sha256}, "truncated"}`` of the project's code (module docstring).

    Names are relative to ``root`` when the file is inside it, else absolute.
    """
    root = Path(root).resolve()
    if code_dirs is None:
        from runway.project import Project

        project = Project.find(root, required=False)
        code_dirs = project.code_dirs if project is not None else []
    paths: list[Path] = []
    for folder in code_dirs:
        if Path(folder).is_dir():
            paths.extend(_code_files(Path(folder)))
    try:
        paths.extend(_registered_sources())
    except Exception:  # a registry that cannot be built is reported by the command itself
        pass
    files: dict[str, str] = {}
    for path in paths:
        resolved = Path(path).resolve()
        name = resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else str(resolved)
        if name in files:
            continue
        if len(files) >= MAX_CODE_FILES:
            break
        digest = _file_digest(resolved)
        if digest is not None:
            files[name] = digest
    overall = hashlib.sha256("".join(f"{n}\0{d}\n" for n, d in sorted(files.items())).encode("utf-8")).hexdigest()
    return {"digest": overall, "files": dict(sorted(files.items())), "truncated": len(files) >= MAX_CODE_FILES}


def code_warning(root: Path, git: dict[str, Any] | None) -> str | None:
    """Why git does not record this project's code, or ``None`` when it does."""
    if git is None:
        return (
            f"{root} is not in a git repository: provenance records a digest of the project's code files, "
            "not a commit (run `git init` there to keep the code itself)"
        )
    if git_ignores(root):
        return (
            f"{root} is ignored by the git repository around it: its commit says nothing about this code; "
            "provenance records a digest of the project's code files instead"
        )
    return None


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Installed versions of the key packages (and ``extra``); missing ones are skipped."""
    from importlib import metadata

    found = {}
    for name in (*KEY_PACKAGES, *extra):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def collect_provenance(
    *,
    argv: list[str],
    project_root: Path,
    experiment: str,
    version: int,
    config_fingerprint: str,
    parent: str | None = None,
    tag: list[str] | None = None,
    launcher: str | None = None,
    plugin_distributions: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The provenance record of a version about to run (``data`` is filled later).

    Prints a warning on stderr when git does not record the project's code
    (:func:`code_warning`).
    """
    git = git_state(project_root)
    warning = code_warning(project_root, git)
    if warning:
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    code = code_state(project_root)
    if warning:
        code["warning"] = warning
    return {
        "experiment": experiment,
        "version": version,
        "command": argv,
        "cwd": str(Path.cwd()),
        "project_root": str(project_root),
        "git": git,
        "code": code,
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "packages": package_versions(plugin_distributions),
        "host": socket.gethostname(),
        "created": now_iso(),
        "parent": parent,
        "tag": tag or [],
        "launcher": launcher,
        "config_fingerprint": config_fingerprint,
        "data": {},
    }
