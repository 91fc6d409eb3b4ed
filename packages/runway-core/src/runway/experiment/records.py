"""Writing the files of an experiment version so that readers never see half of one.

Every record that is later trusted (config, provenance, status, metrics,
per-sample records) is written through :mod:`runway.support.files`: to a
temporary file in the same folder, renamed into place.

**Per-sample records** (``records.jsonl``, one JSON object a line) are what
``runway infer`` writes into ``test-<suffix>/`` and training writes for each
validation epoch into ``train/validation/epoch-<n>.jsonl``. A record's
values may be anything JSON holds, plus:

- tensors and numpy arrays: stored as (nested) lists; 0-d ones as numbers;
- PIL images, and lists of them: saved as PNG files beside the records,
  ``images/<sample-id>-<field>[-<i>].png``, and stored as that path, relative
  to the folder of the records file;
- dicts and lists of the above, converted item by item.

The sample id is the record's ``id`` when it has one, else its ``index``.
:func:`merge_records` joins the records of several test runs by sample id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from runway.support.files import atomic_output, write_atomic

RECORDS_FILE = "records.jsonl"
IMAGES_FOLDER = "images"
ID_FIELD = "id"
INDEX_FIELD = "index"
RUNS_FIELD = "runs"
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


# --------------------------------------------------------------------------- per-sample records


def sample_id(record: Mapping[str, Any]) -> Any:
    """The id that names a sample: its ``id``, else its ``index``."""
    return record[ID_FIELD] if ID_FIELD in record else record.get(INDEX_FIELD)


def is_image(value: Any) -> bool:
    """Whether ``value`` is a PIL image (checked without importing PIL)."""
    return any(cls.__module__.startswith("PIL.") for cls in type(value).__mro__) and hasattr(value, "save")


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "detach") and hasattr(value, "tolist")


def _file_part(value: Any) -> str:
    return _UNSAFE_FILE_CHARS.sub("_", str(value)).strip("_") or "_"


class _ImageSaver:
    """Saves a record's images as PNG under ``folder/<images_subdir>`` and remembers them."""

    def __init__(self, folder: Path, images_subdir: str) -> None:
        self.folder = folder
        self.images_subdir = images_subdir
        self.written: set[Path] = set()

    def save(self, image: Any, stem: str) -> str:
        relative = Path(self.images_subdir) / f"{stem}.png"
        target = self.folder / relative
        # one fsync for the records file, not one per image: the records are renamed last
        with atomic_output(target, durable=False) as fh:
            image.save(fh, format="PNG")
        self.written.add(target)
        return relative.as_posix()

    def remove_stale(self) -> None:
        """Delete images of an earlier write that the new records no longer name."""
        images = self.folder / self.images_subdir
        if not images.is_dir():
            return
        for path in images.glob("*.png"):
            if path not in self.written:
                path.unlink(missing_ok=True)


def jsonable(value: Any, *, stem: str = "value", saver: _ImageSaver | None = None) -> Any:
    """``value`` as JSON-friendly data: tensors and arrays as lists (0-d as numbers),
    images saved through ``saver`` and replaced by their relative path.

    ``stem`` names the image files (``<sample-id>-<field>``). Without a
    ``saver`` an image is an error: there is nowhere to put it.
    """
    if value is None or isinstance(value, (str, int, float)):  # most fields: nothing to convert
        return value
    if is_image(value):
        if saver is None:
            raise ValueError(f"{stem}: a PIL image needs a folder to be saved in")
        return saver.save(value, stem)
    if _is_tensor(value):
        value = value.detach().cpu()
        return value.item() if value.dim() == 0 else value.tolist()
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy arrays and scalars
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, stem=f"{stem}-{_file_part(k)}", saver=saver) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, stem=f"{stem}-{i}", saver=saver) for i, v in enumerate(value)]
    return value


def record_json(record: Mapping[str, Any], *, saver: _ImageSaver | None = None) -> str:
    """One line of ``records.jsonl`` for ``record`` (keys sorted)."""
    sid = _file_part(sample_id(record))
    converted = {str(k): jsonable(v, stem=f"{sid}-{_file_part(k)}", saver=saver) for k, v in record.items()}
    return json.dumps(converted, sort_keys=True, default=str)


def write_records(
    path: Path | str, records: Iterable[Mapping[str, Any]], *, images_subdir: str = IMAGES_FOLDER
) -> Path:
    """Write ``records`` as JSON lines to ``path``, atomically; images go to
    ``<path's folder>/<images_subdir>/`` (see the module docstring).

    Images are written first and the records file renamed into place last, so
    a reader never finds a record whose image is missing; images of an
    earlier write that the new records do not name are then removed.
    """
    path = Path(path)
    saver = _ImageSaver(path.parent, images_subdir)
    lines = [record_json(record, saver=saver) for record in records]
    write_atomic(path, "\n".join(lines) + ("\n" if lines else ""))
    saver.remove_stale()
    return path


def read_records(path: Path | str) -> list[dict[str, Any]]:
    """The records of a ``records.jsonl`` file, or of the one in folder ``path``."""
    path = Path(path)
    if path.is_dir():
        path = path / RECORDS_FILE
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _label_of(source: Any, position: int) -> str:
    if isinstance(source, (str, Path)):
        path = Path(source)
        folder = path if path.is_dir() else path.parent
        name = folder.name
        return name[len("test-"):] if name.startswith("test-") else name
    return str(position)


def _same(values: list[Any]) -> bool:
    first = json.dumps(values[0], sort_keys=True, default=str)
    return all(json.dumps(v, sort_keys=True, default=str) == first for v in values[1:])


def merge_records(
    sources: Sequence[Sequence[Mapping[str, Any]] | Path | str],
    *,
    labels: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Join the records of several runs by sample id into one record per sample.

    ``sources`` are lists of records, or paths of ``records.jsonl`` files or
    of the folders holding them (``test-<suffix>/``). Each source has a label:
    ``labels[i]``, else the suffix of a ``test-<suffix>`` folder (the folder
    name for other paths), else its position.

    The id is ``id`` when every record has one, else ``index``. A merged
    record holds the id; every field whose value is the same in each source
    that has the sample (``input``, ``target``, ...) at the top level; and
    ``runs``: ``{label: {field: value}}`` with, per source that has the
    sample, the fields that differ between sources (``prediction``) or that
    only some sources have. So shards of one run (disjoint samples) merge
    into plain records with an empty ``runs`` entry each. Samples keep the
    order in which they first appear. Image paths are left as written:
    relative to each source's own folder.
    """
    loaded = [read_records(s) if isinstance(s, (str, Path)) else [dict(r) for r in s] for s in sources]
    names = list(labels) if labels is not None else [_label_of(s, i) for i, s in enumerate(sources)]
    if len(names) != len(loaded):
        raise ValueError(f"merge_records: {len(loaded)} sources but {len(names)} labels")
    if len(set(names)) != len(names):
        raise ValueError(f"merge_records: labels must differ, got {names}; pass labels=[...]")
    everything = [r for records in loaded for r in records]
    id_field = ID_FIELD if everything and all(ID_FIELD in r for r in everything) else INDEX_FIELD
    by_id: dict[str, dict[str, dict[str, Any]]] = {}
    ids: dict[str, Any] = {}
    for label, records in zip(names, loaded):
        for record in records:
            key = json.dumps(record.get(id_field), sort_keys=True, default=str)
            if label in by_id.setdefault(key, {}):
                raise ValueError(f"merge_records: {label!r} has two records with {id_field} {record.get(id_field)!r}")
            by_id[key][label] = record
            ids.setdefault(key, record.get(id_field))
    merged = []
    for key, runs in by_id.items():
        fields = sorted({f for record in runs.values() for f in record} - {id_field})
        shared = {
            f: next(iter(runs.values()))[f]
            for f in fields
            if all(f in r for r in runs.values()) and _same([r[f] for r in runs.values()])
        }
        out: dict[str, Any] = {id_field: ids[key], **shared}
        out[RUNS_FIELD] = {
            label: {f: v for f, v in record.items() if f != id_field and f not in shared}
            for label, record in runs.items()
        }
        merged.append(out)
    return merged
