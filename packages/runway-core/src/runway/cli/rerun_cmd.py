"""``runway rerun NAME[:VERSION] [--force] [--opts K=V ...]``: run a version again, from its folder.

See :mod:`runway.experiment.rerun` for what is checked. The rerun is the
ordinary ``runway run`` (the original has test runs: train, infer
``test.suffix``, eval) or ``runway train`` with ``--config`` pointing at the
original's ``config.json``, so it takes the same launcher and logger
options and lands in a new version, tagged ``rerun_of=NAME_V<n>``.
"""

from __future__ import annotations

import click

from runway.cli.common import opts_option


@click.command("rerun")
@click.argument("target", metavar="NAME[:VERSION]")
@click.option("--force", is_flag=True, help="Rerun even when the git commit, changes or package versions differ.")
@opts_option
@click.option("--launcher", default="local", show_default=True, help="Where the job runs (local, slurm, ...).")
@click.option("--logger", "loggers", multiple=True, metavar="NAME", help="Enable a logger (csv always); repeatable.")
@click.pass_context
def rerun(
    ctx: click.Context, target: str, force: bool, opts: tuple[str, ...], launcher: str, loggers: tuple[str, ...]
) -> dict | None:
    """Rerun version VERSION (default: the latest) of NAME from its config.json into a new version.

    Refuses (exit 2), listing the differences, when the git commit,
    uncommitted changes or installed package versions differ from those in
    its provenance.json, unless --force. Values redacted in config.json
    ("***") must be given with --opts.
    """
    from runway.experiment.rerun import RERUN_FIELD, RERUN_TAG, check_plan, plan_rerun, rerun_record
    from runway.experiment.store import ExperimentStore
    from runway.project import Project

    project = Project.find()
    plan = plan_rerun(project, target, opts)
    check_plan(plan, force=force)
    for line in plan.differences:
        click.echo(f"warning: rerunning despite: {line}", err=True)
    from runway.cli.main import cli

    command = cli.get_command(ctx, plan.command)
    assert command is not None, f"the {plan.command!r} command is not registered"
    result = ctx.invoke(
        command,
        name=plan.version.name,
        config_file=plan.config_file,
        opts=opts,
        launcher=launcher,
        loggers=loggers,
        tags=(f"{RERUN_TAG}={plan.version.label}",),
        dummy=plan.dummy,
    )
    number = result.get("version") if isinstance(result, dict) else None
    if isinstance(number, int) and launcher == "local":
        # the job ran here and is over: nothing else writes this provenance now
        new = ExperimentStore.for_project(project).get(plan.version.name, number)
        new.update_provenance(**{RERUN_FIELD: rerun_record(plan, forced=bool(plan.differences))})
        click.echo(f"{new.label}: rerun of {plan.version.label}")
    return result
