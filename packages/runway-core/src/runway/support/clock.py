"""The one timestamp format of every record Runway writes: UTC, ISO 8601, to the second."""

from __future__ import annotations

import time


def now_iso() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
