"""``runway plugins``: what is installed, what it implements, what failed."""

from __future__ import annotations

import click

from runway.plugins import get_plugins


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--tracebacks", is_flag=True, help="Show the full traceback of plugins that failed to load.")
def plugins(as_json: bool, tracebacks: bool) -> None:
    """List installed plugins, their versions and the hooks they implement."""
    from runway import __version__

    from runway.cli.main import plugin_commands

    found = get_plugins()
    added: dict[str, list[str]] = {}
    for command in plugin_commands().values():
        added.setdefault(command.plugin, []).append(command.name)
    rows = []
    for name, info in found.info.items():
        rows.append(
            {
                "name": name,
                "distribution": "runway-core" if info.builtin else info.distribution,
                "version": __version__ if info.builtin else info.version,
                "builtin": info.builtin,
                "module": info.module,
                "hooks": found.hooks_of(name),
                "commands": sorted(added.get(name, [])),
                "error": info.error,
            }
        )
    if as_json:
        import json

        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        kind = "built-in" if row["builtin"] else "installed"
        head = f"{row['name']}  {row['distribution']} {row['version']}  ({kind}, {row['module']})"
        click.echo(head)
        if row["error"] is None:
            click.echo(f"    hooks: {', '.join(row['hooks']) or '-'}")
            if row["commands"]:
                click.echo(f"    commands: {', '.join(row['commands'])}")
        else:
            last = row["error"].strip().splitlines()[-1]
            click.echo(f"    FAILED TO LOAD: {last}")
            if tracebacks:
                click.echo("    " + row["error"].rstrip().replace("\n", "\n    "))
    failed = [r["name"] for r in rows if r["error"]]
    if failed and not tracebacks:
        click.echo(f"\n{len(failed)} plugin(s) failed to load; `runway plugins --tracebacks` shows why.")
