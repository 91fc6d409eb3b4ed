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
    cls = getattr(transformers, name, None)
    if cls is None or not hasattr(cls, "from_pretrained"):
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
