"""Finding the project root and its folders.

The root is the nearest folder, from the current one upwards, holding the
marker file ``runway.toml`` that ``runway init`` writes. Its optional keys:

.. code-block:: toml

    cache_dir = "local_cache"          # relative to the root
    experiments_dir = "experiments"
    code_dirs = ["data_processing", "executors", "modeling", "metrics"]
    data_code_dirs = ["data_processing"]  # what data commands import; default: see below
    requires = ["runway-core[examples]"]  # what the code needs installed (runway.project.requirements)

Data commands (``prepare``, ``pipeline``, ``cache``) import only the modules
that can register what a pipeline needs, so that they never pay for the
project's models (torch, Lightning) unless a transform does: every module
under ``data_code_dirs`` when that key is set, else each module of the code
folders whose text mentions a registration of transforms or cache formats
(:data:`DATA_MARKERS`). A module that registers one indirectly (through a
helper of its own) should be in ``data_code_dirs``.

Commands given ``--config FILE`` outside any project use the file's folder
as the root.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from runway.errors import RunwayError
from runway.support.imports import compile_from_source_under, import_file

MARKER_FILE = "runway.toml"
DEFAULT_CODE_DIRS = ("data_processing", "executors", "modeling", "metrics")
#: text that marks a module as one a data pipeline may need: the decorator and
#: hooks that register transforms and cache formats, and the seed's forms of them
DATA_MARKERS = ("register_transform", "register_cache_format", "BaseTransform")


class Project:
    """A project folder and its ``runway.toml`` settings; equal by both.

    A plain class, not a dataclass: defining one costs every command start-up time."""

    def __init__(self, root: Path, settings: dict | None = None) -> None:
        self.root = root
        self.settings: dict = {} if settings is None else settings
        self._code_loaded = False
        self._data_code_loaded = False

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.root, self.settings) == (other.root, other.settings)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  (mutable, as the dataclass it was)

    def __repr__(self) -> str:
        return f"Project(root={self.root!r}, settings={self.settings!r})"

    @classmethod
    def find(cls, start: Path | str | None = None, *, required: bool = True) -> "Project | None":
        here = Path(start or Path.cwd()).resolve()
        if here.is_file():
            here = here.parent
        for folder in (here, *here.parents):
            marker = folder / MARKER_FILE
            if marker.is_file():
                try:
                    settings = tomllib.loads(marker.read_text(encoding="utf-8"))
                except tomllib.TOMLDecodeError as exc:
                    raise RunwayError(f"{marker}: {exc}") from None
                return cls(root=folder, settings=settings)
        if required:
            raise RunwayError(
                f"not inside a Runway project: no {MARKER_FILE} in {here} or any folder above it. "
                "Run `runway init` to create one, or pass --config FILE."
            )
        return None

    @classmethod
    def for_config_file(cls, config_file: Path | str) -> "Project":
        """The project holding ``config_file``, else one rooted at its folder."""
        found = cls.find(Path(config_file).resolve().parent, required=False)
        return found or cls(root=Path(config_file).resolve().parent)

    def _folder(self, key: str, default: str) -> Path:
        return (self.root / self.settings.get(key, default)).resolve()

    @property
    def configs_dir(self) -> Path:
        return self._folder("configs_dir", "configs")

    @property
    def experiment_configs_dir(self) -> Path:
        return self.configs_dir / "experiments"

    @property
    def experiments_dir(self) -> Path:
        return self._folder("experiments_dir", "experiments")

    @property
    def cache_dir(self) -> Path:
        return self._folder("cache_dir", "local_cache")

    @property
    def code_dirs(self) -> list[Path]:
        return [self.root / d for d in self.settings.get("code_dirs", DEFAULT_CODE_DIRS)]

    def load_code(self) -> None:
        """Import every module under the project's code folders, once.

        Their ``@register_transform`` and hook registrations then count. An
        error in one of them propagates with its traceback: it is the user's
        code and they need to see it. What ``requires`` names is checked
        first (:mod:`runway.project.requirements`): a missing package is
        an error that says how to install it.
        """
        if self._code_loaded:
            return
        self.check_requirements()
        self._code_loaded = True
        self._data_code_loaded = True
        for folder in self.code_dirs:
            for path in _modules_under(folder):
                self._import(path)

    def load_data_code(self) -> None:
        """Import the modules that data commands need, once (see the module docstring).

        A no-op after :meth:`load_code`, which imports them all.
        """
        if self._data_code_loaded:
            return
        self.check_requirements()
        self._data_code_loaded = True
        explicit = self.settings.get("data_code_dirs")
        if explicit is not None:
            for folder in explicit:
                for path in _modules_under(self.root / folder):
                    self._import(path)
            return
        for folder in self.code_dirs:
            for path in _modules_under(folder):
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                if any(marker in text for marker in DATA_MARKERS):
                    self._import(path)

    def check_requirements(self) -> None:
        """Raise :class:`runway.project.requirements.MissingRequirements` when ``requires`` is not installed."""
        from runway.project.requirements import check_project

        check_project(self)

    def _import(self, path: Path) -> None:
        root = str(self.root)
        if root not in sys.path:
            sys.path.insert(0, root)
        compile_from_source_under(root)
        rel = path.relative_to(self.root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        module_name = ".".join(parts)
        if module_name in sys.modules:
            return
        try:
            import_file(path, module_name)
        except ModuleNotFoundError as exc:
            # the seed's package: say how to port the file, not where the import failed
            if (exc.name or "").split(".")[0] != "runway_for_ml":
                raise
            raise RunwayError(
                f"{path.relative_to(self.root)} imports {exc.name}, runway_for_ml's code, which Runway "
                f"replaces: `runway migrate {self.root}` rewrites these imports to runway.compat "
                f"(--dry-run shows the diff first)"
            ) from None


def _modules_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py")) if folder.is_dir() else []
