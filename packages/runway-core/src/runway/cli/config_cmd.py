"""``runway config show``: the resolved config, its fingerprint, and diffs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from runway.cli.common import complete_version, config_option, opts_option
from runway.config.loading import resolve_config


@click.group("config")
def config() -> None:
    """Inspect resolved experiment configs."""


@config.command("show")
@click.argument("name", required=False, metavar="[NAME[:VERSION]]", shell_complete=complete_version)
@config_option
@opts_option
@click.option(
    "--diff",
    "other",
    metavar="OTHER",
    default=None,
    shell_complete=complete_version,
    help="Show only the keys that differ from OTHER (an experiment, a version OTHER:3, or a .jsonnet/.json file).",
)
@click.option("--show-secrets", is_flag=True, help="Print values of token/key/secret/password keys.")
def show(name: str | None, config_file: Path | None, opts: tuple[str, ...], other: str | None, show_secrets: bool) -> None:
    """Print the resolved config of NAME (or --config FILE) and its fingerprint.

    NAME:3 (or NAME_V3) is version 3's saved config.json.

    The fingerprint is the SHA-256 of the canonical JSON of the unredacted
    config. With --diff OTHER, OTHER is the baseline: print
    `key: OTHER's value -> NAME's value` for changed keys, `+ key: value` for
    keys only NAME has and `- key: value` for keys only OTHER has; --opts
    apply to NAME only. Secrets are shown as *** unless --show-secrets.
    """
    from runway.config import diff_configs, fingerprint, load_config, redact
    from runway.experiment.address import config_source
    from runway.project import Project

    if name is not None and config_file is None and config_source(Project.find(), name)[0] != name:
        # a version (NAME:3, NAME_V3): the config it ran with
        project = Project.find()
        resolved = load_config(config_source(project, name)[0], project=project, opts=opts)
    else:
        project, resolved = resolve_config(name, config_file, opts)
    shown = resolved if show_secrets else redact(resolved)
    if other is None:
        click.echo(json.dumps(shown, indent=2, sort_keys=True, ensure_ascii=False))
        click.echo(f"fingerprint: {fingerprint(resolved)}")
        return
    other_config = load_config(config_source(project, other)[0], project=project)
    baseline = other_config if show_secrets else redact(other_config)
    difference = diff_configs(baseline, shown)
    label = (name or str(config_file)) + (" with --opts " + " ".join(opts) if opts else "")
    click.echo(f"--- {other}  fingerprint {fingerprint(other_config)}")
    click.echo(f"+++ {label}  fingerprint {fingerprint(resolved)}")
    if not difference:
        click.echo("(no differences)")
    for line in difference.lines():
        click.echo(line)
