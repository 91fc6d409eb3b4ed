"""The job spec: what a version folder runs, frozen at submission.

``job.json`` holds everything but the config; the config is
``config.json`` (secrets shown as ``"***"``) plus ``secrets.json`` (the
hidden values, readable by their owner only). :func:`load_job` joins them
and refuses a config whose fingerprint is not the one recorded at
submission: an edited ``config.json`` never runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from runway.errors import ExperimentError
from runway.support.files import DamagedFile, read_json, write_json

JOB_FILE = "job.json"
CONFIG_FILE = "config.json"
SECRETS_FILE = "secrets.json"
SPEC_VERSION = 1
#: the commands a job spec runs
COMMANDS = ("train", "run")
#: a pipeline submission's spec (``runway prepare --launcher``): its node jobs run
#: :func:`runway.pipeline.submit.execute_node`, not :func:`runway.job.execute.execute`
PIPELINE_COMMAND = "prepare"


@dataclass(frozen=True)
class JobSpec:
    """One version's job.

    ``segments`` has one entry per submission into the version: the first
    one, then one per ``--resume`` (with the settings it changed).
    ``resume`` says whether the current segment continues from the
    version's ``last.ckpt``.
    """

    command: str
    experiment: str
    version: int
    project_root: str
    fingerprint: str
    launcher: str = "local"
    loggers: tuple[str, ...] = ("csv",)
    tags: tuple[str, ...] = ()
    dummy: bool = False
    resume: bool = False
    resources: dict[str, Any] = field(default_factory=dict)
    segments: tuple[dict[str, Any], ...] = ()
    #: a short digest of each config leaf, so that an edit can be named key by key
    key_digests: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["spec_version"] = SPEC_VERSION
        for key in ("loggers", "tags", "segments"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: Path) -> "JobSpec":
        try:
            spec = cls(
                command=str(data["command"]),
                experiment=str(data["experiment"]),
                version=int(data["version"]),
                project_root=str(data["project_root"]),
                fingerprint=str(data["fingerprint"]),
                launcher=str(data.get("launcher") or "local"),
                loggers=tuple(str(x) for x in data.get("loggers") or ("csv",)),
                tags=tuple(str(x) for x in data.get("tags") or ()),
                dummy=bool(data.get("dummy", False)),
                resume=bool(data.get("resume", False)),
                resources=dict(data.get("resources") or {}),
                segments=tuple(dict(s) for s in data.get("segments") or ()),
                key_digests={str(k): str(v) for k, v in (data.get("key_digests") or {}).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DamagedFile(path, f"not a job spec: {type(exc).__name__}: {exc}") from None
        if spec.command not in (*COMMANDS, PIPELINE_COMMAND):
            raise DamagedFile(path, f"unknown command {spec.command!r}")
        return spec

    def with_changes(self, **changes: Any) -> "JobSpec":
        return replace(self, **changes)


def key_digests(config: dict[str, Any]) -> dict[str, str]:
    """``{dotted key: digest of its value}``: names what an edit changed without keeping values."""
    import hashlib

    from runway.config import canonical_json, flatten

    return {
        key: hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()[:16]
        for key, value in flatten(config).items()
    }


def changed_keys(spec: JobSpec, config: dict[str, Any]) -> list[str]:
    """The dotted keys of ``config`` whose value is not the one submitted (added and removed ones too)."""
    now = key_digests(config)
    before = spec.key_digests
    return sorted(k for k in {*now, *before} if now.get(k) != before.get(k))


# --------------------------------------------------------------------------- secrets


def _split_secrets(config: Any, shown: Any, path: tuple[Any, ...], found: list[list[Any]]) -> None:
    if isinstance(config, dict) and isinstance(shown, dict):
        for key, value in config.items():
            _split_secrets(value, shown.get(key), (*path, key), found)
    elif isinstance(config, list) and isinstance(shown, list):
        for index, (value, seen) in enumerate(zip(config, shown)):
            _split_secrets(value, seen, (*path, index), found)
    elif config != shown:
        found.append([list(path), config])


def _join_secrets(shown: Any, secrets: list[list[Any]]) -> Any:
    import copy

    config = copy.deepcopy(shown)
    for path, value in secrets:
        target = config
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return config


def write_config(folder: Path, config: dict[str, Any], *, durable: bool = True) -> None:
    """``config.json`` (redacted) and, when anything was redacted, ``secrets.json`` (0600)."""
    from runway.config import redact

    shown = redact(config)
    secrets: list[list[Any]] = []
    _split_secrets(config, shown, (), secrets)
    if secrets:
        write_json(folder / SECRETS_FILE, secrets, private=True, durable=durable)
    else:
        (folder / SECRETS_FILE).unlink(missing_ok=True)
    write_json(folder / CONFIG_FILE, shown, durable=durable)


def read_config(folder: Path) -> dict[str, Any]:
    """The full config of ``folder``: ``config.json`` with ``secrets.json`` put back."""
    shown = read_json(folder / CONFIG_FILE, expect=dict)
    secrets = read_json(folder / SECRETS_FILE, [], expect=list)
    try:
        return _join_secrets(shown, secrets)
    except (KeyError, IndexError, TypeError, ValueError):
        raise DamagedFile(folder / SECRETS_FILE, f"does not fit {folder / CONFIG_FILE}") from None


# --------------------------------------------------------------------------- the spec


def write_spec(folder: Path, spec: JobSpec, *, durable: bool = True) -> None:
    write_json(folder / JOB_FILE, spec.to_dict(), durable=durable)


def read_spec(folder: Path) -> JobSpec:
    path = Path(folder) / JOB_FILE
    if not path.is_file():
        raise ExperimentError(
            f"{folder} has no {JOB_FILE}: it is not a job Runway submitted (or it was made by an older Runway)"
        )
    return JobSpec.from_dict(read_json(path, expect=dict), path)


class SecretsMissing(ExperimentError):
    """The folder's ``secrets.json`` is gone: the values redacted in ``config.json`` are unknown."""

    def __init__(self, folder: Path, keys: list[str]) -> None:
        self.keys = keys
        super().__init__(
            f"{folder / SECRETS_FILE} is missing, and {folder / CONFIG_FILE} has redacted values (saved as "
            f"\"***\"): {', '.join(keys)}. Give them with --opts {' '.join(f'{k}=VALUE' for k in keys)}"
        )


def load_job(folder: Path | str, supplied: Sequence[str] = ()) -> tuple[JobSpec, dict[str, Any]]:
    """The spec and the full config of version folder ``folder``, checked against each other.

    ``supplied``: ``--opts`` tokens that give back the redacted values when
    ``secrets.json`` is gone; the result must still match the fingerprint
    (a wrong secret is refused like an edit).

    :raises SecretsMissing: redacted values that nothing gives back.
    :raises ExperimentError: the config's fingerprint is not the spec's (an
        edited ``config.json``), naming the keys that differ when the
        original is known.
    """
    from runway.config import REDACTED, apply_overrides, fingerprint, flatten, parse_overrides

    folder = Path(folder)
    spec = read_spec(folder)
    config = read_config(folder)
    if fingerprint(config) != spec.fingerprint and not (folder / SECRETS_FILE).is_file():
        hidden = [
            key for key, value in flatten(config).items()
            if value == REDACTED or (isinstance(value, str) and REDACTED in value)  # a URL's password, say
        ]
        if hidden and not supplied:
            raise SecretsMissing(folder, hidden)
        if supplied:
            config = apply_overrides(config, parse_overrides(supplied))
    if fingerprint(config) != spec.fingerprint:
        keys = changed_keys(spec, config)
        which = f" (changed: {', '.join(keys[:10])}{', ...' if len(keys) > 10 else ''})" if keys else ""
        raise ExperimentError(
            f"{folder / CONFIG_FILE} was changed after the job was submitted{which}: its fingerprint "
            f"is not the one in {JOB_FILE}, and a version runs only the config it was submitted with. "
            "Submit the changed config as a new version instead."
        )
    return spec, config
