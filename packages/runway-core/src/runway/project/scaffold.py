"""Scaffolding a new project from the template (``runway init``): it works as created."""

from __future__ import annotations

from pathlib import Path

from runway.errors import RunwayError

EMPTY_FOLDERS = ("data", "local_cache", "third_party", "experiments")
# template file names that cannot be package data under their real names
RENAMED = {"gitignore": ".gitignore"}


def _template_files() -> list[tuple[str, str]]:
    """``(relative path in the project, text)`` of every template file."""
    from importlib import resources

    root = resources.files("runway.templates").joinpath("project")
    found: list[tuple[str, str]] = []

    def walk(folder, prefix: str) -> None:
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name == "__pycache__":
                continue
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
                continue
            name = entry.name.removesuffix(".tmpl")
            name = RENAMED.get(name, name)
            found.append((f"{prefix}{name}", entry.read_text(encoding="utf-8")))

    walk(root, "")
    return found


def create_project(target: Path, *, force: bool = False) -> list[Path]:
    """Write the project layout into ``target``; returns the files written."""
    target = target.resolve()
    if target.exists() and not target.is_dir():
        raise RunwayError(f"{target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        what = "a Runway project" if (target / "runway.toml").exists() else "not empty"
        raise RunwayError(f"{target} is {what}; pass --force to write the template files into it anyway")
    written = []
    for folder in EMPTY_FOLDERS:
        (target / folder).mkdir(parents=True, exist_ok=True)
    for relative, text in _template_files():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{{project_name}}", target.name), encoding="utf-8")
        written.append(path)
    return written
