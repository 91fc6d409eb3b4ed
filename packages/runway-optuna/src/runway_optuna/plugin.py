"""Plugin ``optuna``: registers the ``optuna`` sweeper.

Kept light: optuna is imported when a sweeper is built, never by
``runway --help`` or ``runway plugins``.
"""

from __future__ import annotations

from typing import Any

import runway


def optuna_sweeper(search: Any) -> Any:
    """The factory that ``runway sweep --sweeper optuna`` calls."""
    from runway_optuna.sweeper import OptunaSweeper

    return OptunaSweeper(search)


optuna_sweeper.adaptive = True  # type: ignore[attr-defined]  # asked as the search runs, not all at the start


@runway.hookimpl
def register_sweepers(register):
    register(optuna_sweeper, name="optuna")
