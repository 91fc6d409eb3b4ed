"""``runway rm NAME:V ...`` and ``runway rm --failed [NAME ...]``: remove versions safely.

See :mod:`runway.experiment.removal`: a running or pending version is never
removed (the others still are; the exit code is then 2), and the command
ends with what ``runway cache gc`` can now free.
"""

from __future__ import annotations

from typing import Any

import click

from runway.cli.common import complete_version


def _human(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} B"


def _cache_line(effect: Any, dry_run: bool) -> str:
    """What the removal means for `runway cache gc`."""
    kept = []
    if effect.used:
        kept.append(f"{effect.used} still used by other versions")
    if effect.latest:
        kept.append(f"{effect.latest} kept as their node's latest entry")
    kept_text = f" ({', '.join(kept)})" if kept else ""
    if effect.freeable:
        plural = "y" if effect.freeable == 1 else "ies"
        return (
            f"cache: {effect.freeable} entr{plural} ({_human(effect.freeable_bytes)}) that only these versions used "
            f"{'would be' if dry_run else 'are'} unreferenced now: `runway cache gc` frees them{kept_text}"
        )
    return f"cache: nothing for `runway cache gc` to free{kept_text}"


@click.command("rm")
@click.argument("targets", nargs=-1, metavar="NAME:VERSION...", shell_complete=complete_version)
@click.option("--failed", is_flag=True, help="Remove every failed version (of the NAMEs given, else of all experiments).")
@click.option("--dry-run", "dry_run", is_flag=True, help="Say what would be removed; remove nothing.")
def rm(targets: tuple[str, ...], failed: bool, dry_run: bool) -> None:
    """Remove versions: NAME:3 (or NAME_V3), several at once, or --failed.

    A version that runs or waits to run is refused (cancel it first). The
    data it consumed stays in the cache; the last line says what
    `runway cache gc` can now free.
    """
    from runway.errors import ExperimentError
    from runway.experiment.address import folder_address, parse_address, resolve
    from runway.experiment.removal import failed_versions, freed_by, remove
    from runway.experiment.store import ExperimentStore
    from runway.project import Project

    project = Project.find()
    store = ExperimentStore.for_project(project)
    if failed:
        names = [parse_address(t).name for t in targets]
        chosen = failed_versions(store, names)
        if not chosen:
            click.echo("no failed versions" + (f" of {', '.join(names)}" if names else ""))
            return
    else:
        if not targets:
            raise click.UsageError("give the versions to remove (NAME:VERSION ...) or --failed")
        chosen = []
        for text in targets:
            address = folder_address(store, parse_address(text))
            if not address.pinned or address.latest:
                versions = store.versions(address.name)
                raise ExperimentError(
                    f"{text!r} names no single version: write NAME:VERSION "
                    f"({address.name} has {', '.join(map(str, versions)) or 'none'}), or use --failed"
                )
            if address.suffix:
                raise ExperimentError(f"{text!r}: rm removes whole versions; write {address.name}:{address.version}")
            version = resolve(store, text)[0]
            if version not in chosen:
                chosen.append(version)
    result = remove(store, chosen, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for version in result.removed:
        click.echo(f"{verb} {version.label} ({result.states.get(version.label, 'unknown')})")
    for version, reason in result.refused:
        click.echo(f"Error: not removed: {reason}", err=True)
    if result.removed:
        effect = freed_by(project, result.data, ignore=result.removed if dry_run else ())
        click.echo(_cache_line(effect, dry_run))
    if result.refused:
        click.get_current_context().exit(2)
