"""The one way to name a version on the command line.

.. code-block:: text

    NAME                the latest version (commands that take several: every version)
    NAME:3  NAME:V3     version 3          NAME:latest   the latest, written out
    NAME:3:SUFFIX       version 3's test run test-SUFFIX/   (NAME::SUFFIX: the latest's)
    NAME_V3             a version folder's name, where NAME_V3 is no experiment itself

Every command that takes a version (``show``, ``config show [--diff]``,
``experiment --from``, ``compare``, ``plot``, ``rerun``, ``infer``, ``eval``,
``logs``, ``status``, ``cancel``, ``rm``) parses it with :func:`parse_address`
and finds the version with :func:`resolve`. Experiment names cannot contain
``:``, so the form is never ambiguous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runway.errors import ExperimentError
from runway.experiment.versions import FOLDER_SEPARATOR, parse_folder_name

FORMS = "NAME, NAME:VERSION (3, V3 or latest) or NAME:VERSION:SUFFIX"
_NUMBER = re.compile(r"[Vv]?(?P<n>\d+)")


@dataclass(frozen=True)
class Address:
    """What an address names: an experiment, maybe a version number, maybe a test run."""

    name: str
    version: int | None = None  # None: not written, or "latest"
    suffix: str | None = None
    latest: bool = False  # "NAME:latest" or "NAME::SUFFIX": one version, the latest

    @property
    def pinned(self) -> bool:
        """Whether the address names one version (a number, or ``latest`` written out)."""
        return self.version is not None or self.latest

    def __str__(self) -> str:
        text = self.name
        if self.version is not None or self.suffix:
            text += f":{self.version if self.version is not None else 'latest'}"
        return text + (f":{self.suffix}" if self.suffix else "")


def parse_address(text: str) -> Address:
    """``text`` as an :class:`Address`; a malformed one is an :class:`ExperimentError` showing the forms."""
    parts = str(text).split(":")
    if len(parts) > 3 or not parts[0]:
        raise ExperimentError(f"{text!r} is no version address: write {FORMS}")
    name = parts[0]
    suffix = parts[2] if len(parts) == 3 and parts[2] else None
    raw = parts[1] if len(parts) > 1 else ""
    if raw in ("", "latest"):
        return Address(name, None, suffix, latest=bool(raw) or suffix is not None)
    match = _NUMBER.fullmatch(raw)
    if match is None:
        raise ExperimentError(f"{text!r}: {raw!r} is not a version; write {FORMS}")
    return Address(name, int(match["n"]), suffix)


def folder_address(store: Any, address: Address) -> Address:
    """``NAME_V3`` read as version 3 of NAME, where NAME_V3 has no versions itself; else ``address``."""
    if address.pinned or store.versions(address.name):
        return address
    parsed = parse_folder_name(address.name.replace("/", FOLDER_SEPARATOR))
    if parsed is not None and parsed[1] in store.versions(parsed[0]):
        return Address(parsed[0], parsed[1], address.suffix)
    return address


def resolve(store: Any, text: str, version: int | None = None, *, writes_test_run: bool = False) -> tuple[Any, str | None]:
    """The version ``text`` names (``--version N`` may say the number instead) and its suffix.

    A suffix is checked against the version's test runs when ``writes_test_run``
    is false (a command reading a test run); a command writing one checks it itself.
    """
    address = folder_address(store, parse_address(text))
    if version is not None and address.version is not None and version != address.version:
        raise ExperimentError(f"{text!r} and --version {version} name different versions; give one of them")
    number = address.version if address.version is not None else version
    found = store.get(address.name, number)
    if address.suffix and not writes_test_run and address.suffix not in found.tests():
        have = ", ".join(found.tests()) or "none"
        raise ExperimentError(f"{text!r}: {found.label} has no test run {address.suffix!r} (test runs: {have})")
    return found, address.suffix


def config_source(project: Any, text: str) -> tuple[str, str]:
    """What a config-reading command loads for ``text`` and the parent to record.

    A pinned address (``NAME:3``, ``NAME_V3``) is that version's saved
    ``config.json`` and the parent to record is ``NAME:N``, so that
    ``runway show`` diffs against the exact config it started from; a bare
    ``NAME`` (or a path) is loaded and recorded as given: the config file.
    """
    from runway.experiment.store import CONFIG_FILE, ExperimentStore

    try:
        address = parse_address(text)
    except ExperimentError:
        return text, text  # a file path with a ':' in it, or a Windows drive
    store = ExperimentStore.for_project(project)
    address = folder_address(store, address)
    if address.pinned:
        found = store.get(address.name, address.version)
        return str(found.path / CONFIG_FILE), f"{found.name}:{found.number}"
    return text, text


def version_of(store: Any, text: str) -> Any:
    """The version a recorded parent (``NAME:N``) names, or ``None`` (a bare name, or a version gone)."""
    try:
        address = parse_address(text)
    except ExperimentError:
        return None
    if address.version is None or address.version not in store.versions(address.name):
        return None
    return store.get(address.name, address.version)
