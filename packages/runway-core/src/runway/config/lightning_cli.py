"""LightningCLI configs as Runway configs: the YAML that ``main.py fit --print_config`` writes.

A config (a ``.yaml``/``.yml`` file, or jsonnet that imports one with
``std.native('parseYaml')(importstr 'fit.yaml')``) holding any of LightningCLI's
sections is mapped onto Runway's, with the meaning LightningCLI gives them:

==================================  ==========================================================
LightningCLI                         Runway
==================================  ==========================================================
``model: {class_path, init_args}``   ``executor: {class_path, init_args}``
``data: {class_path, init_args}``    ``datamodule: {class_path, init_args}``
``trainer.max_epochs``               ``train.epochs`` (``null``: Lightning's rule, 1000 epochs
                                     unless ``max_steps``/``max_time`` bound the fit)
``trainer.log_every_n_steps``        ``train.log_every_n_steps``
``trainer.<argument>``               ``train.trainer_paras.<argument>`` (``callbacks``, ``logger``,
                                     ``plugins``, ``profiler`` as ``class_path`` objects)
``optimizer``, ``lr_scheduler``      ``executor.optimizer``, ``executor.lr_scheduler``
``seed_everything``                  ``meta.seed`` (``true``: a seed drawn now and recorded in the
                                     resolved config, as LightningCLI records it; ``false``: no seeding)
``ckpt_path``, ``weights_only``      ``train.ckpt_path``, ``train.ckpt_weights_only``
==================================  ==========================================================

A ``trainer`` value equal to ``lightning.Trainer``'s own default, or ``null``,
says nothing and is left out, so Runway's defaults apply where Runway has one
(``log_every_n_steps`` 10, ``deterministic``, no model summary).
``default_root_dir`` is left out: the version folder is where a run writes.
``enable_checkpointing`` is left out too: Runway always keeps ``best.ckpt``
and ``last.ckpt``. ``logger: null`` means Runway's loggers; a ``class_path``
logger is added beside them.

A ``model`` (or ``data``) section without ``class_path`` comes from
``LightningCLI(MyModel)``, which fixes the class in code: its values become
``init_args`` and the class is named with ``--opts +model.class_path=pkg.MyModel``.

A section given both ways (``trainer.max_epochs`` and ``train.epochs`` with
different values, say) is an error rather than a silent choice.

``--opts`` takes LightningCLI's keys too (:func:`alias_override`):
``trainer.max_epochs=3`` sets ``train.epochs``, ``model.init_args.lr=0.1``
sets ``executor.init_args.lr``, ``model.lr=0.1`` the same (jsonargparse's
shorthand), ``trainer.limit_train_batches=4`` adds the Trainer argument
when the config leaves it at its default.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from runway.errors import ConfigError, did_you_mean

#: the top-level keys of a LightningCLI ``fit`` config
LIGHTNING_CLI_KEYS = ("seed_everything", "trainer", "model", "data", "optimizer", "lr_scheduler", "ckpt_path", "weights_only")
#: keys whose presence makes a config a LightningCLI one
_MARKERS = ("trainer", "model", "data", "seed_everything", "ckpt_path", "optimizer", "lr_scheduler")
#: trainer arguments that are Runway's own settings
TRAINER_TO_TRAIN = {"max_epochs": "epochs", "log_every_n_steps": "log_every_n_steps"}
#: trainer arguments the version folder and Runway's checkpoints stand for
TRAINER_DROPPED = ("default_root_dir", "enable_checkpointing")
#: Lightning's epochs when neither max_epochs nor max_steps nor max_time is given
LIGHTNING_DEFAULT_EPOCHS = 1000
YAML_SUFFIXES = (".yaml", ".yml")
_CLASS_KEYS = ("class_path", "init_args", "dict_kwargs")


def is_lightning_cli(config: Mapping[str, Any]) -> bool:
    """Whether ``config`` holds any of LightningCLI's sections."""
    return isinstance(config, Mapping) and any(key in config for key in _MARKERS)


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A YAML file as a dict; a syntax error names ``file:line:column``."""
    import yaml

    file = Path(path)
    try:
        with open(file, encoding="utf-8") as fh:
            value = yaml.safe_load(fh)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(file)
        raise ConfigError(f"{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: {exc}") from None
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ConfigError(f"{file}: a config must be a mapping at the top, not {type(value).__name__}")
    return value


@functools.cache
def trainer_defaults() -> dict[str, Any]:
    """``lightning.Trainer``'s arguments and their defaults."""
    import inspect

    from lightning.pytorch import Trainer

    return {
        name: p.default
        for name, p in inspect.signature(Trainer.__init__).parameters.items()
        if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def _class_section(value: Any, where: str) -> dict[str, Any] | None:
    """``{class_path, init_args}`` of a ``model``/``data``/``optimizer`` section (``None``: not given)."""
    if value is None or value == {}:
        return None
    if isinstance(value, str):
        return {"class_path": value, "init_args": {}}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected {{class_path: ..., init_args: ...}}, got {value!r}")
    if "class_path" not in value:
        return {"init_args": dict(value)}  # LightningCLI(MyModel): the class is fixed in code
    unknown = [k for k in value if k not in _CLASS_KEYS]
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key.{did_you_mean(str(unknown[0]), _CLASS_KEYS)}")
    init_args = {**dict(value.get("init_args") or {}), **dict(value.get("dict_kwargs") or {})}
    return {"class_path": value["class_path"], "init_args": init_args}


def _seed(value: Any) -> Any:
    """``seed_everything``'s value as ``meta.seed``."""
    if value is True:
        import random

        return random.SystemRandom().randint(0, 2**32 - 1)
    if value is False or isinstance(value, int):
        return value
    raise ConfigError(f"seed_everything: expected an integer, true or false, got {value!r}")


def _trainer(trainer: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``trainer`` as ``(train settings, trainer_paras)``."""
    if trainer is None:
        return {}, {}
    if not isinstance(trainer, Mapping):
        raise ConfigError(f"trainer: expected an object of lightning.Trainer arguments, got {trainer!r}")
    defaults = trainer_defaults()
    problems = [
        f"trainer.{key}: not an argument of lightning.Trainer.{did_you_mean(str(key), defaults)}"
        for key in trainer
        if key not in defaults
    ]
    if problems:
        from runway.experiment.settings import raise_problems

        raise_problems(problems)
    train: dict[str, Any] = {}
    paras: dict[str, Any] = {}
    for key, value in trainer.items():
        if key in TRAINER_TO_TRAIN:
            if value is not None:
                train[TRAINER_TO_TRAIN[key]] = value
        elif key in TRAINER_DROPPED or key == "logger" and value is True:
            continue
        elif value is None or _same(value, defaults[key]):
            continue
        else:
            paras[key] = value
    if trainer.get("max_epochs") is None:
        # Lightning's rule for an unset max_epochs, which LightningCLI leaves to the Trainer
        bounded = trainer.get("max_steps") not in (None, -1) or trainer.get("max_time") is not None
        if bounded:
            paras["max_epochs"] = -1
        else:
            train["epochs"] = LIGHTNING_DEFAULT_EPOCHS
    return train, paras


def _same(value: Any, default: Any) -> bool:
    try:
        return type(value) is type(default) and value == default
    except Exception:  # a default that does not compare (a sentinel object)
        return False


def _merge(target: dict[str, Any], key: str, value: Any, lightning_key: str) -> None:
    """Set ``target[key]``, refusing a different value already there."""
    if key in target and target[key] != value:
        raise ConfigError(
            f"{lightning_key} ({value!r}) and the Runway setting it maps to ({target[key]!r}) are both given; keep one"
        )
    target[key] = value


def _section(config: dict[str, Any], name: str) -> dict[str, Any]:
    value = config.get(name)
    if value is None:
        value = config[name] = {}
    if not isinstance(value, dict):
        raise ConfigError(f"{name}: expected an object, got {value!r}")
    return value


def map_lightning_cli(config: Mapping[str, Any], where: str = "the config") -> dict[str, Any]:
    """``config`` with LightningCLI's sections mapped onto Runway's (a new dict; see the module docstring).

    A config without LightningCLI sections comes back unchanged (as a copy).
    """
    from runway.config.overrides import copy_json

    result = copy_json(dict(config))
    if not is_lightning_cli(result):
        return result
    from runway.config.validation import SECTIONS

    for key in list(result):
        if key in LIGHTNING_CLI_KEYS or key in SECTIONS or str(key).startswith("_"):
            continue
        suggestion = did_you_mean(str(key), LIGHTNING_CLI_KEYS)
        if suggestion:
            raise ConfigError(f"{where}: {key}: unknown LightningCLI key.{suggestion}")

    train_values, paras = _trainer(result.pop("trainer", None))
    if train_values or paras:
        train = _section(result, "train")
        for key, value in train_values.items():
            _merge(train, key, value, f"trainer.{'max_epochs' if key == 'epochs' else key}")
        if paras:
            existing = train.setdefault("trainer_paras", {})
            for key, value in paras.items():
                _merge(existing, key, value, f"trainer.{key}")

    for lightning_key, section in (("model", "executor"), ("data", "datamodule")):
        spec = _class_section(result.pop(lightning_key, None), lightning_key)
        if spec is None:
            continue
        target = _section(result, section)
        for key, value in spec.items():
            _merge(target, key, value, f"{lightning_key}.{key}")

    for lightning_key in ("optimizer", "lr_scheduler"):
        spec = _class_section(result.pop(lightning_key, None), lightning_key)
        if spec is None:
            continue
        if "class_path" not in spec:
            raise ConfigError(f"{lightning_key}: expected {{class_path: ..., init_args: ...}}, got {spec['init_args']!r}")
        _merge(_section(result, "executor"), lightning_key, spec, lightning_key)

    if "seed_everything" in result:
        value = result.pop("seed_everything")
        if value is not None:
            _merge(_section(result, "meta"), "seed", _seed(value), "seed_everything")
    for lightning_key, key in (("ckpt_path", "ckpt_path"), ("weights_only", "ckpt_weights_only")):
        if lightning_key in result:
            value = result.pop(lightning_key)
            if value is not None:
                _merge(_section(result, "train"), key, value, lightning_key)
    return result


# --------------------------------------------------------------------------- --opts by LightningCLI keys


def alias_path(path: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """Runway's path for a LightningCLI ``--opts`` path, and whether a plain set may add the key.

    A path that is not LightningCLI's comes back as it is.
    """
    head, rest = path[0], path[1:]
    if head == "trainer" and rest:
        if rest[0] in TRAINER_TO_TRAIN:
            return ("train", TRAINER_TO_TRAIN[rest[0]], *rest[1:]), len(rest) == 1
        # every Trainer argument exists in LightningCLI's view, even when left at its default here
        return ("train", "trainer_paras", *rest), len(rest) == 1 and rest[0] in trainer_defaults()
    if head in ("model", "data") and rest:
        section = "executor" if head == "model" else "datamodule"
        if rest[0] in ("class_path", "init_args"):
            return (section, *rest), rest[0] == "class_path"
        return (section, "init_args", *rest), False
    if head in ("optimizer", "lr_scheduler"):
        if rest and rest[0] not in ("class_path", "init_args"):
            rest = ("init_args", *rest)
        return ("executor", head, *rest), not rest
    if head == "seed_everything" and not rest:
        return ("meta", "seed"), True
    if head == "ckpt_path" and not rest:
        return ("train", "ckpt_path"), True
    return path, False


def alias_override(override: Any) -> Any:
    """An ``--opts`` override by LightningCLI's keys, addressed by Runway's (others unchanged)."""
    if not override.path or override.path[0] not in _MARKERS:
        return override
    path, may_add = alias_path(tuple(override.path))
    if path == tuple(override.path):
        return override
    value = override.value
    if override.op == "delete":
        pass
    elif path == ("meta", "seed"):
        value = _seed(value)
    elif path == ("executor", "optimizer") or path == ("executor", "lr_scheduler"):
        value = _class_section(value, override.path[0])
    op = "add" if may_add and override.op == "set" else override.op
    return replace(override, op=op, path=path, value=value)
