"""Importing what a config names: an object by ``pkg.mod.Name`` / ``pkg.mod:Name``, a file by path."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from runway.errors import ConfigError, did_you_mean


def import_object(path: str, where: str) -> Any:
    """The object that ``path`` names (``pkg.mod.Name`` or ``pkg.mod:Name``).

    :raises ConfigError: ``<where>: cannot import '<path>': <reason>``.
    """
    if not isinstance(path, str) or not path.strip():
        raise ConfigError(f"{where}: expected 'package.module.Name' or 'package.module:Name', got {path!r}")
    path = path.strip()
    if ":" not in path and "." not in path:
        raise ConfigError(f"{where}: cannot import {path!r}: expected 'package.module.Name' or 'package.module:Name'")
    import pkgutil  # here, not at start-up: most commands import no object by name

    try:
        return pkgutil.resolve_name(path) if ":" in path else _resolve_dotted(path)
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"{where}: cannot import {path!r}: {exc}") from None
    except AttributeError as exc:
        module_name, _, attr = path.partition(":") if ":" in path else path.rpartition(".")
        module = sys.modules.get(module_name)
        names = [n for n in dir(module) if not n.startswith("_")] if module is not None else []
        missing = getattr(exc, "name", None) or attr.split(".")[-1]
        raise ConfigError(f"{where}: cannot import {path!r}: {exc}.{did_you_mean(str(missing), names)}") from None


def _resolve_dotted(path: str) -> Any:
    """``pkg.mod.Name`` by its longest importable module prefix.

    Unlike :func:`pkgutil.resolve_name`, an import error raised inside that
    module (a dependency it lacks) surfaces as itself instead of reading as
    "module 'pkg' has no attribute 'mod'".
    """
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            target = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                continue  # this prefix is not a module: a shorter one may be
            raise
        for attr in parts[cut:]:
            target = getattr(target, attr)
        return target
    raise ModuleNotFoundError(f"No module named {parts[0]!r}", name=parts[0])


def import_class(path: str, where: str, kind: type | tuple[type, ...]) -> type:
    """The class that ``path`` names, which must be a subclass of ``kind``.

    A config may name the classes a key expects and nothing else: a function
    (``os:system``), a module or any other object is refused, so naming an
    object in a config never calls arbitrary code.

    :raises ConfigError: ``<where>: 'os:system' is a builtin_function_or_method, not a class``.
    """
    import inspect

    found = import_object(path, where)
    if not inspect.isclass(found):
        raise ConfigError(f"{where}: {path!r} is a {type(found).__name__}, not a class")
    if not issubclass(found, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        names = " or ".join(f"{k.__module__}.{k.__qualname__}" for k in kinds)
        raise ConfigError(f"{where}: {path!r} is not a {names} (the kind of class this key takes)")
    return found


def import_file(path: Path | str, module_name: str) -> ModuleType:
    """Import the Python file ``path`` as ``module_name`` (registered in ``sys.modules``),
    compiled from its source (:func:`source_only_loader`)."""
    path = Path(path)
    import importlib.util

    spec = importlib.util.spec_from_file_location(module_name, path, loader=source_only_loader(module_name, str(path)))
    if spec is None or spec.loader is None:
        raise ConfigError(f"{path}: not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    parent, _, child = module_name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)  # as the import system binds a submodule
    return module


# ------------------------------------------------------------- project code

_SOURCE_ONLY: Any = None


def source_only_loader(name: str, path: str) -> Any:
    """A loader that compiles ``path`` from its source at every import, never from a cached ``.pyc``.

    A ``.pyc`` is trusted when the source's size and modification time in
    whole seconds match it, so a file edited twice within a second, to the
    same size, would run as it was before; and a version records the digest
    of the project's sources as the code it ran. Project code is small: it
    is compiled at every import, and no ``.pyc`` is read or written for it.
    """
    global _SOURCE_ONLY
    if _SOURCE_ONLY is None:
        from importlib.machinery import SourceFileLoader

        class SourceOnlyLoader(SourceFileLoader):
            def get_code(self, fullname: str) -> Any:
                path = self.get_filename(fullname)
                return self.source_to_code(self.get_data(path), path)

        _SOURCE_ONLY = SourceOnlyLoader
    return _SOURCE_ONLY(name, path)


class ProjectCodeFinder:
    """Finds modules as the path finder does, those under a project's root with :func:`source_only_loader`.

    It stands just before ``PathFinder`` in ``sys.meta_path`` and answers
    with what ``PathFinder`` finds, so that a module of the project that
    another imports by name (``from modeling.layers import Block``) is
    compiled from its source like those the project imports by path.
    """

    def __init__(self) -> None:
        self.roots: list[str] = []

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        from importlib.machinery import PathFinder, SourceFileLoader

        spec = PathFinder.find_spec(fullname, path, target)
        if spec is None or not isinstance(spec.loader, SourceFileLoader) or not isinstance(spec.origin, str):
            return spec
        if any(spec.origin.startswith(root) for root in self.roots) and not spec.origin.startswith(self.installed):
            spec.loader = source_only_loader(spec.name, spec.origin)
        return spec

    @property
    def installed(self) -> tuple[str, ...]:
        """Where installed packages live: a virtual environment inside the project's folder is not its code."""
        return tuple(os.path.join(p, "") for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})

    def invalidate_caches(self) -> None:
        pass  # PathFinder's own caches are invalidated by importlib.invalidate_caches through its own entry


_FINDER: ProjectCodeFinder | None = None


def compile_from_source_under(root: Path | str) -> None:
    """Import the modules under ``root`` (a project's folder, on ``sys.path``) from their sources."""
    global _FINDER
    if _FINDER is None or _FINDER not in sys.meta_path:
        from importlib.machinery import PathFinder

        _FINDER = _FINDER or ProjectCodeFinder()
        where = next((i for i, finder in enumerate(sys.meta_path) if finder is PathFinder), len(sys.meta_path))
        sys.meta_path.insert(where, _FINDER)
    prefix = os.path.join(os.path.abspath(root), "")
    if prefix not in _FINDER.roots:
        _FINDER.roots.append(prefix)
