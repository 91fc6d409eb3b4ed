"""Loading a ``transformers`` tokenizer from a path or a ``tokenizer_config``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runway.errors import PipelineError, PluginError

#: keys of ``tokenizer_config`` that are ours; the rest go to ``from_pretrained``
CONFIG_KEYS = ("tokenizer_path", "tokenizer_name", "tokenizer_class", "tokenize_kwargs")

INSTALL_HINT = "install the extra: pip install 'runway-hf[transformers]'"


def require_transformers() -> Any:
    """``import transformers``, or a :class:`PluginError` saying how to install it."""
    try:
        import transformers
    except ImportError as exc:
        raise PluginError(f"this needs the transformers package ({exc}); {INSTALL_HINT}") from None
    return transformers


def tokenizer_class(name: str, *, where: str) -> Any:
    """``AutoTokenizer``, ``PreTrainedTokenizerFast``, ``T5TokenizerFast`` ... by name."""
    transformers = require_transformers()
    import inspect

    cls = getattr(transformers, name, None)
    # a class with from_pretrained, never some other attribute of the package
    if cls is None or not inspect.isclass(cls) or not hasattr(cls, "from_pretrained"):
        raise PipelineError(f"{where}.tokenizer_class: transformers has no tokenizer class {name!r}")
    return cls


def load_tokenizer(
    *,
    tokenizer_path: str | None,
    tokenizer_config: Mapping[str, Any] | None,
    resolve: Callable[[str], Path],
    where: str,
) -> Any:
    """The tokenizer that a node's setup kwargs describe.

    ``tokenizer_path`` (a local folder) or ``tokenizer_config`` with
    ``tokenizer_path`` (local, relative to the project root) or
    ``tokenizer_name`` (a hub name, where a network or the hub cache has it),
    optional ``tokenizer_class`` (default ``AutoTokenizer``); other keys of
    ``tokenizer_config`` except ``tokenize_kwargs`` go to ``from_pretrained``.
    """
    config = dict(tokenizer_config or {})
    if tokenizer_path is not None and config.get("tokenizer_path") is not None:
        raise PipelineError(f"{where}: give tokenizer_path or tokenizer_config.tokenizer_path, not both")
    local = tokenizer_path if tokenizer_path is not None else config.get("tokenizer_path")
    hub_name = config.get("tokenizer_name")
    if (local is None) == (hub_name is None):
        raise PipelineError(
            f"{where}: give a tokenizer: tokenizer_path (a local folder), or tokenizer_config with "
            "tokenizer_path or tokenizer_name"
        )
    cls = tokenizer_class(str(config.get("tokenizer_class", "AutoTokenizer")), where=f"{where}.tokenizer_config")
    extra = {k: v for k, v in config.items() if k not in CONFIG_KEYS}
    if local is not None:
        path = resolve(str(local))
        if not path.exists():
            key = "tokenizer_path" if tokenizer_path is not None else "tokenizer_config.tokenizer_path"
            raise PipelineError(f"{where}.{key}: folder {str(local)!r} does not exist (looked at {path})")
        source = str(path)
    else:
        source = str(hub_name)
    try:
        return cls.from_pretrained(source, **extra)
    except (OSError, ValueError) as exc:
        raise PipelineError(f"{where}: cannot load tokenizer {source!r} with {cls.__name__}: {exc}") from None


#: the keys of runway_for_ml's ``tokenizer_config``; one of the first two marks that schema
SEED_CONFIG_KEYS = ("version_name", "class_name", "from_pretrained_kwargs", "additional_tokens", "tokenize_kwargs")


def is_seed_tokenizer_config(config: Mapping[str, Any] | None) -> bool:
    """Whether ``config`` is written in runway_for_ml's schema (``version_name``/``class_name``)."""
    return isinstance(config, Mapping) and ("version_name" in config or "class_name" in config)


def get_tokenizer(tokenizer_config: Mapping[str, Any], *, resolve: Callable[[str], Path] | None = None, where: str = "tokenizer_config") -> Any:
    """A tokenizer from runway_for_ml's ``tokenizer_config``, with that schema's meaning.

    ``class_name`` (a ``transformers`` class, default ``AutoTokenizer``)
    ``.from_pretrained(version_name, **from_pretrained_kwargs)``, a local
    folder where ``version_name`` names one under the project root; GPT-2
    tokenizers get ``[PAD]`` as their pad token; ``additional_tokens`` are
    added.
    """
    name = tokenizer_config.get("version_name")
    if not isinstance(name, str) or not name:
        raise PipelineError(f"{where}.version_name: name the tokenizer (a hub name or a local folder)")
    class_name = str(tokenizer_config.get("class_name") or "AutoTokenizer")
    cls = tokenizer_class(class_name, where=where)
    source = name
    if resolve is not None:
        local = resolve(name)
        if local.exists():
            source = str(local)
    kwargs = dict(tokenizer_config.get("from_pretrained_kwargs") or {})
    try:
        tokenizer = cls.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        raise PipelineError(f"{where}: cannot load tokenizer {name!r} with {class_name}: {exc}") from None
    if class_name.startswith("GPT2"):
        tokenizer.pad_token = "[PAD]"
    extra = tokenizer_config.get("additional_tokens") or []
    if extra:
        tokenizer.add_tokens(list(extra))
    return tokenizer
