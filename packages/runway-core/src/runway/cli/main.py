"""The ``runway`` command group.

Subcommands live in their own modules and are imported only when invoked,
so ``runway --help`` does not pay for torch, lightning or any plugin.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from runway._version import __version__
from runway.errors import RunwayError

# command name -> "module:attribute" of a click command
COMMANDS: dict[str, str] = {
    "plugins": "runway.cli.plugins_cmd:plugins",
}

# one-line help, so that `runway --help` lists commands without importing them
SHORT_HELP: dict[str, str] = {
    "plugins": "List installed plugins, their versions and the hooks they implement.",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SHORT_HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RunwayError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="runway", message="%(prog)s %(version)s")
def cli() -> None:
    """Runway: data pipelines, experiments, logging and launching above Lightning."""


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="runway")


def seed_alias(command: str):
    """An entry point for the seed's ``runway-<command>`` scripts."""

    def run() -> None:
        cli.main(args=[command, *sys.argv[1:]], prog_name=f"runway-{command}")

    return run
