"""Built-in plugin ``core-formats``: the ``json``, ``torch`` and ``pickle`` cache formats.

``json`` (priority 20)
    plain JSON data: ``dict`` with ``str`` keys, ``list``, ``str``, ``int``,
    ``float``, ``bool``, ``None`` (exact types, no subclasses). It round-trips
    exactly. Tuples are *not* JSON: a value holding one goes to ``torch``,
    which keeps them.
``torch`` (priority 10)
    tensors and containers (``dict``, ``list``, ``tuple``, ``set``,
    ``OrderedDict``) of tensors, numbers, strings, bytes and ``None``; saved
    with ``torch.save`` and loaded with ``weights_only=True``, so loading runs
    no code.
``pickle`` (priority -100)
    anything else. Unpickling can run code, so Runway only loads an entry
    whose full checksum matches its data on every load and whose signature
    was made with this user's cache key (see :mod:`runway.pipeline.signing`).
"""

from __future__ import annotations

import json
import sys
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runway.hookspecs import hookimpl
from runway.pipeline.formats import CyclicData

_JSON_SCALARS = (str, int, float, bool, type(None))


def _all_items(
    obj: Any,
    *,
    containers: tuple[type, ...],
    scalars: tuple[type, ...],
    keys: tuple[type, ...],
    leaf: Callable[[Any], bool] = lambda _: False,
) -> bool:
    """True when every value (and key) reachable in ``obj`` is of the allowed exact types.

    :raises CyclicData: a container reachable from itself (walking it would never end).
    """
    on_path: set[int] = set()
    # (item, where) to visit, or (None, id) to leave a container
    stack: list[tuple[Any, Any]] = [(obj, "the output")]
    while stack:
        item, where = stack.pop()
        if item is None and isinstance(where, int):
            on_path.discard(where)
            continue
        kind = type(item)
        if kind in scalars or leaf(item):
            continue
        if kind not in containers:
            return False
        ident = id(item)
        if ident in on_path:
            raise CyclicData(f"{where} contains the container it is in")
        on_path.add(ident)
        stack.append((None, ident))
        if kind is dict or kind is OrderedDict:
            for key, value in item.items():
                if type(key) not in keys:
                    return False
                stack.append((value, f"{where}[{key!r}]"))
        else:
            stack.extend((value, f"{where}[{index}]") for index, value in enumerate(item))
    return True


class JsonFormat:
    name = "json"
    priority = 20
    runs_code = False
    file_name = "data.json"

    def accepts(self, obj: Any) -> bool:
        return _all_items(obj, containers=(dict, list), scalars=_JSON_SCALARS, keys=(str,))

    def save(self, obj: Any, folder: Path) -> None:
        with (folder / self.file_name).open("w", encoding="utf-8") as handle:
            json.dump(obj, handle, ensure_ascii=False)

    def load(self, folder: Path) -> Any:
        with (folder / self.file_name).open(encoding="utf-8") as handle:
            return json.load(handle)


class TorchFormat:
    name = "torch"
    priority = 10
    runs_code = False  # weights_only loading
    file_name = "data.pt"
    _scalars = (str, int, float, bool, bytes, type(None))
    _containers = (dict, list, tuple, set, OrderedDict)

    def accepts(self, obj: Any) -> bool:
        torch = sys.modules.get("torch")
        is_tensor: Callable[[Any], bool] = (lambda x: isinstance(x, torch.Tensor)) if torch else (lambda _: False)
        return _all_items(obj, containers=self._containers, scalars=self._scalars, keys=self._scalars, leaf=is_tensor)

    def save(self, obj: Any, folder: Path) -> None:
        import torch

        torch.save(obj, folder / self.file_name)

    def load(self, folder: Path) -> Any:
        import torch

        return torch.load(folder / self.file_name, weights_only=True)


class PickleFormat:
    name = "pickle"
    priority = -100
    runs_code = True
    file_name = "data.pkl"

    def accepts(self, obj: Any) -> bool:
        return True

    def save(self, obj: Any, folder: Path) -> None:
        import pickle

        with (folder / self.file_name).open("wb") as handle:
            pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self, folder: Path) -> Any:
        import pickle

        with (folder / self.file_name).open("rb") as handle:
            return pickle.load(handle)  # only after the entry's checksum and signature matched


@hookimpl
def register_cache_formats(register: Callable[..., None]) -> None:
    register(JsonFormat())
    register(TorchFormat())
    register(PickleFormat())
