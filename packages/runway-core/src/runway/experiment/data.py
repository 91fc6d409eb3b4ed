"""Which pipeline outputs an executor trains and tests on.

``executor.data`` maps a split to a node of the ``data_pipeline``:

.. code-block:: jsonnet

    executor: {
      data: {
        train: "output:train",                                   // that node's whole output
        validation: { node: "output:tensors", item: "validation" }, // an item of a dict output
        test: { node: "output:tensors", item: "test" },
      },
    }

A string is a node name (node names may hold ``:``, as ``output:...`` does);
an object picks ``item`` (dotted for deeper items) out of the node's output.
(Not ``key``: keys named like secrets are redacted in the saved config.)
The splits ``train`` and ``validation`` are used for training, ``test`` (or
the split named by ``test.split``) for inference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runway.errors import ConfigError

TRAIN_SPLITS = ("train", "validation")


@dataclass(frozen=True)
class DataRef:
    """A split's node, and the keys that pick its data out of the node's output."""

    split: str
    node: str
    keys: tuple[str, ...]

    @classmethod
    def parse(cls, split: str, value: Any) -> "DataRef":
        where = f"executor.data.{split}"
        if isinstance(value, str) and value.strip():
            return cls(split, value.strip(), ())
        if isinstance(value, Mapping) and isinstance(value.get("node"), str):
            unknown = sorted(set(value) - {"node", "item"})
            if unknown:
                raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; an object takes node and item")
            item = value.get("item")
            if item is not None and not isinstance(item, str):
                raise ConfigError(f"{where}.item: expected a string, got {item!r}")
            keys = tuple(k for k in (item or "").split(".") if k)
            return cls(split, value["node"], keys)
        raise ConfigError(f"{where}: expected a node name or {{node: NAME, item: ITEM}}, got {value!r}")

    def pick(self, output: Any) -> Any:
        value = output
        for depth, key in enumerate(self.keys):
            if isinstance(value, Mapping) and key in value:
                value = value[key]
            elif isinstance(value, Sequence) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            else:
                where = ".".join(self.keys[:depth]) or "(output)"
                have = sorted(map(str, value)) if isinstance(value, Mapping) else type(value).__name__
                raise ConfigError(
                    f"executor.data.{self.split}: node {self.node!r} {where} has no {key!r}; it has {have}"
                )
        return value


def data_refs(config: dict[str, Any], splits: Sequence[str]) -> dict[str, DataRef]:
    """The references for ``splits`` that the config names (missing splits are skipped)."""
    return refs_for((config.get("executor") or {}).get("data") or {}, splits)


def refs_for(section: Mapping[str, Any], splits: Sequence[str]) -> dict[str, DataRef]:
    """The references for ``splits`` in an ``executor.data`` section (missing splits are skipped)."""
    if not isinstance(section, Mapping):
        raise ConfigError("executor.data: expected an object mapping splits to pipeline nodes")
    return {split: DataRef.parse(split, section[split]) for split in splits if split in section}


def resolve_data(refs: Mapping[str, DataRef], outputs: Mapping[str, Any]) -> dict[str, Any]:
    """Split name to data, picked from the pipeline's node outputs."""
    data = {}
    for split, ref in refs.items():
        if ref.node not in outputs:
            raise ConfigError(
                f"executor.data.{split}: node {ref.node!r} is not in the pipeline; nodes: {', '.join(sorted(outputs))}"
            )
        data[split] = ref.pick(outputs[ref.node])
    return data


class ColumnDataset:
    """A map-style dataset over equal-length columns: row ``i`` is ``{col: col[i]}``."""

    def __init__(self, columns: Mapping[str, Any]) -> None:
        lengths = {name: len(col) for name, col in columns.items()}
        if len(set(lengths.values())) > 1:
            raise ConfigError(f"columns of unequal length cannot form a dataset: {lengths}")
        self.columns = dict(columns)
        self._length = next(iter(lengths.values()), 0)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {name: col[index] for name, col in self.columns.items()}


def as_dataset(data: Any) -> Any:
    """Something a ``DataLoader`` can index: datasets and sequences as they are,
    a dict of equal-length columns as a :class:`ColumnDataset`."""
    if isinstance(data, Mapping):
        return ColumnDataset(data)
    if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        return data
    raise ConfigError(f"cannot train or test on a {type(data).__name__}: expected a dataset, a list or a dict of columns")
