"""Where Runway keeps what it caches for the user (not a project's data cache), and short keys for it.

The folder is ``$RUNWAY_CACHE_HOME``, else ``$XDG_CACHE_HOME/runway``, else
``~/.cache/runway``. What lives there is only ever a shortcut: a file that
is missing, damaged or cannot be written costs time, never a result.
This module imports nothing beyond ``os``: the start-up paths read it.
"""

from __future__ import annotations

import os


def cache_home() -> str:
    home = os.environ.get("RUNWAY_CACHE_HOME")
    if home:
        return home
    if os.environ.get("XDG_CACHE_HOME"):
        return os.path.join(os.environ["XDG_CACHE_HOME"], "runway")
    return os.path.join(os.path.expanduser("~"), ".cache", "runway")


def short_key(text: str) -> str:
    """Eight hex digits of FNV-1a over ``text``: names a file per interpreter or environment.

    Not a digest of anything trusted; ``hashlib`` and ``zlib`` are extension
    modules, and finding them on ``sys.path`` costs more than this loop."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


def read_cached_json(path: str) -> dict | None:
    """The JSON object in cache file ``path``; ``None`` when it is missing, unreadable or not a JSON object
    (a cache that cannot be believed is rebuilt, never an error)."""
    import json

    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read())
    except (OSError, ValueError):  # ValueError: not UTF-8, not JSON
        return None
    return data if isinstance(data, dict) else None


def write_cached_json(path: str, data: object) -> None:
    """Write cache file ``path`` atomically (readers never see half of it); a folder that cannot
    be written only means the cache is rebuilt next time."""
    from runway.support.files import write_json

    try:
        write_json(path, data, durable=False)
    except OSError:
        pass
