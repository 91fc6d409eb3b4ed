"""Evaluating jsonnet with Google's Go implementation, with readable errors.

Why ``gojsonnet`` and not the ``jsonnet`` (C++) binding: on a 300-key config
spread over six files the C++ interpreter takes ~160 ms and go-jsonnet ~7 ms
(``benchmarks/bench_config.py`` measures both), and every command evaluates a
config before it does anything else. Both implement the same language.

Imports resolve first relative to the importing file, then in the library
search paths (the project's ``configs/`` folder, then any extra ones); when
two search paths hold the same file the LAST one wins, as in jsonnet's ``-J``.

YAML imports: ``std.native('parseYaml')(importstr 'fit.yaml')`` reads a YAML
file as LightningCLI reads it (PyYAML, YAML 1.1's booleans only for
``true``/``false``/``yes``/``no``/``on``/``off``). go-jsonnet's own
``std.parseYaml`` also reads ``y`` and ``n`` as booleans, so a key ``n:`` becomes
``false``: use the native one for LightningCLI's configs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runway.errors import ConfigError

# A location as jsonnet prints it: "file:3:6-18", "file:3:6" or "file:(3:6)-(4:2)".
_LOCATION = re.compile(r"^(?P<file>.+?):\(?(?P<line>\d+):(?P<column>\d+)(?:\)?-\(?[\d:]+\)?)?(?=[\s]|$)")
_RUNTIME_PREFIX = "RUNTIME ERROR: "
_MISSING_IMPORT = re.compile(r'couldn\'t open import "(?P<name>[^"]*)": no match locally or in the Jsonnet library paths')


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def _location(text: str) -> tuple[Location | None, str]:
    """A leading location in ``text`` and what follows it."""
    match = _LOCATION.match(text.strip())
    if match is None or not os.path.basename(match["file"]):
        return None, text
    loc = Location(match["file"], int(match["line"]), int(match["column"]))
    return loc, text.strip()[match.end() :].strip()


def _looked_in(importer: str | None, search_paths: Sequence[str]) -> str:
    places = []
    if importer:
        places.append(f"{os.path.dirname(importer) or '.'} (next to {os.path.basename(importer)})")
    # go-jsonnet tries the last search path first
    places.extend(f"{p} (library path)" for p in reversed(search_paths))
    return "; looked in: " + ", ".join(places) if places else ""


def translate_error(raw: str, path: str, search_paths: Sequence[str]) -> ConfigError:
    """Turn go-jsonnet's error text into a ConfigError that leads with file:line:col."""
    text = raw.rstrip()
    runtime = text.startswith(_RUNTIME_PREFIX)
    if runtime:
        text = text[len(_RUNTIME_PREFIX) :]
    head, _, rest = text.partition("\n")
    frames = [line.strip() for line in rest.splitlines() if line.strip()]
    # A syntax error (in the file itself or in an import) starts with its location;
    # a runtime error's location is the innermost stack frame.
    location, message = _location(head)
    if location is None:
        message = head
        for frame in frames:
            location, _ = _location(frame.split("\t")[0])
            if location is not None:
                break
    missing = _MISSING_IMPORT.search(message)
    if missing is not None:
        importer = location.file if location else path
        message = f"cannot find import {missing['name']!r}" + _looked_in(importer, search_paths)
    where = str(location) if location is not None else path
    detail = ""
    if frames and runtime:
        detail = "\n  jsonnet stack:\n" + "\n".join(f"    {f.replace(chr(9), '  ')}" for f in frames)
    elif not runtime and rest.strip():
        detail = "\n" + "\n".join(f"  {line}" for line in rest.strip("\n").splitlines())
    return ConfigError(f"{where}: {message}{detail}")


def parse_yaml(text: str) -> Any:
    """``std.native('parseYaml')``: YAML text as LightningCLI reads it."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"parseYaml: {exc}") from None


NATIVE_CALLBACKS = {"parseYaml": (("text",), parse_yaml)}


def _import_gojsonnet() -> Any:
    try:
        import _gojsonnet
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ConfigError("cannot evaluate jsonnet: the 'gojsonnet' package is not installed") from exc
    return _gojsonnet


def evaluate_file(
    path: str | os.PathLike[str],
    *,
    ext_vars: Mapping[str, str] | None = None,
    search_paths: Sequence[str | os.PathLike[str]] = (),
) -> dict[str, Any]:
    """Evaluate a jsonnet (or JSON) file to a Python dict.

    :param path: the file.
    :param ext_vars: string values for ``std.extVar(name)``.
    :param search_paths: library folders for ``import`` (last one wins).
    :raises ConfigError: the file is missing, does not evaluate (the message
        leads with ``file:line:column``), or is not an object at the top.
    """
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"config file not found: {file}")
    jsonnet = _import_gojsonnet()
    paths = [str(Path(p)) for p in search_paths]
    variables = {str(k): str(v) for k, v in (ext_vars or {}).items()}
    try:
        text = jsonnet.evaluate_file(str(file), jpathdir=paths, ext_vars=variables, native_callbacks=NATIVE_CALLBACKS)
    except RuntimeError as exc:
        raise translate_error(str(exc), str(file), paths) from None
    value = json.loads(text)
    if not isinstance(value, dict):
        kind = type(value).__name__ if value is not None else "null"
        raise ConfigError(f"{file}: a config must evaluate to an object {{...}}, not {kind}")
    return value
