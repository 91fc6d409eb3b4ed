"""The CLI reference (markdown) generated from the click commands themselves.

    python scripts/docs/cli_reference.py > cli.md

The docs site builds its ``reference/cli.md`` with :func:`cli_markdown` (see
``scripts/docs/mkdocs_hooks.py``), so the page is never out of date: every
command of ``runway`` (plugin commands included when their plugin is
installed), its usage line, its help and its options.
"""

from __future__ import annotations

import inspect
import sys

import click


def _usage(command: click.Command, ctx: click.Context) -> str:
    return " ".join(part for part in (ctx.command_path, " ".join(command.collect_usage_pieces(ctx))) if part)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _command_markdown(command: click.Command, ctx: click.Context, depth: int) -> list[str]:
    lines = [f"{'#' * depth} `{ctx.command_path}`", ""]
    lines += ["```text", _usage(command, ctx), "```", ""]
    if command.help:
        help_text = inspect.cleandoc(click.unstyle(command.help).split("\f")[0])
        for paragraph in help_text.split("\n\n"):
            lines += [" ".join(line.strip() for line in paragraph.splitlines()), ""]
    rows = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None or param is command.get_help_option(ctx) or "--help" in getattr(param, "opts", ()):
            continue
        names, help_text = record
        rows.append(f"| `{_escape(names)}` | {_escape(help_text)} |")
    if rows:
        lines += ["| option | meaning |", "|---|---|", *rows, ""]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            with click.Context(sub, info_name=name, parent=ctx) as sub_ctx:
                lines += _command_markdown(sub, sub_ctx, depth + 1)
    return lines


def cli_markdown() -> str:
    """The page: an introduction, then each command (and its subcommands) in order."""
    from runway.cli.main import cli

    lines = [
        "# Command line reference",
        "",
        "Generated from the commands' own help when the site is built; `runway COMMAND --help`",
        "prints the same. Every command that takes a version reads `NAME` (the latest),",
        "`NAME:3` (also `NAME:V3`, `NAME:latest` or the folder name `NAME_V3`) and, where a",
        "test run is meant, `NAME:3:SUFFIX`. Shell completion:",
        "`eval \"$(_RUNWAY_COMPLETE=bash_source runway)\"` (`zsh_source`, `fish_source`).",
        "",
    ]
    with click.Context(cli, info_name="runway") as ctx:
        for name in cli.list_commands(ctx):
            command = cli.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            with click.Context(command, info_name=name, parent=ctx) as sub_ctx:
                lines += _command_markdown(command, sub_ctx, 2)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(cli_markdown())
