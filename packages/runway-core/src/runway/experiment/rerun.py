"""Rerunning a version from its folder alone: ``runway rerun NAME[:VERSION]``.

A rerun reads the version's job (``job.json``, ``config.json`` and its
secrets, checked against the fingerprint recorded at submission: an edited
``config.json`` is refused, naming the keys that changed) and
``provenance.json`` (never the experiment's current config file), and
submits that config again, through the same submit path as ``runway train``,
into a new version of the same experiment. Before anything runs it checks
that the code and environment are the ones recorded:

- git: the commit, the uncommitted changes (the recorded ``git diff HEAD``
  patch) and the untracked files of the project's repository;
- the project's code without git: the digest of each file under the code
  folders and of each registered transform's and executor's source
  (``provenance.json``'s ``code``), naming the files that changed, appeared
  or went;
- the Python version and the versions of the packages in
  ``provenance.json``'s ``packages`` (a package recorded but no longer
  installed counts too).

Any difference refuses the rerun (exit 2) with the list, unless ``--force``.
Secrets come back from the version's ``secrets.json``; where that file is
gone, a value saved as ``"***"`` must be given with ``--opts key=value``
(``--force`` does not skip this; a secret cannot be guessed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runway.errors import ExperimentError
from runway.experiment.provenance import KEY_PACKAGES, code_state, git_state, package_versions
from runway.experiment.store import CONFIG_FILE, ExperimentStore, Version

# provenance fields a rerun records beside the usual ones
RERUN_FIELD = "rerun_of"
RERUN_TAG = "rerun_of"
# untracked files listed in a difference, at most
SHOWN_FILES = 10


@dataclass
class RerunPlan:
    """What a rerun of ``version`` would run, and what stands in its way."""

    version: Version
    config: dict[str, Any]
    command: str  # "run" (the original has test runs) or "train"
    dummy: bool
    differences: list[str] = field(default_factory=list)

    @property
    def config_file(self) -> Path:
        return self.version.path / CONFIG_FILE


def parse_target(target: str) -> tuple[str, int | None]:
    """``NAME``, ``NAME:3``, ``NAME:V3`` or ``NAME:latest`` into a name and a version."""
    from runway.experiment.address import parse_address

    address = parse_address(target)
    if address.suffix:
        raise ExperimentError(f"{target!r}: a rerun takes a version (NAME:VERSION), not a test run")
    return address.name, address.version


def _lines(text: str) -> int:
    return len(text.splitlines())


def git_differences(recorded: dict[str, Any] | None, current: dict[str, Any] | None) -> list[str]:
    """How the repository now differs from the ``git`` record of ``provenance.json``."""
    if recorded is None and current is None:
        return []
    if recorded is None:
        return [f"git: the original ran outside a git repository; the project is now in one (commit {current['commit']})"]
    if current is None:
        return [f"git: the original ran at commit {recorded.get('commit')}; the project is no longer in a git repository"]
    found = []
    if recorded.get("commit") != current.get("commit"):
        found.append(f"git commit: recorded {recorded.get('commit')}, now {current.get('commit')}")
    recorded_patch, current_patch = recorded.get("patch") or "", current.get("patch") or ""
    if recorded_patch != current_patch:
        found.append(
            "git uncommitted changes differ from the recorded patch "
            f"(recorded {_lines(recorded_patch)} lines of `git diff HEAD`, now {_lines(current_patch)}; "
            "see provenance.json 'git.patch')"
        )
    before, after = set(recorded.get("untracked") or []), set(current.get("untracked") or [])
    if before != after:
        added, gone = sorted(after - before), sorted(before - after)
        parts = []
        if added:
            parts.append("new: " + ", ".join(added[:SHOWN_FILES]) + (", ..." if len(added) > SHOWN_FILES else ""))
        if gone:
            parts.append("gone: " + ", ".join(gone[:SHOWN_FILES]) + (", ..." if len(gone) > SHOWN_FILES else ""))
        found.append(f"git untracked files differ ({'; '.join(parts)})")
    return found


def _listed(names: list[str]) -> str:
    return ", ".join(names[:SHOWN_FILES]) + (f", ... ({len(names)} in all)" if len(names) > SHOWN_FILES else "")


def code_differences(recorded: dict[str, Any] | None, current: dict[str, Any]) -> list[str]:
    """How the project's code files now differ from the ``code`` record of ``provenance.json``."""
    if not isinstance(recorded, dict) or not isinstance(recorded.get("files"), dict):
        return []  # recorded before code digests were
    if recorded.get("digest") == current.get("digest"):
        return []
    before, after = recorded["files"], current.get("files") or {}
    changed = sorted(n for n in before.keys() & after.keys() if before[n] != after[n])
    added, gone = sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys())
    parts = []
    if changed:
        parts.append("changed: " + _listed(changed))
    if added:
        parts.append("new: " + _listed(added))
    if gone:
        parts.append("gone: " + _listed(gone))
    return [f"code files differ from the recorded digests ({'; '.join(parts) or 'digest differs'})"]


def package_differences(provenance: dict[str, Any]) -> list[str]:
    """Recorded Python and package versions that differ from the installed ones."""
    import sys

    found = []
    recorded_python = provenance.get("python")
    current_python = sys.version.split()[0]
    if recorded_python and recorded_python != current_python:
        found.append(f"python: recorded {recorded_python}, now {current_python}")
    recorded: dict[str, str] = provenance.get("packages") or {}
    extra = tuple(name for name in recorded if name not in KEY_PACKAGES)
    installed = package_versions(extra)
    for name in sorted(recorded):
        now = installed.get(name)
        if now is None:
            found.append(f"package {name}: recorded {recorded[name]}, now not installed")
        elif now != recorded[name]:
            found.append(f"package {name}: recorded {recorded[name]}, now {now}")
    return found


def plan_rerun(project: Any, target: str, opts: tuple[str, ...] | list[str] = ()) -> RerunPlan:
    """Read version ``target`` (``NAME[:VERSION]``) and check that it can be rerun here."""
    from runway.job.spec import load_job

    from runway.experiment.address import resolve

    parse_target(target)  # a test run is refused, naming the form
    version = resolve(ExperimentStore.for_project(project), target)[0]
    spec, config = load_job(version.path, supplied=opts)
    provenance = version.provenance
    if not provenance:
        raise ExperimentError(
            f"{version.label} has no provenance.json in {version.path}: nothing says which code and "
            "packages made it, so a rerun cannot be checked"
        )
    differences = git_differences(provenance.get("git"), git_state(Path(project.root)))
    if isinstance(provenance.get("code"), dict):
        project.load_code()  # its transforms and executors register, as when the version was submitted
        differences += code_differences(provenance["code"], code_state(Path(project.root), project.code_dirs))
    differences += package_differences(provenance)
    return RerunPlan(
        version=version,
        config=config,
        command=spec.command,
        dummy=spec.dummy,
        differences=differences,
    )


def check_plan(plan: RerunPlan, *, force: bool) -> None:
    """Refuse (``ExperimentError``, exit 2) a rerun whose code or packages differ, unless ``force``."""
    label = plan.version.label
    if plan.differences and not force:
        listing = "\n".join(f"  - {line}" for line in plan.differences)
        raise ExperimentError(
            f"{label} was made by other code or packages than are here now, so a rerun would not "
            f"repeat it:\n{listing}\nRestore them, or rerun anyway with --force (the differences are "
            "recorded in the new version's provenance.json)."
        )


def rerun_record(plan: RerunPlan, *, forced: bool) -> dict[str, Any]:
    """The ``rerun_of`` entry of the new version's provenance."""
    return {
        "experiment": plan.version.name,
        "version": plan.version.number,
        "forced": forced,
        "differences": list(plan.differences),
        "original_fingerprint": plan.version.provenance.get("config_fingerprint"),
    }


def same_metrics(a: Version, b: Version) -> dict[str, bool]:
    """Per test suffix of ``a``: whether ``b``'s ``metrics.json`` holds exactly the same values."""
    return {
        suffix: json.dumps(a.metrics(suffix), sort_keys=True) == json.dumps(b.metrics(suffix), sort_keys=True)
        for suffix in a.tests()
    }
