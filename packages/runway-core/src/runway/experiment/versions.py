"""Experiment versions: ``experiments/<name>_V<n>/`` folders, allocated atomically.

A version is allocated by creating its folder with ``os.mkdir``, which fails
if the folder exists, so two processes can never get the same one; a file
lock around the scan keeps concurrent starts from racing through retries.
Versions start at 1. A name's ``/`` is stored as ``__`` in the folder name
(``a/b`` -> ``a__b_V1``), which is why a name may not contain ``__`` itself:
``a/b`` and ``a__b`` would share their folders. This module is the one
parser of those folder names.

Processes that belong to a version they did not allocate (DDP ranks, a
requeued job, the process a launcher starts) are given its folder
(``runway execute VERSION_DIR``, see :mod:`runway.job`).
"""

from __future__ import annotations

import os
from pathlib import Path

from runway.errors import ExperimentError
from runway.support.lazy import LazyPattern

NAME_PATTERN = LazyPattern(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
# what a name's "/" becomes in its version folders' names
FOLDER_SEPARATOR = "__"
_VERSION_DIR = LazyPattern(r"(?P<name>.+)_V(?P<version>\d+)")
_MAX_ATTEMPTS = 10_000


def check_name(name: str) -> str:
    """``name`` if it can name an experiment, else an :class:`ExperimentError`."""
    if not NAME_PATTERN.fullmatch(name) or ".." in name or name.endswith("/"):
        raise ExperimentError(
            f"invalid experiment name {name!r}: use letters, digits, '.', '_', '-' "
            "(and '/' for a subfolder of configs/experiments)"
        )
    if FOLDER_SEPARATOR in name:
        raise ExperimentError(
            f"invalid experiment name {name!r}: it may not contain {FOLDER_SEPARATOR!r}, which stands for '/' "
            f"in version folder names ({folder_name('a/b', 1)!r} is the version of 'a/b'); use one '_' or a '/'"
        )
    return name


def folder_name(name: str, version: int) -> str:
    """``<name>_V<n>``; a name with ``/`` keeps its subfolder in the name (``a__b``)."""
    return f"{name.replace('/', FOLDER_SEPARATOR)}_V{version}"


def parse_folder_name(folder: str) -> tuple[str, int] | None:
    """``("name", n)`` for ``name_Vn``, else ``None``."""
    match = _VERSION_DIR.fullmatch(folder)
    if match is None:
        return None
    return match["name"].replace(FOLDER_SEPARATOR, "/"), int(match["version"])


def existing_versions(experiments_dir: Path, name: str) -> list[int]:
    """The versions of ``name`` that have a folder, ascending."""
    if not experiments_dir.is_dir():
        return []
    prefix = folder_name(name, 0)[:-1]  # "<name>_V"
    found = []
    for entry in experiments_dir.iterdir():
        if entry.name.startswith(prefix) and entry.name[len(prefix):].isdigit() and entry.is_dir():
            found.append(int(entry.name[len(prefix):]))
    return sorted(found)


def allocate_version(experiments_dir: Path | str, name: str) -> tuple[int, Path]:
    """Create the next ``<name>_V<n>`` folder and return ``(n, folder)``.

    Safe across processes: ``os.mkdir`` either creates the folder or fails
    with ``FileExistsError`` (then the next number is tried), under a file
    lock so concurrent starts queue instead of spinning.
    """
    from filelock import FileLock

    check_name(name)
    experiments_dir = Path(experiments_dir)
    try:
        experiments_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ExperimentError(
            f"the experiments folder {experiments_dir} is not a folder (a file is in its way); "
            "move it, or set experiments_dir in runway.toml"
        ) from None
    lock = FileLock(str(experiments_dir / f".{folder_name(name, 0)[:-3]}.version.lock"))
    with lock:
        versions = existing_versions(experiments_dir, name)
        candidate = (versions[-1] if versions else 0) + 1
        for _ in range(_MAX_ATTEMPTS):
            folder = experiments_dir / folder_name(name, candidate)
            try:
                os.mkdir(folder)
            except FileExistsError:
                candidate += 1
                continue
            return candidate, folder
    raise ExperimentError(f"could not allocate a version of {name!r} in {experiments_dir}")
