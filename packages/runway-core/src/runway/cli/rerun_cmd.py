"""``runway rerun NAME[:VERSION] [--force] [--opts K=V ...]``: run a version again, from its folder.

See :mod:`runway.experiment.rerun` for what is checked. The rerun submits
the version's own job (its command, config and dummy flag) through the
same submit path as ``runway train``, so it takes the same launcher and
logger options and lands in a new version, tagged ``rerun_of=NAME_V<n>``
with a ``rerun_of`` record in its provenance.
"""

from __future__ import annotations

from typing import Any

import click

from runway.cli.common import complete_version, opts_option


@click.command("rerun")
@click.argument("target", metavar="NAME[:VERSION]", shell_complete=complete_version)
@click.option("--force", is_flag=True, help="Rerun even when the git commit, changes or package versions differ.")
@opts_option
@click.option("--launcher", default="local", show_default=True, help="Where the job runs (local, slurm, ...).")
@click.option("--logger", "loggers", multiple=True, metavar="NAME", help="Enable a logger (csv always); repeatable.")
@click.option("--wait", is_flag=True, help="Follow a submitted job to its end (local jobs always run to the end).")
def rerun(target: str, force: bool, opts: tuple[str, ...], launcher: str, loggers: tuple[str, ...], wait: bool) -> Any:
    """Rerun version VERSION (default: the latest) of NAME from its folder into a new version.

    Refuses (exit 2), listing the differences, when the git commit,
    uncommitted changes or installed package versions differ from those in
    its provenance.json, unless --force; and always when its config.json was
    edited since it was submitted.
    """
    from runway.cli.experiment_cmds import _exit_on_run_failure, _load_project_code, _plugins
    from runway.experiment.rerun import RERUN_FIELD, RERUN_TAG, check_plan, plan_rerun, rerun_record
    from runway.job.submit import Submission, submit
    from runway.project import Project

    project = Project.find()
    plan = plan_rerun(project, target, opts)
    check_plan(plan, force=force)
    for line in plan.differences:
        click.echo(f"warning: rerunning despite: {line}", err=True)
    original = plan.version
    submission = Submission(
        command=plan.command,
        name=original.name,
        config=plan.config,
        project=project,
        launcher=launcher,
        loggers=loggers or tuple(_original_loggers(original)),
        tags=(f"{RERUN_TAG}={original.label}",),
        dummy=plan.dummy,
        parent=original.provenance.get("parent"),
        provenance={RERUN_FIELD: rerun_record(plan, forced=bool(plan.differences))},
    )

    @_exit_on_run_failure
    def go() -> Any:
        _load_project_code(project)
        version, handle = submit(submission, _plugins(), wait=wait, echo=click.echo)
        if handle.state == "failed":
            click.get_current_context().exit(int(handle.info.get("exit_code", 1)) or 1)
        click.echo(f"{version.label}: rerun of {original.label}")
        return handle.result

    return go()


def _original_loggers(version: Any) -> list[str]:
    from runway.job.spec import read_spec

    return [name for name in read_spec(version.path).loggers if name != "csv"]
