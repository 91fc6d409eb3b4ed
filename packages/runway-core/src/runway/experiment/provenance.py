"""``provenance.json``: everything needed to know how a version came to be.

Command line, git commit and a patch of uncommitted changes (when the project
is in a git repository), Python and key package versions, host, time, the
parent experiment, the config's fingerprint and the cache keys of the data
the run consumed (``"data": {node: key}``, added once the data is prepared).
"""

from __future__ import annotations

import platform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from runway.support.clock import now_iso

PROVENANCE_FILE = "provenance.json"
# a patch beyond this is cut: the record must stay readable, and huge diffs
# are almost always generated files
MAX_PATCH_BYTES = 1_000_000
KEY_PACKAGES = ("runway-core", "torch", "lightning", "numpy", "scikit-learn")


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


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Installed versions of the key packages (and ``extra``); missing ones are skipped."""
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
    """The provenance record of a version about to run (``data`` is filled later)."""
    return {
        "experiment": experiment,
        "version": version,
        "command": argv,
        "cwd": str(Path.cwd()),
        "project_root": str(project_root),
        "git": git_state(project_root),
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
