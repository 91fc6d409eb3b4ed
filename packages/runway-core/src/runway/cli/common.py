"""Options and helpers that every command taking an experiment config shares.

``@opts_option`` adds ``--opts K=V ...``: one flag takes every following
token that looks like an override (``K=V``, ``+K=V`` or ``~K``) and stops at
the first that starts with ``-`` or does not look like one, so both
``runway train exp --opts a=1 b.c=2 --launcher local`` and
``runway train --opts a=1 exp`` work. The flag may be repeated; the
command receives every token, in order, as a tuple.

``@config_option`` adds ``--config FILE``; :func:`resolve_config` turns
``NAME``/``--config``/``--opts`` into the project and the resolved config.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click


F = TypeVar("F", bound=Callable[..., Any])


def _looks_like_override(token: str) -> bool:
    return not token.startswith("-") and ("=" in token or token.startswith("~"))


class GreedyOption(click.Option):
    """A ``multiple=True`` option whose one flag takes several values.

    Click has no variadic options, so this wraps the parser's handling of
    this flag: after the value click takes, it keeps taking the following
    tokens for which ``accepts(token)`` holds and records each as if the
    flag had been written again before it.
    """

    def __init__(self, *args: Any, accepts: Callable[[str], bool] = _looks_like_override, **kwargs: Any):
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)
        self.accepts = accepts

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        for flag in self.opts:
            parser_option = parser._long_opt.get(flag) or parser._short_opt.get(flag)
            if parser_option is None:
                continue
            record_one = parser_option.process

            def record_greedily(value: Any, state: Any, _record: Any = record_one) -> None:
                _record(value, state)
                while state.rargs and self.accepts(state.rargs[0]):
                    _record(state.rargs.pop(0), state)

            parser_option.process = record_greedily


def opts_option(func: F) -> F:
    """``--opts K=V [K=V ...]`` (repeatable) as the ``opts`` parameter (a tuple)."""
    return click.option(
        "--opts",
        "opts",
        cls=GreedyOption,
        metavar="K=V ...",
        help=(
            "Override config values: a.b=VALUE (a JSON literal, else a string), a.list.0=VALUE, "
            "+new.key=VALUE to add, ~a.key to delete. Takes several; may be repeated."
        ),
    )(func)


def config_option(func: F) -> F:
    """``--config FILE`` as the ``config_file`` parameter (a ``Path`` or ``None``)."""
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Use this config file instead of configs/experiments/NAME.jsonnet: jsonnet, JSON or YAML (LightningCLI's own fit config too).",
    )(func)
