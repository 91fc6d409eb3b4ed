"""Built-in plugin ``core-compat``: a runway_for_ml key left in a config is
reported with the Runway key that replaces it.

Top-level seed keys are reported by the section check itself (it asks
:func:`runway.compat.keys.seed_key_hint`); this hook reports those inside
sections (``executor.ExecutorClass``, ``meta.logger_enable``, ...), which no
other check would refuse.
"""

from __future__ import annotations

from runway.compat.keys import seed_key_hint, seed_keys_in
from runway.hookspecs import hookimpl


@hookimpl
def validate_config(config: dict) -> list[str]:
    return [seed_key_hint(key) or key for key in seed_keys_in(config) if "." in key]
