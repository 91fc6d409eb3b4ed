"""The ``runway`` command group.

Subcommands live in their own modules and are imported only when invoked,
so ``runway --help`` does not pay for torch, lightning or any plugin.
Installed plugins add commands through the ``register_commands`` hook
(:mod:`runway.cli.plugin_commands`), imported just as lazily.
"""

from __future__ import annotations

import errno
import importlib
import sys
from typing import Any

import click

from runway._version import __version__
from runway.errors import ENVIRONMENT_ERRNOS, RunwayError

# command name -> "module:attribute" of a click command
COMMANDS: dict[str, str] = {
    "config": "runway.cli.config_cmd:config",
    "plugins": "runway.cli.plugins_cmd:plugins",
    "prepare": "runway.cli.pipeline_cmd:prepare",
    "pipeline": "runway.cli.pipeline_cmd:pipeline",
    "cache": "runway.cli.pipeline_cmd:cache",
    "sync": "runway.cli.sync_cmd:sync",
    "init": "runway.cli.init_cmd:init",
    "experiment": "runway.cli.experiment_cmds:experiment",
    "train": "runway.cli.experiment_cmds:train",
    "infer": "runway.cli.experiment_cmds:infer",
    "eval": "runway.cli.experiment_cmds:eval_",
    "run": "runway.cli.experiment_cmds:run",
    "execute": "runway.cli.experiment_cmds:execute",
    "list": "runway.cli.experiment_cmds:list_",
    "show": "runway.cli.experiment_cmds:show",
    "migrate": "runway.cli.migrate_cmd:migrate",
    "sweep": "runway.cli.sweep_cmd:sweep",
    "compare": "runway.cli.compare_cmd:compare",
    "plot": "runway.cli.compare_cmd:plot",
    "status": "runway.cli.jobs_cmd:status",
    "cancel": "runway.cli.jobs_cmd:cancel",
    "logs": "runway.cli.jobs_cmd:logs",
    "rerun": "runway.cli.rerun_cmd:rerun",
    "rm": "runway.cli.rm_cmd:rm",
}

# one-line help, so that `runway --help` lists commands without importing them
SHORT_HELP: dict[str, str] = {
    "config": "Show an experiment's resolved config, its fingerprint, and diffs between configs.",
    "plugins": "List installed plugins, their versions and the hooks they implement.",
    "prepare": "Run the data pipeline of an experiment, loading what is cached.",
    "pipeline": "Draw the data pipeline (show) or say what a run would load or run, and why (explain).",
    "cache": "List (ls), measure (du) and clean (gc) the data-pipeline cache.",
    "sync": "Replay a version's local csv metrics into a logger that was down (e.g. mlflow).",
    "init": "Create a new project (a working example included) in DIR.",
    "experiment": "Create an experiment config, from the template or --from another experiment.",
    "train": "Prepare the data and train an experiment into a new version.",
    "infer": "Predict a version's test data with a checkpoint into test-SUFFIX/ (then eval).",
    "eval": "Compute a test run's metrics into metrics.json and log them.",
    "run": "Train, infer and eval an experiment in one go.",
    "execute": "Execute the job written in a version folder (what launchers run).",
    "list": "List experiment versions: status, duration, test or validation metrics; --sort, --filter.",
    "show": "Show a version: provenance, config diff against its parent, metrics, checkpoints.",
    "migrate": "Rewrite a runway_for_ml config into Runway's keys, saying what changed key by key.",
    "sweep": "Run an experiment once per point of a grid, a random sample or a search (status, resume).",
    "compare": "Compare versions: differing config keys, metrics, and samples predicted differently.",
    "plot": "Draw learning curves of versions from their train metrics into an image.",
    "status": "Show a version's status and the state of the jobs launched for it (slurm...).",
    "cancel": "Cancel the jobs that a launcher submitted for a version.",
    "logs": "Print (or --follow) the output of a version's submitted job.",
    "rerun": "Rerun a version from its config.json into a new version, if code and packages match.",
    "rm": "Remove versions (NAME:V ..., or --failed) that no job runs in; says what cache gc can free.",
}


# errnos of a path that cannot be used as given: too long, a symlink loop, a
# file where a folder should be (or the reverse), a name already taken
_PATH_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENAMETOOLONG", "ELOOP", "ENOTDIR", "EISDIR", "EEXIST") if hasattr(errno, name)
)


def _short_path(name: object, limit: int = 200) -> str:
    text = str(name)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def registered_commands(reserved: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """The installed plugins' commands, from the live plugin manager, the cache, or (once) by loading the plugins."""
    # importing the manager costs more than the cache saves; if nobody imported it, nobody built one
    manager = sys.modules.get("runway.plugins.manager")
    live = manager.built_plugins() if manager is not None else None
    if live is not None:
        from runway.cli.plugin_command_registry import collect_commands

        return collect_commands(live, reserved)
    from runway.cli.plugin_commands import cache_path, environment_key, read_cache

    key = environment_key()
    path = cache_path()
    cached = read_cache(path, key)
    if cached is not None:
        return cached
    from runway.cli.plugin_command_registry import load_and_cache

    return load_and_cache(path, key, reserved)


def plugin_commands() -> dict[str, Any]:
    """The commands installed plugins add; a plugin that registers badly is named on stderr and adds none."""
    try:
        return registered_commands(frozenset(COMMANDS))
    except RunwayError as exc:
        click.echo(f"Warning: plugin commands left out: {exc}", err=True)
        return {}


def _load_command(name: str, target: str, plugin: str | None = None) -> click.Command:
    module_name, _, attr = target.partition(":")
    try:
        command = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        if plugin is None:
            raise
        from runway.errors import PluginError

        raise PluginError(f"command {name!r} of plugin {plugin!r} cannot be loaded from {target!r}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(command, click.Command):
        from runway.errors import PluginError

        raise PluginError(f"command {name!r} of plugin {plugin!r}: {target!r} is no click command")
    return command


class LazyGroup(click.Group):
    """A group whose subcommands (core's and plugins') are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands, *plugin_commands()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = COMMANDS.get(cmd_name)
        if target is not None:
            command = _load_command(cmd_name, target)
        else:
            found = plugin_commands().get(cmd_name)
            if found is None:
                return None
            try:
                command = _load_command(cmd_name, found.target, found.plugin)
            except RunwayError as exc:
                click.echo(f"Error: {exc}", err=True)
                ctx.exit(exc.exit_code)
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        added = plugin_commands()
        rows = [(name, SHORT_HELP.get(name, "")) for name in sorted({*COMMANDS, *self.commands} - set(added))]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
        if added:
            with formatter.section("Commands from plugins"):
                formatter.write_dl([(name, f"{c.help} [{c.plugin}]".strip()) for name, c in sorted(added.items())])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RunwayError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except RuntimeError as exc:
            # pathlib (before Python 3.13) reports a symlink loop as a RuntimeError, not ELOOP
            if not str(exc).startswith("Symlink loop from "):
                raise
            click.echo(f"Error: cannot use the path: {exc}. Fix the symbolic link.", err=True)
            ctx.exit(2)
        except OSError as exc:
            # a full disk or a folder that cannot be written is the machine's
            # state, not a bug: say which file, without a traceback
            if exc.errno in _PATH_ERRNOS:
                where = f" {_short_path(exc.filename)}" if exc.filename else ""
                click.echo(f"Error: cannot use the path{where}: {exc.strerror or exc}. Choose another name or fix the folder.", err=True)
                ctx.exit(2)
            if exc.errno not in ENVIRONMENT_ERRNOS:
                raise
            where = f" ({_short_path(exc.filename)})" if exc.filename else ""
            click.echo(f"Error: cannot write{where}: {exc.strerror or exc}. Free space or fix the folder's permissions, then rerun.", err=True)
            ctx.exit(2)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="runway", message="%(prog)s %(version)s")
@click.option("-v", "--verbose", is_flag=True, help="Also print the libraries' information lines (Lightning's devices, model summary, HF progress bars).")
@click.option("-q", "--quiet", is_flag=True, help="Print results and errors only: no progress, no next steps.")
@click.option("--traceback", "full_traceback", is_flag=True, help="Show every frame of a crash, not only the project's own.")
def cli(verbose: bool, quiet: bool, full_traceback: bool) -> None:
    """Runway: data pipelines, experiments, logging and launching above Lightning."""
    from runway.support import verbosity

    if verbose and quiet:
        raise click.UsageError("give -v (verbose) or -q (quiet), not both")
    # into the environment (a child process inherits the parent's level): every
    # process a command starts (sweep points, DDP ranks) prints the same way
    chosen = verbosity.VERBOSE if verbose else verbosity.QUIET if quiet else verbosity.level()
    verbosity.set_level(chosen, traceback=True if full_traceback else None)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="runway")


def seed_alias(command: str):
    """An entry point for the seed's ``runway-<command>`` scripts."""

    def run() -> None:
        cli.main(args=[command, *sys.argv[1:]], prog_name="runway")  # usage lines read `runway COMMAND ...`, which works

    return run


# the seed's command names, as console scripts (see pyproject [project.scripts])
experiment_alias = seed_alias("experiment")
train_alias = seed_alias("train")
infer_alias = seed_alias("infer")
eval_alias = seed_alias("eval")
run_alias = seed_alias("run")
