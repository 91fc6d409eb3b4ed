"""Following launched jobs from any shell: ``status``, ``cancel``, ``logs``.

A version's ``jobs.jsonl`` lists the jobs that launchers submitted for it;
each record goes to the ``job_status``/``cancel_job``/``job_logs``/
``job_log_files`` hook of the plugin that wrote it. A version that ran with
the ``local`` launcher has no records: its ``status.json`` tells its story.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from runway.cli.common import complete_version

from runway.errors import ExperimentError, PluginError

FOLLOW_POLL_S = 0.5
# launcher states after which a job never runs again, when the launcher's
# job_status does not say so itself ("final")
FINAL_WORDS = frozenset(
    {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL", "DEADLINE", "UNKNOWN"}
)


def _version(name: str, version: int | None) -> Any:
    from runway.experiment.address import resolve
    from runway.experiment.store import ExperimentStore
    from runway.project import Project

    return resolve(ExperimentStore.for_project(Project.find()), name, version)[0]


def _plugins() -> Any:
    from runway.plugins import get_plugins

    return get_plugins()


def _records(version: Any) -> list[dict[str, Any]]:
    from runway.launch.records import read_job_records

    return read_job_records(version.path)


def _unanswered(record: dict[str, Any], hook: str) -> PluginError:
    launcher = record.get("launcher", "?")
    return PluginError(
        f"no installed plugin answers {hook} for launcher {launcher!r} (job {record.get('job_id')}); "
        f"is the plugin that provides --launcher {launcher} installed? (`runway plugins` lists them)"
    )


def is_final(status: dict[str, Any]) -> bool:
    """Whether a ``job_status`` answer says the job will not run again."""
    if "final" in status:
        return bool(status["final"])
    return str(status.get("state", "")).upper() in FINAL_WORDS


def _local_lines(version: Any) -> list[str]:
    status = version.status
    state = status.get("state", "unknown")
    parts = [f"{version.label}: {state}"]
    if status.get("job_type"):
        parts.append(f"({status['job_type']})")
    if status.get("launcher"):
        parts.append(f"launcher {status['launcher']}")
    if state == "running" and status.get("pid"):
        parts.append(f"pid {status['pid']} on {status.get('host')}")
    when = status.get("updated") or status.get("started")
    if when:
        parts.append(f"since {when}")
    lines = [" ".join(parts)]
    for key in ("reason", "error"):
        if status.get(key):
            lines.append(f"  {key}: {status[key]}")
    return lines


@click.command("status")
@click.argument("name", metavar="NAME[:VERSION]", shell_complete=complete_version)
@click.option("--version", "version", type=int, default=None, help="The version (default: the latest, or the one NAME:VERSION names).")
def status(name: str, version: int | None) -> None:
    """Show a version's status: its status.json and, for each job a launcher
    submitted (slurm...), the launcher's state, with the tail of its stderr
    once it failed."""
    current = _version(name, version)
    for line in _local_lines(current):
        click.echo(line)
    records = _records(current)
    if not records:
        return
    plugins = _plugins()
    for record in records:
        answer = plugins.hook.job_status(record=record)
        if answer is None:
            raise _unanswered(record, "job_status")
        reason = f" ({answer['reason']})" if answer.get("reason") else ""
        click.echo(f"  {record.get('launcher')} job {record.get('job_id')}: {answer.get('state')}{reason}"
                   f"  [{record.get('command') or '?'}, submitted {record.get('submitted', '?')}]")
        if answer.get("stderr_tail"):
            click.echo("  last lines of its stderr:")
            for line in str(answer["stderr_tail"]).splitlines():
                click.echo(f"    {line}")


@click.command("cancel")
@click.argument("name", metavar="NAME[:VERSION]", shell_complete=complete_version)
@click.option("--version", "version", type=int, default=None, help="The version (default: the latest, or the one NAME:VERSION names).")
def cancel(name: str, version: int | None) -> None:
    """Cancel the jobs that a launcher submitted for a version."""
    current = _version(name, version)
    records = _records(current)
    if not records:
        state = current.status
        if state.get("state") == "running":
            where = f"pid {state.get('pid')} on {state.get('host')}"
            hint = f"it runs with the local launcher ({where}); stop that process where it runs (Ctrl-C)"
        else:
            hint = f"it ran with the local launcher and is {state.get('state', 'unknown')}"
        raise ExperimentError(f"{current.label} has no submitted jobs to cancel: {hint}")
    plugins = _plugins()
    for record in reversed(records):
        done = plugins.hook.cancel_job(record=record)
        if done is None:
            raise _unanswered(record, "cancel_job")
        what = f"{record.get('launcher')} job {record.get('job_id')}"
        click.echo(f"{current.label}: cancelled {what}" if done else f"{current.label}: {what} had already ended")


def _log_files(plugins: Any, record: dict[str, Any]) -> dict[str, str] | None:
    return plugins.hook.job_log_files(record=record)


def _read_from(path: Path, offset: int) -> tuple[str, int]:
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return "", offset
    return data.decode("utf-8", errors="replace"), offset + len(data)


def _local_logs(version: Any, *, stderr_only: bool, follow: bool) -> None:
    """A local run's output: its ``logs/output.log`` (stdout and stderr as the terminal showed them)."""
    from runway.launch.local import JOB_LOG

    if stderr_only:
        raise ExperimentError(
            f"{version.label} ran with the local launcher, whose log keeps stdout and stderr together "
            "as the terminal showed them; `runway logs` without --stderr prints it"
        )
    path = version.path / JOB_LOG
    if not path.is_file():
        for older in ("job.log", "sweep.log"):  # versions written before logs/output.log
            if (version.path / older).is_file():
                path = version.path / older
                break
        else:
            state = version.status.get("state", "unknown")
            raise ExperimentError(
                f"{version.label} has no submitted jobs and no {JOB_LOG} (it is {state}): a local run "
                f"writes its output there as it runs (its metrics: {version.train_dir / 'logs'})"
            )
    offset = 0
    while True:
        text, offset = _read_from(path, offset)
        if text:
            click.echo(text, nl=not text.endswith("\n"))
        if not follow or version.status.get("state") not in ("pending", "running"):
            if follow:  # what was written between the last read and the end
                text, offset = _read_from(path, offset)
                if text:
                    click.echo(text, nl=not text.endswith("\n"))
            return
        sys.stdout.flush()
        time.sleep(FOLLOW_POLL_S)


def _follow(plugins: Any, record: dict[str, Any], paths: list[Path]) -> None:
    """Print what the files gain until the job ends (and once more after)."""
    offsets = {path: 0 for path in paths}
    while True:
        status = plugins.hook.job_status(record=record) or {}
        for path in paths:
            text, offsets[path] = _read_from(path, offsets[path])
            if text:
                click.echo(text, nl=False)
        if is_final(status):
            for path in paths:  # what was written between the last read and the end
                text, offsets[path] = _read_from(path, offsets[path])
                if text:
                    click.echo(text, nl=False)
            click.echo(f"[{record.get('launcher')} job {record.get('job_id')}: {status.get('state')}]", err=True)
            return
        sys.stdout.flush()
        time.sleep(FOLLOW_POLL_S)


@click.command("logs")
@click.argument("name", metavar="NAME[:VERSION]", shell_complete=complete_version)
@click.option("--version", "version", type=int, default=None, help="The version (default: the latest, or the one NAME:VERSION names).")
@click.option("--stderr", "stderr_only", is_flag=True, help="Only the job's stderr.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing what the job writes until it ends.")
def logs(name: str, version: int | None, stderr_only: bool, follow: bool) -> None:
    """Print the output of the latest job a launcher submitted for a version."""
    current = _version(name, version)
    records = _records(current)
    if not records:
        _local_logs(current, stderr_only=stderr_only, follow=follow)
        return
    record = records[-1]
    plugins = _plugins()
    files = _log_files(plugins, record) if (stderr_only or follow) else None
    if files is None:
        if stderr_only or follow:
            raise PluginError(
                f"the {record.get('launcher')!r} launcher does not name its log files (job_log_files), "
                "so --stderr and --follow are not available; `runway logs` without them shows everything"
            )
        text = plugins.hook.job_logs(record=record)
        if text is None:
            raise _unanswered(record, "job_logs")
        click.echo(text, nl=not text.endswith("\n"))
        return
    paths = [Path(files["stderr"])] if stderr_only else [Path(files["stdout"]), Path(files["stderr"])]
    if follow:
        _follow(plugins, record, paths)
        return
    for path in paths:
        text, _ = _read_from(path, 0)
        click.echo(text, nl=bool(text) and not text.endswith("\n"))
