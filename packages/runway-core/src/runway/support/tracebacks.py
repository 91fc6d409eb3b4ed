"""A crash in project code, shown as the project's own frames.

A transform, a model or a metric that raises is called through click,
Runway, Lightning and torch: thirty frames before the user's line. By
default :func:`format_crash` keeps the frames of the project's code (any
file outside the installed libraries, the standard library and Runway
itself), plus the innermost frame where the error was raised when that is
in a library (``F.linear`` complaining about shapes), and says how many it
left out. ``runway --traceback`` (``RUNWAY_TRACEBACK=1``) shows every
frame. A crash with no project frame at all (a bug in Runway or a library)
is shown whole.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import traceback
from functools import lru_cache
from pathlib import Path
from types import TracebackType


@lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    roots = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(str(Path(path).resolve()))
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        roots.add(str(Path(prefix).resolve() / "lib"))
    # Runway and its plugins, wherever they are installed (an editable install lives in a checkout)
    for name, module in list(sys.modules.items()):
        if "." in name or not (name == "runway" or name.startswith("runway_")):
            continue
        file = getattr(module, "__file__", None)
        if file:
            roots.add(str(Path(file).resolve().parent))
    return tuple(sorted(roots))


def is_library_file(filename: str) -> bool:
    """Whether ``filename`` belongs to Python, an installed library or Runway (not the project)."""
    if not filename or filename.startswith("<"):
        return True  # <frozen importlib._bootstrap>, <string>
    try:
        path = str(Path(filename).resolve())
    except (OSError, RuntimeError):
        return False
    return any(path == root or path.startswith(root + os.sep) for root in _library_roots())


def _frames(tb: TracebackType | None) -> list[traceback.FrameSummary]:
    return list(traceback.extract_tb(tb))


def format_crash(exc: BaseException, *, full: bool | None = None) -> str:
    """The traceback of ``exc`` (and of its causes), trimmed to the project's frames unless ``full``."""
    from runway.support.verbosity import full_traceback

    if full is None:
        full = full_traceback()
    if full:
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    frames = _frames(exc.__traceback__)
    own = [i for i, frame in enumerate(frames) if not is_library_file(frame.filename)]
    if not own:
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    keep = list(own)
    if keep[-1] != len(frames) - 1:
        keep.append(len(frames) - 1)  # where it was raised, inside a library
    hidden = len(frames) - len(keep)
    shown = traceback.StackSummary.from_list([frames[i] for i in keep])
    head = "Traceback (most recent call last"
    head += f"; {hidden} frame{'s' if hidden != 1 else ''} of Runway and libraries hidden, `runway --traceback` shows them):\n" if hidden else "):\n"
    tail = "".join(traceback.format_exception_only(type(exc), exc))
    return head + "".join(shown.format()) + tail
