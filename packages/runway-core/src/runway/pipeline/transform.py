"""Transforms: the configurable, stateless units that a data pipeline is made of.

A transform is a class with ``setup(**setup_kwargs)`` and ``_call(data)``::

    class Tokenize(runway.Transform):
        version = 2                      # bump to invalidate cached results
        file_inputs = ("vocab_path",)    # setup kwargs that name files

        def setup(self, vocab_path, max_len=128):
            ...

        def _call(self, rows):
            ...

or a plain function whose keyword arguments are its setup kwargs::

    @runway.register_transform
    def lowercase(rows, *, field="text"):
        return [{**r, field: r[field].lower()} for r in rows]

The project's own transforms are registered with ``@runway.register_transform``
in its code folders (imported by ``Project.load_code()``); installed packages
use the ``register_transforms(register)`` hook.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from runway.errors import PipelineError

T = TypeVar("T")


class Transform:
    """Base class of data-pipeline transforms.

    The pipeline builds one instance per node: ``cls()``, then sets
    ``use_dummy_data``, ``node_name`` and ``project_root``, then calls
    ``setup(**setup_kwargs)`` (a fresh copy of the node's kwargs);
    calling the instance on the node's input runs
    ``_preprocess -> _check_input -> _call -> _check_output``.

    Class attributes:

    ``version``
        part of every cache key of this transform; bump it when the output
        changes for reasons that the source of the class does not show (a
        helper module, an external tool).
    ``file_inputs``
        names of setup kwargs whose values are paths (a string or a list of
        strings, relative to the project root); the contents of those files
        join the cache key, so editing one reruns the node and its descendants.
    ``shardable``
        ``True`` when the transform maps rows independently, so that
        ``setup_kwargs._shards: N`` may run it as N processes, each on a
        contiguous slice of the input (:meth:`shard_input`), whose outputs
        :meth:`merge_shards` joins in order (see :mod:`runway.pipeline.shards`).
        The merged output must equal the unsharded one; the defaults slice and
        concatenate lists of rows, and ``runway-hf`` overrides them for
        ``datasets`` objects.
    ``shard_imports``
        modules that every shard needs (``("datasets",)``): the local shard
        processes are forked from one process that imported them, so N
        shards pay for those imports once.
    """

    version: ClassVar[int | str] = 1
    file_inputs: ClassVar[Sequence[str]] = ()
    shardable: ClassVar[bool] = False
    shard_imports: ClassVar[Sequence[str]] = ()

    #: set by the pipeline before ``setup``: true under ``--dummy`` /
    #: ``meta.use_dummy_data``, so a loader can read a small sample instead.
    use_dummy_data: bool = False
    #: the pipeline node this instance runs for (for messages).
    node_name: str = ""
    #: the project's root folder: relative paths in ``setup_kwargs`` (such as
    #: ``file_inputs``) are relative to it, whatever the current folder is.
    project_root: Path | None = None

    def setup(self, **kwargs: Any) -> None:
        """Configure the transform from the node's ``setup_kwargs``."""
        if kwargs:
            raise TypeError(f"{type(self).__name__}.setup() takes no arguments, got {sorted(kwargs)}")

    def _call(self, data: Any) -> Any:
        """Transform ``data`` (the input node's output, or a list of them)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _call(self, data)")

    def _preprocess(self, data: Any) -> Any:
        """Adapt the input before it is checked and transformed (default: as is)."""
        return data

    def _check_input(self, data: Any) -> bool | None:
        """Raise, or return ``False``, when the input is unusable."""
        return None

    def _check_output(self, data: Any) -> bool | None:
        """Raise, or return ``False``, when the output is wrong."""
        return None

    def _apply_mapping(self, data: Any, in_out_col_mapping: Mapping[str, str]) -> Any:
        """Select and rename fields: ``{"input_field": "output_field"}``.

        Works on a mapping (its keys) or a sequence of mappings (each row's
        keys); fields not named in the mapping are dropped. Subclasses for
        other containers (a ``datasets.Dataset``) override it. The pipeline
        does not call it; transforms call it from ``_call`` where they need it.
        """
        if isinstance(data, Mapping):
            return {out: data[src] for src, out in in_out_col_mapping.items()}
        if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
            return [{out: row[src] for src, out in in_out_col_mapping.items()} for row in data]
        raise TypeError(f"{type(self).__name__}._apply_mapping cannot map a {type(data).__name__}")

    def shard_input(self, data: Any, index: int, n_shards: int) -> Any:
        """The part of the (preprocessed) input that shard ``index`` of ``n_shards`` transforms.

        Default: a contiguous slice of a list of rows (:func:`shard_bounds`).
        """
        if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
            start, stop = shard_bounds(len(data), index, n_shards)
            return list(data[start:stop])
        raise PipelineError(
            f"node {self.node_name!r}: {type(self).__name__} cannot split a {type(data).__module__}."
            f"{type(data).__qualname__} into shards (it splits lists of rows); override shard_input and "
            "merge_shards, or remove setup_kwargs._shards"
        )

    def merge_shards(self, parts: Sequence[Any]) -> Any:
        """The node's output from its shards' outputs, in shard order (default: concatenated lists)."""
        merged: list[Any] = []
        for part in parts:
            if not isinstance(part, Sequence) or isinstance(part, (str, bytes)):
                raise PipelineError(
                    f"node {self.node_name!r}: a shard of {type(self).__name__} returned a "
                    f"{type(part).__name__}, not a list of rows; override merge_shards to join it"
                )
            merged.extend(part)
        return merged

    def __call__(self, data: Any) -> Any:
        data = self._preprocess(data)
        if self._check_input(data) is False:
            raise PipelineError(f"node {self.node_name!r}: {type(self).__name__}._check_input rejected its input")
        result = self._call(data)
        if self._check_output(result) is False:
            raise PipelineError(f"node {self.node_name!r}: {type(self).__name__}._check_output rejected its output")
        return result


def shard_bounds(length: int, index: int, n_shards: int) -> tuple[int, int]:
    """``[start, stop)`` of shard ``index`` of ``n_shards`` over ``length`` rows: contiguous, sizes differ by at most one."""
    return length * index // n_shards, length * (index + 1) // n_shards


class FunctionTransform(Transform):
    """A transform made from a plain function ``fn(data, **setup_kwargs)``.

    ``function_transform(fn)`` makes one subclass per function, so that each
    has its own name, version, source and ``setup`` signature.
    """

    function: ClassVar[Callable[..., Any]]
    _kwargs: dict[str, Any]

    def setup(self, **kwargs: Any) -> None:
        self._kwargs = kwargs

    def _call(self, data: Any) -> Any:
        kwargs = dict(getattr(self, "_kwargs", {}))
        if _accepts_keyword(type(self).function, "use_dummy_data"):
            kwargs.setdefault("use_dummy_data", self.use_dummy_data)
        return type(self).function(data, **kwargs)


def _accepts_keyword(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def function_transform(
    fn: Callable[..., Any],
    *,
    version: int | str | None = None,
    file_inputs: Sequence[str] | None = None,
    shardable: bool | None = None,
) -> type[Transform]:
    """Wrap ``fn(data, **kwargs)`` as a :class:`Transform` subclass."""
    attrs: dict[str, Any] = {
        "function": fn,
        "version": version if version is not None else getattr(fn, "version", 1),
        "file_inputs": tuple(file_inputs if file_inputs is not None else getattr(fn, "file_inputs", ())),
        "shardable": bool(shardable if shardable is not None else getattr(fn, "shardable", False)),
        "__module__": getattr(fn, "__module__", __name__),
        "__qualname__": getattr(fn, "__qualname__", getattr(fn, "__name__", "function")),
        "__doc__": fn.__doc__,
    }
    return type(getattr(fn, "__name__", "function"), (FunctionTransform,), attrs)


def as_transform_class(obj: Any) -> type[Transform]:
    """The :class:`Transform` subclass for a registered class or function."""
    if inspect.isclass(obj):
        if not issubclass(obj, Transform):
            raise PipelineError(
                f"{obj.__module__}.{obj.__qualname__} is not a runway.Transform subclass; "
                "derive from runway.Transform, or register a plain function"
            )
        return obj
    if callable(obj):
        return function_transform(obj)
    raise PipelineError(f"cannot register {obj!r} as a transform: expected a Transform subclass or a function")


def setup_signature(cls: type[Transform]) -> inspect.Signature:
    """The signature that ``setup_kwargs`` are checked against."""
    if issubclass(cls, FunctionTransform):
        sig = inspect.signature(cls.function)
        params = list(sig.parameters.values())[1:]  # the first one receives the data
        return sig.replace(parameters=[p for p in params if p.name != "use_dummy_data"])
    return inspect.signature(cls.setup)


# --------------------------------------------------------------------------
# The project's own transforms: @register_transform stores them here, and the
# built-in plugin ``core-project`` hands them to ``register_transforms``.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectTransform:
    name: str
    cls: type[Transform]
    module: str


_project_lock = threading.Lock()
_project_transforms: dict[str, ProjectTransform] = {}
_project_generation = 0


def register_transform(
    obj: Any = None,
    *,
    name: str | None = None,
    version: int | str | None = None,
    file_inputs: Sequence[str] | None = None,
    shardable: bool | None = None,
) -> Any:
    """Register a project transform; use as ``@register_transform`` or ``@register_transform(name=...)``.

    ``obj`` is a :class:`Transform` subclass or a plain function
    ``fn(data, **setup_kwargs)``; ``version``, ``file_inputs`` and
    ``shardable`` are for functions (classes declare them as class
    attributes; a shardable function maps a list of rows). The registered name
    (default: the class or function name) is the ``transform_name`` in
    configs. Registering a name that another module already registered is an
    error naming both modules; registering it again from the same module (a
    re-import) replaces it. Returns ``obj`` unchanged.
    """

    def decorate(target: Any) -> Any:
        global _project_generation
        if inspect.isfunction(target):
            cls = function_transform(target, version=version, file_inputs=file_inputs, shardable=shardable)
        else:
            cls = as_transform_class(target)
        registered = name or getattr(target, "__name__", cls.__name__)
        module = getattr(target, "__module__", "?")
        with _project_lock:
            existing = _project_transforms.get(registered)
            if existing is not None and existing.module != module:
                raise PipelineError(
                    f"transform {registered!r} is registered twice: by module {existing.module!r} "
                    f"and by module {module!r}; rename one with @register_transform(name=...)"
                )
            _project_transforms[registered] = ProjectTransform(registered, cls, module)
            _project_generation += 1
        return target

    if obj is None:
        return decorate
    return decorate(obj)


def project_transforms() -> list[ProjectTransform]:
    """The transforms registered with :func:`register_transform` so far."""
    with _project_lock:
        return list(_project_transforms.values())


def project_generation() -> int:
    """A counter that changes whenever a project transform is registered."""
    return _project_generation


def forget_project_transforms(module_prefix: str | None = None) -> None:
    """Drop registered project transforms (all, or those of modules under a prefix).

    For tests and long-lived processes that switch between projects.
    """
    global _project_generation
    with _project_lock:
        for key, entry in list(_project_transforms.items()):
            if module_prefix is None or entry.module == module_prefix or entry.module.startswith(module_prefix + "."):
                del _project_transforms[key]
        _project_generation += 1
