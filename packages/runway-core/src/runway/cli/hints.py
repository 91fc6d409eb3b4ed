"""What to type next: the last lines of every command that creates something.

``runway init``, ``experiment``, ``prepare``, ``train``, ``run``, ``infer``,
``eval`` and ``sweep`` end with the commands that look at or continue what
they made, and where its records are, so that a new user never has to guess
the next step. ``runway -q`` leaves them out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

HEADER = "next:"


def shown_path(path: Path | str) -> str:
    """``path`` relative to the current folder when it is inside it, else absolute."""
    path = Path(path)
    try:
        relative = os.path.relpath(path, Path.cwd())
    except ValueError:  # another drive
        return str(path)
    return str(path) if relative.startswith("..") else relative


def address(version: Any) -> str:
    """``NAME:V``: how commands name a version."""
    return f"{version.name}:{version.number}"


def echo_next(steps: Sequence[tuple[str, str]], *, records: Path | str | None = None) -> None:
    """Print ``next:`` and one ``command   what it does`` line per step, then where the records are."""
    from runway.support.verbosity import is_quiet

    if is_quiet() or not steps and records is None:
        return
    width = max((len(command) for command, _ in steps), default=0)
    click.echo(HEADER)
    for command, what in steps:
        click.echo(f"  {command.ljust(width)}   {what}" if what else f"  {command}")
    if records is not None:
        click.echo(f"  records: {shown_path(records)}")


def after_training(version: Any, command: str = "train") -> None:
    """After ``train``, or ``run`` (which also predicted and evaluated its test split)."""
    steps = [(f"runway show {address(version)}", "its config, metrics and checkpoints")]
    records: Path = version.path
    if command == "run":
        from runway.experiment.settings import parse_settings

        suffix = parse_settings(version.config).test.suffix
        records = version.test_dir(suffix)
        steps.append((f"runway compare {version.name}", "compare it with the experiment's other versions"))
    else:
        steps.append((f"runway infer {address(version)} test", "predict the test split and evaluate"))
    steps.append(("runway list", "every version side by side"))
    echo_next(steps, records=records)


def after_test(version: Any, suffix: str, *, evaluated: bool) -> None:
    """After ``infer`` (``evaluated``: it ran eval too) and ``eval``."""
    if evaluated:
        steps = [
            (f"runway show {address(version)}", "its metrics beside its config"),
            (f"runway show {address(version)} --records {suffix}", "the per-sample records (JSON lines)"),
            ("runway list", "every version side by side"),
        ]
    else:
        steps = [(f"runway eval {address(version)}:{suffix}", "compute the metrics of these predictions")]
    echo_next(steps, records=version.test_dir(suffix))


def after_prepare(name: str | None, config_file: Path | None) -> None:
    target = name or (f"--config {config_file}" if config_file else "NAME")
    echo_next([
        (f"runway train {target}", "train on the prepared data (it is loaded from the cache)"),
        (f"runway pipeline explain {target}", "what each node would load or run, and why"),
    ])


def after_experiment(name: str, path: Path) -> None:
    echo_next([
        (f"runway config show {name}", "the resolved config"),
        (f"runway run {name}", "train, predict and evaluate it"),
    ])


def after_sweep(ledger_id: str) -> None:
    name = ledger_id.rsplit("-", 1)[0]  # a sweep's id is NAME-N
    echo_next([
        (f"runway sweep status {ledger_id}", "each point's state and metric, best first"),
        (f"runway experiment {name}_best --from {ledger_id}:best", "keep the best point's config"),
        (f"runway list {name}", "the versions it made"),
    ])
