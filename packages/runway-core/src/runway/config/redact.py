"""Hiding secrets before a value leaves the process or lands on disk.

One policy, used for every place a value goes (``config.json``, provenance
and its recorded command line, tags, the console, ``list``/``show``, sweep
ledgers and status, every logger):

* **Secret keys.** A key is secret when one of its words (split on ``_``,
  ``-``, ``.``, spaces and camelCase) is ``secret(s)``, ``password``,
  ``passwd``, ``pwd``, ``passphrase``, ``credential(s)``, ``apikey``,
  ``auth``, ``oauth``, ``authorization``, ``bearer``, ``cookie(s)`` or
  ``session``, or when its LAST word (trailing version words such as ``v2``
  or ``2`` aside) is ``token`` or ``key``: ``api_key``, ``wandb_token``,
  ``hf_token``, ``access_token_v2``, ``private_key``,
  ``AWS_SECRET_ACCESS_KEY``, ``accessKey``. Plurals and prefixes are not
  secrets: ``keys_list``, ``max_tokens``, ``tokenizer``, ``token_ids``,
  ``key_field``. Tokenizer special tokens (``pad_token``, ``eos_token``,
  ``mask_token`` ...) are vocabulary, not credentials, and stay visible.
  The value of a secret key becomes ``"***"`` unless it is ``null`` or a
  boolean (``use_auth_token: true`` reveals nothing); containers under a
  secret key are replaced whole.
* **Credentials inside any string**: the password of a URL
  (``https://user:pw@host`` becomes ``https://user:***@host``), query
  parameters with a secret name (``?api_key=...``) and a string that is
  one assignment to a secret name (a tag ``api_key=...``).
* **Command lines and tags** (:func:`redact_argv`): a ``KEY=VALUE`` token
  (``+`` and ``--option=`` prefixes allowed) is read as an override; its
  value is hidden when a segment of its key is secret, a JSON object or
  array value is redacted inside (``+svc={"api_key": "..."}``) and any
  other value has its URL credentials hidden.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from runway.support.lazy import LazyPattern

REDACTED = "***"

_ANYWHERE = frozenset(
    {
        "secret", "secrets", "password", "passwords", "passwd", "pwd", "passphrase", "credential", "credentials",
        "apikey", "auth", "oauth", "authorization", "bearer", "cookie", "cookies", "session",
    }
)
_AS_LAST_WORD = frozenset({"token", "key"})
# Words in front of "token" that make it a tokenizer's special token.
_VOCABULARY = frozenset({"pad", "eos", "bos", "unk", "sep", "cls", "mask", "start", "end", "special"})
# Trailing words that only number a key: access_token_v2, api_key_2.
_VERSION_WORD = LazyPattern(r"v?\d+")
_NUMBERED = LazyPattern(r"(token|key)\d+")

_CAMEL = LazyPattern(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = LazyPattern(r"[^A-Za-z0-9]+")
# scheme://user:password@ : RFC 3986 keeps '@' and '/' out of the userinfo (they are %-encoded)
_URL_PASSWORD = LazyPattern(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@]*:)(?P<password>[^\s@/]+)(?=@)")
_QUERY_PARAMETER = LazyPattern(r"(?P<head>[?&;](?P<name>[^=&;#\s]+)=)(?P<value>[^&;#\s]*)")
# a whole string that is one assignment: a tag such as "api_key=..."
_ASSIGNMENT = LazyPattern(r"(?P<head>(?P<name>[A-Za-z_][\w.\-]*)=)(?P<value>.+)", re.S)


def _words(key: str) -> list[str]:
    return [w.lower() for w in _SEPARATORS.split(_CAMEL.sub("_", key)) if w]


def is_secret_key(key: str) -> bool:
    """Whether values under ``key`` are redacted (rules in the module docstring)."""
    words = _words(str(key))
    if _ANYWHERE.intersection(words):
        return True
    while len(words) > 1 and _VERSION_WORD.fullmatch(words[-1]):
        words.pop()
    if not words:
        return False
    last = words[-1]
    if _NUMBERED.fullmatch(last):
        return True
    if last not in _AS_LAST_WORD:
        return False
    return not (last == "token" and len(words) > 1 and words[-2] in _VOCABULARY)


def redact_text(text: str) -> str:
    """``text`` with URL passwords and secret query parameters replaced by ``"***"``."""
    if "://" not in text and "=" not in text:
        return text
    text = _URL_PASSWORD.sub(lambda m: m["head"] + REDACTED, text)
    if "=" in text:
        assignment = _ASSIGNMENT.fullmatch(text)
        if assignment and is_secret_key(assignment["name"]) and assignment["value"] not in ("null", "true", "false"):
            return assignment["head"] + REDACTED
        text = _QUERY_PARAMETER.sub(
            lambda m: m["head"] + REDACTED if is_secret_key(m["name"]) and m["value"] else m[0], text
        )
    return text


def _hidden(value: Any) -> bool:
    return value is not None and not isinstance(value, bool)


def redact(config: Any) -> Any:
    """A copy of ``config`` with secret keys' values replaced by ``"***"`` and
    credentials in its strings hidden (rules in the module docstring)."""
    if isinstance(config, Mapping):
        out = {}
        for key, value in config.items():
            out[key] = REDACTED if is_secret_key(key) and _hidden(value) else redact(value)
        return out
    if isinstance(config, (list, tuple)):
        return [redact(item) for item in config]
    if isinstance(config, str):
        return redact_text(config)
    return config


def redact_argv(argv: Iterable[str]) -> list[str]:
    """A command line (or a list of ``--tag`` values) with secrets replaced by ``"***"``.

    ``runway train exp --opts _svc.api_key=XYZ`` is recorded as
    ``_svc.api_key=***``; ``+svc={"api_key": "XYZ"}`` as
    ``+svc={"api_key": "***"}``; ``--tag db=http://u:pw@h`` as
    ``db=http://u:***@h``. ``null`` and boolean values stay, as in
    :func:`redact`.
    """
    return [_redact_token(str(token)) for token in argv]


def _redact_token(token: str) -> str:
    if token.startswith("-"):
        option, sep, value = token.partition("=")
        return option + sep + _redact_token(value) if sep and token.startswith("--") else redact_text(token)
    from runway.config.paths import split_key
    from runway.errors import ConfigError

    try:
        segments, value = split_key(token[1:] if token.startswith(("+", "~")) else token)
    except (ConfigError, RecursionError):
        return redact_text(token)
    if value is None:
        return redact_text(token)
    head = token[: len(token) - len(value)]
    if value in ("null", "true", "false"):
        return token
    if any(is_secret_key(s) for s in segments):
        return head + REDACTED
    return head + _redact_value_text(value)


def _redact_value_text(value: str) -> str:
    """An override's value: JSON containers redacted inside, other text's credentials hidden."""
    if value[:1] in ("{", "["):
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            return redact_text(value)
        shown = redact(parsed)
        return value if shown == parsed else json.dumps(shown, ensure_ascii=False)
    return redact_text(value)


def redact_mapping(tags: Mapping[str, Any]) -> dict[str, Any]:
    """Tags or params by name: secret names' values hidden, credentials in every value hidden."""
    return {str(k): REDACTED if is_secret_key(str(k)) and _hidden(v) else redact(v) for k, v in tags.items()}
