"""``runway init [DIR]``: a new project that works as created."""

from __future__ import annotations

from pathlib import Path

import click

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


@click.command("init")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Write the template into a folder that is not empty (overwrites its files).")
def init(directory: Path, force: bool) -> None:
    """Create a Runway project in DIR (default: here), with a working example.

    The layout: configs/ (meta, data and model .libsonnet files and
    experiments/example.jsonnet), data_processing/, executors/, modeling/,
    metrics/, data/, local_cache/, third_party/, experiments/, main.py and the
    marker runway.toml. `runway run example` then trains and tests an MLP on
    scikit-learn's digits.
    """
    written = create_project(directory, force=force)
    root = directory.resolve()
    click.echo(f"created a Runway project in {root} ({len(written)} files)")
    click.echo(f"next: cd {directory} && runway run example")
