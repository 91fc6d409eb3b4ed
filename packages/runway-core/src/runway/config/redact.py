"""Hiding secrets before a config leaves the process or lands on disk.

A key is secret when one of its words (split on ``_``, ``-``, ``.``, spaces
and camelCase) is ``secret``, ``secrets``, ``password``, ``passwd``,
``credential(s)`` or ``apikey``, or when its LAST word is ``token`` or
``key``: ``api_key``, ``wandb_token``, ``hf_token``, ``AWS_SECRET_ACCESS_KEY``,
``accessKey``. Plurals and prefixes are not secrets: ``keys_list``,
``max_tokens``, ``tokenizer``, ``token_ids``, ``key_field``. Tokenizer
special tokens (``pad_token``, ``eos_token``, ``mask_token`` ...) are
vocabulary, not credentials, and stay visible.

The value of a secret key becomes ``"***"`` unless it is ``null`` or a
boolean (``use_auth_token: true`` reveals nothing). Containers under a secret
key are replaced whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "***"

_ANYWHERE = frozenset({"secret", "secrets", "password", "passwd", "credential", "credentials", "apikey"})
_AS_LAST_WORD = frozenset({"token", "key"})
# Words in front of "token" that make it a tokenizer's special token.
_VOCABULARY = frozenset({"pad", "eos", "bos", "unk", "sep", "cls", "mask", "start", "end", "special"})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")


def _words(key: str) -> list[str]:
    return [w.lower() for w in _SEPARATORS.split(_CAMEL.sub("_", key)) if w]


def is_secret_key(key: str) -> bool:
    """Whether values under ``key`` are redacted (rules in the module docstring)."""
    words = _words(str(key))
    if not words:
        return False
    if _ANYWHERE.intersection(words):
        return True
    if words[-1] not in _AS_LAST_WORD:
        return False
    return not (words[-1] == "token" and len(words) > 1 and words[-2] in _VOCABULARY)


def redact(config: Any) -> Any:
    """A copy of ``config`` with the values of secret keys replaced by ``"***"``."""
    if isinstance(config, dict):
        out = {}
        for key, value in config.items():
            if is_secret_key(key) and value is not None and not isinstance(value, bool):
                out[key] = REDACTED
            else:
                out[key] = redact(value)
        return out
    if isinstance(config, list):
        return [redact(item) for item in config]
    return config


def redact_argv(argv: Iterable[str]) -> list[str]:
    """A command line with the values of secret ``KEY=VALUE`` tokens replaced by ``"***"``.

    ``runway train exp --opts _svc.api_key=XYZ`` is recorded as
    ``_svc.api_key=***``: a token (``+`` and ``--option=`` prefixes allowed) is
    read as an override, and its value is hidden when any segment of its key
    is secret, as :func:`redact` hides that value in the config. ``null`` and
    boolean values stay, as there.
    """
    return [_redact_token(str(token)) for token in argv]


def _redact_token(token: str) -> str:
    if token.startswith("-"):
        option, sep, value = token.partition("=")
        return option + sep + _redact_token(value) if sep and token.startswith("--") else token
    from runway.config.paths import split_key
    from runway.errors import ConfigError

    try:
        segments, value = split_key(token[1:] if token.startswith("+") else token)
    except ConfigError:
        return token
    if value is None or value in ("null", "true", "false") or not any(is_secret_key(s) for s in segments):
        return token
    return token[: len(token) - len(value)] + REDACTED
