"""What a project's code needs installed, checked before anything runs.

``runway.toml`` may list it::

    requires = ["runway-core[examples]"]      # an extra: its requirements, as installed metadata says
    requires = ["scikit-learn>=1.3", "runway-hf[transformers]"]

``runway init`` writes ``requires = ["runway-core[examples]"]`` for its
example (scikit-learn's digits) and checks it at once; every command that
imports the project's code (``prepare``, ``train``, ``run``, ``infer``,
``eval``, ``sweep``, and ``runway execute`` itself) checks it before a
version is allocated or a node runs, so a missing package is one message
with the exact ``pip install`` line (exit 2), never a
``ModuleNotFoundError`` traceback in a failed version.

An extra is expanded from the metadata of the installed distribution
(``importlib.metadata``), so the extras in the pyprojects stay the one list.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata

from runway.errors import RunwayError

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


class MissingRequirements(RunwayError):
    """Packages the project's code needs are not installed (exit 2); the message says how to install them."""

    def __init__(self, message: str, missing: Sequence["Missing"]) -> None:
        super().__init__(message)
        self.missing = list(missing)


@dataclass(frozen=True)
class Missing:
    requirement: str  # "scikit-learn>=1.3"
    found: str | None  # the installed version that does not satisfy it, or None
    via: str | None = None  # "runway-core[examples]" when it came from an extra

    def describe(self) -> str:
        what = f"{self.requirement} ({'version ' + self.found + ' is installed' if self.found else 'not installed'})"
        return f"{what}, from {self.via}" if self.via else what


def _split(requirement: str) -> tuple[str, list[str], str]:
    """``(name, extras, the rest: version specifier and marker)``."""
    match = _NAME.fullmatch(requirement)
    if match is None:
        raise RunwayError(f"runway.toml requires: {requirement!r} is no requirement (write e.g. 'scikit-learn>=1.3')")
    extras = [e.strip() for e in (match.group(2) or "").split(",") if e.strip()]
    return match.group(1), extras, match.group(3).strip()


def _version_ok(installed: str, spec: str) -> bool:
    if not spec:
        return True
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version

        return Version(installed) in SpecifierSet(spec)
    except ImportError:  # without packaging, presence is what is checked
        return True
    except ValueError:
        return True


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def extra_requirements(distribution: str, extra: str) -> list[str]:
    """The requirements an installed ``distribution`` lists for ``extra`` (without the marker)."""
    found: list[str] = []
    for line in metadata.requires(distribution) or []:
        requirement, _, marker = line.partition(";")
        extras = _EXTRA_MARKER.findall(marker)
        if extra in extras:
            found.append(requirement.strip())
    return found


def missing_requirements(requires: Iterable[str], installed: Callable[[str], str | None] | None = None) -> list[Missing]:
    """What of ``requires`` is not installed (or too old); ``installed(name)`` gives a version or None
    (default: the installed distributions' metadata)."""
    installed = installed or _installed
    missing: list[Missing] = []
    for requirement in requires:
        name, extras, rest = _split(str(requirement))
        spec = rest.split(";")[0].strip()
        version = installed(name)
        if version is None or not _version_ok(version, spec):
            missing.append(Missing(str(requirement).strip(), version))
            continue
        for extra in extras:
            via = f"{name}[{extra}]"
            for inner in extra_requirements(name, extra):
                for found in missing_requirements([inner], installed):
                    missing.append(Missing(found.requirement, found.found, found.via or via))
    return missing


def install_line(missing: Sequence[Missing]) -> str:
    """The command that installs ``missing`` into this interpreter."""
    return " ".join([shlex.quote(sys.executable), "-m", "pip", "install", *(shlex.quote(m.requirement) for m in missing)])


def requirements_message(missing: Sequence[Missing], who: str = "the project's code") -> str:
    listed = "; ".join(m.describe() for m in missing)
    return f"{who} needs {listed}. Install {'it' if len(missing) == 1 else 'them'} with:\n    {install_line(missing)}"


def project_requirements(project: object) -> list[str]:
    settings = getattr(project, "settings", None) or {}
    requires = settings.get("requires", [])
    if isinstance(requires, str):
        requires = [requires]
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise RunwayError(f"{getattr(project, 'root', '?')}/runway.toml: requires must be a list of requirement strings")
    return requires


def check_project(project: object) -> None:
    """Raise :class:`MissingRequirements` when ``runway.toml``'s ``requires`` is not installed."""
    missing = missing_requirements(project_requirements(project))
    if missing:
        raise MissingRequirements(requirements_message(missing, f"the project in {getattr(project, 'root', '.')}"), missing)


#: import names whose distribution is called otherwise
DISTRIBUTIONS = {"sklearn": "scikit-learn", "yaml": "pyyaml", "PIL": "pillow", "cv2": "opencv-python", "skimage": "scikit-image"}


def missing_module_hint(exc: BaseException) -> str | None:
    """For a ``ModuleNotFoundError`` of a top-level module: the line that installs it."""
    if not isinstance(exc, ModuleNotFoundError) or not exc.name:
        return None
    top = exc.name.split(".")[0]
    if top == "runway" or top.startswith("runway_") or _is_local_module(top):
        return None
    distribution = DISTRIBUTIONS.get(top, top)
    return (
        f"the module {top!r} is not installed; install it with:\n    "
        f"{shlex.quote(sys.executable)} -m pip install {shlex.quote(distribution)}\n"
        "(and add it to runway.toml's requires, so that the next run checks it before starting)"
    )


def _is_local_module(name: str) -> bool:
    from pathlib import Path

    return (Path.cwd() / name).exists() or (Path.cwd() / f"{name}.py").exists()
