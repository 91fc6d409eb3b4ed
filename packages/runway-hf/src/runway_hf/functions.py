"""Functions that ``HFDatasetFilter`` and ``HFDatasetMap`` can name in a config.

A config cannot hold code, so a filter or map names a function registered
here::

    import runway_hf

    @runway_hf.register_hf_function
    def is_long(example, min_words=5):
        return len(example["text"].split()) >= min_words

and the node says ``{transform_name: "HFDatasetFilter", setup_kwargs:
{function_name: "is_long", fn_kwargs: {min_words: 8}}}`` (``function`` is a
jsonnet keyword, hence the longer name). A project registers its
functions in a module of its code folders, which Runway imports before the
pipeline runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar, overload

from runway.errors import PipelineError

F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.Lock()
_functions: dict[str, tuple[Callable[..., Any], str]] = {}


@overload
def register_hf_function(fn: F, *, name: str | None = None) -> F: ...


@overload
def register_hf_function(fn: None = None, *, name: str | None = None) -> Callable[[F], F]: ...


def register_hf_function(fn: Any = None, *, name: str | None = None) -> Any:
    """Register ``fn`` under its name (or ``name=``); use bare or with arguments.

    Registering a name that another module already holds is an error naming
    both modules; re-registering from the same module (a re-import) replaces
    it. Returns ``fn`` unchanged.
    """

    def decorate(target: F) -> F:
        if not callable(target):
            raise PipelineError(f"register_hf_function: {target!r} is not callable")
        registered = name or target.__name__
        module = getattr(target, "__module__", "?")
        with _lock:
            existing = _functions.get(registered)
            if existing is not None and existing[1] != module:
                raise PipelineError(
                    f"hf function {registered!r} is registered twice: by module {existing[1]!r} "
                    f"and by module {module!r}; pass name= to one of them"
                )
            _functions[registered] = (target, module)
        return target

    if fn is None:
        return decorate
    return decorate(fn)


def registered_hf_functions() -> list[str]:
    """The registered names, sorted."""
    with _lock:
        return sorted(_functions)


def get_hf_function(name: str, *, where: str) -> Callable[..., Any]:
    """The function registered as ``name``; the error lists what is registered."""
    with _lock:
        found = _functions.get(name)
        names = sorted(_functions)
    if found is not None:
        return found[0]
    from runway.errors import did_you_mean

    listing = ", ".join(names) if names else "none (register one with @runway_hf.register_hf_function)"
    raise PipelineError(f"{where}: unknown hf function {name!r}.{did_you_mean(name, names)} Registered: {listing}")


def forget_hf_function(name: str) -> None:
    """Drop a registered function (tests, long-lived processes)."""
    with _lock:
        _functions.pop(name, None)
