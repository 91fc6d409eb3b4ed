"""From an experiment name (or a file) to the resolved config that runs.

``load_config`` = evaluate the jsonnet file (or read the YAML file), map
LightningCLI's sections onto Runway's (:mod:`runway.config.lightning_cli`),
apply ``--opts`` (by Runway's keys or LightningCLI's), validate.

External variables every config can read with ``std.extVar(name)`` (all
strings, as jsonnet requires):

``runway.experiment_name``
    the experiment's name: NAME for ``configs/experiments/NAME.jsonnet``, the
    file's stem for ``--config FILE``.
``runway.project_root``
    absolute path of the project root.
``runway.use_dummy_data``
    ``"true"`` when the command asked for dummy data (a quick smoke run),
    else ``"false"``; test it with ``std.extVar('runway.use_dummy_data') == 'true'``.

Extra ``ext_vars`` given by the caller are added (and may replace these).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runway.config.jsonnet import evaluate_file
from runway.config.overrides import Override, apply_overrides, parse_override
from runway.config.validation import validate
from runway.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from runway.plugins.manager import Plugins
    from runway.project import Project

EXT_EXPERIMENT_NAME = "runway.experiment_name"
EXT_PROJECT_ROOT = "runway.project_root"
EXT_USE_DUMMY_DATA = "runway.use_dummy_data"

CONFIG_SUFFIXES = (".jsonnet", ".json", ".yaml", ".yml")
#: what ``configs/experiments/NAME.<suffix>`` may be, in the order looked for
EXPERIMENT_SUFFIXES = (".jsonnet", ".yaml", ".yml")


def is_config_path(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` names a file rather than an experiment.

    A ``Path`` object, or a string ending in ``.jsonnet``/``.json``/``.yaml``/``.yml``, is a file;
    anything else is an experiment name (which may hold ``/`` for a subfolder
    of ``configs/experiments``).
    """
    return not isinstance(source, str) or source.endswith(CONFIG_SUFFIXES)


def experiment_names(project: Project) -> list[str]:
    """Names of the experiment configs (``.jsonnet``, ``.yaml``, ``.yml``) in ``configs/experiments`` (sorted)."""
    folder = project.experiment_configs_dir
    if not folder.is_dir():
        return []
    return sorted(
        {p.relative_to(folder).with_suffix("").as_posix() for suffix in EXPERIMENT_SUFFIXES for p in folder.rglob(f"*{suffix}")}
    )


def experiment_config_path(project: Project, name: str) -> Path:
    """``configs/experiments/NAME.jsonnet`` (or ``NAME.yaml``, ``NAME.yml``); a missing one lists those that exist."""
    found = [project.experiment_configs_dir / f"{name}{suffix}" for suffix in EXPERIMENT_SUFFIXES]
    found = [p for p in found if p.is_file()]
    if len(found) > 1:
        raise ConfigError(f"experiment {name!r} has {len(found)} configs: {', '.join(map(str, found))}; keep one")
    if found:
        return found[0]
    path = project.experiment_configs_dir / f"{name}.jsonnet"
    names = experiment_names(project)
    listing = ", ".join(names) if names else "none yet (create one with `runway experiment NAME`)"
    raise ConfigError(
        f"no experiment config {name!r}: {path} does not exist.{did_you_mean(name, names)} "
        f"Experiment configs in {project.experiment_configs_dir}: {listing}"
    )


def standard_ext_vars(name: str, project_root: Path, *, dummy: bool = False) -> dict[str, str]:
    """The ``std.extVar`` values every config gets (see the module docstring)."""
    return {
        EXT_EXPERIMENT_NAME: name,
        EXT_PROJECT_ROOT: str(project_root),
        EXT_USE_DUMMY_DATA: "true" if dummy else "false",
    }


def load_config(
    source: str | os.PathLike[str],
    *,
    project: Project | None = None,
    opts: Iterable[str | Override] = (),
    ext_vars: Mapping[str, str] | None = None,
    dummy: bool = False,
    plugins: Plugins | None = None,
) -> dict[str, Any]:
    """Evaluate, override and validate an experiment config.

    :param source: an experiment name (``configs/experiments/NAME.jsonnet`` of
        the project) or a path to a ``.jsonnet``/``.json`` file (see
        :func:`is_config_path`).
    :param project: the project; found from the current folder for a name,
        from the file (or its folder) for a path, when ``None``.
    :param opts: ``--opts`` tokens or parsed :class:`Override` objects.
    :param ext_vars: extra ``std.extVar`` values.
    :param dummy: sets ``runway.use_dummy_data`` to ``"true"`` (and a
        ``meta.use_dummy_data: false`` frozen in the file to true).
    :param plugins: whose ``validate_config`` hooks run (default: the
        process-wide plugin manager).
    :returns: the resolved config, a fresh dict.
    :raises ConfigError: evaluation, override or validation failed.
    """
    from runway.project import Project

    if is_config_path(source):
        path = Path(source).resolve()
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        project = project or Project.for_config_file(path)
        name = path.stem
    else:
        name = str(source)
        project = project or Project.find()
        path = experiment_config_path(project, name)
    variables = standard_ext_vars(name, project.root, dummy=dummy)
    variables.update(ext_vars or {})
    config = read_config_file(path, ext_vars=variables, search_paths=[project.configs_dir])
    meta = config.get("meta")
    if dummy and isinstance(meta, dict) and meta.get("use_dummy_data") is False:
        # a config that froze the flag (JSON written by `runway experiment --from`) still
        # records what ran: a --dummy run's config says so
        meta["use_dummy_data"] = True
    # parse every token before applying any, so a typo is reported first
    overrides = [o if isinstance(o, Override) else parse_override(o) for o in opts]
    if overrides:
        config = apply_aliased_overrides(config, overrides)
    validate(config, plugins)
    return config


def read_config_file(path: Path, *, ext_vars: Mapping[str, str], search_paths: Sequence[Path]) -> dict[str, Any]:
    """A config file's value, LightningCLI's sections mapped onto Runway's.

    YAML is read as data (no ``std.extVar`` there); jsonnet may import YAML
    with ``std.native('parseYaml')(importstr 'fit.yaml')`` (see :mod:`runway.config.jsonnet`).
    """
    from runway.config.lightning_cli import YAML_SUFFIXES, map_lightning_cli, read_yaml

    if path.suffix in YAML_SUFFIXES:
        config = read_yaml(path)
    else:
        config = evaluate_file(path, ext_vars=ext_vars, search_paths=search_paths)
    return map_lightning_cli(config, str(path))


def apply_aliased_overrides(config: dict[str, Any], overrides: Sequence[Override]) -> dict[str, Any]:
    """``apply_overrides`` after LightningCLI's keys (``trainer.max_epochs``) are turned into Runway's."""
    from runway.config.lightning_cli import alias_override

    aliased = [alias_override(o) for o in overrides]
    try:
        return apply_overrides(config, aliased)
    except ConfigError as exc:
        renamed = [f"{o.dotted} -> {a.dotted}" for o, a in zip(overrides, aliased) if a.path != o.path]
        if not renamed:
            raise
        raise ConfigError(f"{exc} (LightningCLI keys in --opts address Runway's: {', '.join(renamed)})") from None


def resolve_config(
    name_or_none: str | None,
    config_file: str | Path | None,
    opts: Sequence[str],
    *,
    dummy: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """The project and the resolved config for a command's NAME/--config/--opts.

    With ``--config FILE`` the project is the one around the current folder,
    else the one holding the file (or, outside any project, the file's
    folder); ``runway.experiment_name`` is NAME when given, else the file's
    stem. Without it, NAME is ``configs/experiments/NAME.jsonnet`` of the
    project around the current folder.
    """
    from runway.config import load_config
    from runway.config.loading import EXT_EXPERIMENT_NAME
    from runway.project import Project

    if config_file is not None:
        path = Path(config_file).resolve()
        if not path.is_file():
            raise ConfigError(f"--config {config_file}: no such file")
        project = Project.find(required=False) or Project.for_config_file(path)
        ext_vars = {EXT_EXPERIMENT_NAME: name_or_none} if name_or_none else None
        return project, load_config(path, project=project, opts=opts, ext_vars=ext_vars, dummy=dummy)
    if not name_or_none:
        raise ConfigError("give an experiment NAME or --config FILE")
    project = Project.find()
    return project, load_config(name_or_none, project=project, opts=opts, dummy=dummy)
