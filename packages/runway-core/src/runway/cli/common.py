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

    def __init__(
        self,
        *args: Any,
        accepts: Callable[[str], bool] = _looks_like_override,
        check: Callable[[str, str, list[str]], None] | None = None,
        **kwargs: Any,
    ):
        kwargs["multiple"] = True
        super().__init__(*args, **kwargs)
        self.accepts = accepts
        self.check = check

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        for flag in self.opts:
            parser_option = parser._long_opt.get(flag) or parser._short_opt.get(flag)
            if parser_option is None:
                continue
            record_one = parser_option.process

            def record_greedily(value: Any, state: Any, _record: Any = record_one, _flag: str = flag) -> None:
                if self.check is not None:
                    self.check(_flag, value, state.rargs)
                _record(value, state)
                while state.rargs and self.accepts(state.rargs[0]):
                    _record(state.rargs.pop(0), state)

            parser_option.process = record_greedily


def check_override_token(flag: str, value: str, following: list[str]) -> None:
    """The first token after ``--opts`` must be an override: ``--opts a.b 3`` says to write ``a.b=3``."""
    nxt = following[0] if following else None
    if value.endswith("=") and nxt is not None and not nxt.startswith("-") and not _looks_like_override(nxt):
        # `--opts train.epochs= 3`: a space after '='
        example = f"{value}{nxt}"
    elif _looks_like_override(value):
        return
    elif nxt is not None and nxt.startswith("="):
        example = f"{value}{nxt}"  # `--opts train.epochs =3`
    elif nxt is not None and not nxt.startswith("-"):
        example = f"{value}={nxt}"
    else:
        example = f"{value}=VALUE"
    raise click.BadOptionUsage(
        flag,
        f"{flag} {value!r}: expected KEY=VALUE, one token; write `{flag} {example}` "
        f"(several: `{flag} a.b=1 c=2`; +NEW.KEY=VALUE adds a key, ~KEY deletes one)",
    )


def opts_option(func: F) -> F:
    """``--opts K=V [K=V ...]`` (repeatable) as the ``opts`` parameter (a tuple)."""
    return click.option(
        "--opts",
        "opts",
        cls=GreedyOption,
        check=check_override_token,
        shell_complete=complete_config_key,
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


# --------------------------------------------------------------------------- shell completion
#
# ``eval "$(_RUNWAY_COMPLETE=bash_source runway)"`` (zsh_source, fish_source)
# turns these on; click completes the commands themselves. Completion never
# fails: a folder outside a project, or a config that does not load, completes nothing.


def _project_or_none() -> Any:
    try:
        from runway.project import Project

        return Project.find()
    except Exception:  # noqa: BLE001 (completion never fails: it completes nothing)
        return None


def experiment_names(project: Any) -> list[str]:
    """The experiments of ``project``: its config files and the names that have versions."""
    from runway.experiment.store import ExperimentStore

    names = {v.name for v in ExperimentStore.for_project(project).all()}
    configs = Path(project.root) / "configs" / "experiments"
    if configs.is_dir():
        for path in configs.rglob("*.jsonnet"):
            names.add(path.relative_to(configs).with_suffix("").as_posix())
    return sorted(names)


def complete_experiment(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Experiment names that start with ``incomplete``."""
    from click.shell_completion import CompletionItem

    project = _project_or_none()
    if project is None:
        return []
    try:
        return [CompletionItem(n) for n in experiment_names(project) if n.startswith(incomplete)]
    except Exception:  # noqa: BLE001 (completion never fails: it completes nothing)
        return []


def complete_version(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """``NAME``, then ``NAME:N`` for its versions, then ``NAME:N:SUFFIX`` for their test runs."""
    from click.shell_completion import CompletionItem

    if ":" not in incomplete:
        return complete_experiment(ctx, param, incomplete)
    project = _project_or_none()
    if project is None:
        return []
    try:
        from runway.experiment.store import ExperimentStore

        store = ExperimentStore.for_project(project)
        name, _, rest = incomplete.partition(":")
        number, sep, _suffix = rest.partition(":")
        if not sep:
            return [CompletionItem(f"{name}:{n}") for n in store.versions(name) if f"{name}:{n}".startswith(incomplete)]
        version = store.get(name, int(number.lstrip("Vv")) if number not in ("", "latest") else None)
        return [CompletionItem(f"{name}:{number}:{t}") for t in version.tests() if f"{name}:{number}:{t}".startswith(incomplete)]
    except Exception:  # noqa: BLE001 (completion never fails: it completes nothing)
        return []


def complete_config_key(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """``dotted.key=`` for the keys of the config that the command's NAME resolves to."""
    from click.shell_completion import CompletionItem

    name = ctx.params.get("name") or ctx.params.get("target")
    if not name:
        # `train NAME --opts <TAB>`: the flag waits for its value, so NAME is still unparsed
        name = next((arg for arg in ctx.args if not arg.startswith("-")), None)
    if not name or "=" in incomplete:
        return []
    try:
        from runway.config import flatten, load_config
        from runway.experiment.address import config_source

        project = _project_or_none()
        if project is None:
            return []
        source, _ = config_source(project, str(name))
        config = load_config(source, project=project)
        prefix = incomplete.lstrip("+~")
        keys = sorted(flatten(config))
        return [CompletionItem(f"{key}=") for key in keys if key.startswith(prefix)]
    except Exception:  # noqa: BLE001 (completion never fails: it completes nothing)
        return []


def complete_metric(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """The metrics of the project's versions (``val/loss``, ``test:accuracy``) for ``list --sort``."""
    from click.shell_completion import CompletionItem

    project = _project_or_none()
    if project is None:
        return []
    try:
        from runway.experiment.listing import metric_names, version_rows

        names = sorted({name for row in version_rows(project) for name in metric_names(row)})
        return [CompletionItem(name) for name in names if name.startswith(incomplete)]
    except Exception:  # noqa: BLE001 (completion never fails: it completes nothing)
        return []
