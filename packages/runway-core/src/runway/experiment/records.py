"""Writing the files of an experiment version so that readers never see half of one.

Every record that is later trusted (config, provenance, status, metrics,
per-sample records) is written through :mod:`runway.support.files`: to a
temporary file in the same folder, renamed into place.

**Per-sample records** (``records.parquet``, one row a sample) are what
``runway infer`` writes into ``test-<suffix>/`` and training writes for each
validation epoch into ``train/validation/epoch-<n>.parquet``. They are
columnar so that a hundred thousand samples write and read in the time
pandas takes: a field whose values are all of one plain type (numbers,
strings, booleans; ``None`` allowed) is a native Parquet column, any other
field (lists, dicts, mixed types, a field some records lack) a column of
JSON texts, named in the file's metadata (``runway.json_columns``), so every
record reads back exactly as written. :func:`read_records` is the one
reader; it also reads the ``records.jsonl`` files of older versions, and
:func:`export_jsonl` (``runway show NAME --records SUFFIX``) gives the
one-JSON-object-a-line view for people who grep. A record's values may be
anything JSON holds, plus:

- tensors and numpy arrays: stored as (nested) lists; 0-d ones as numbers;
- PIL images, and lists of them: saved as PNG files beside the records,
  ``images/<sample-id>-<field>[-<i>].png``, and stored as that path, relative
  to the folder of the records file;
- dicts and lists of the above, converted item by item.

The sample id is the record's ``id`` when it has one, else its ``index``.
:func:`merge_records` joins the records of several test runs by sample id.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from runway.support.files import atomic_output, finite, write_atomic

RECORDS_FILE = "records.parquet"
#: the line-oriented view, and the file of versions written before records were columnar
JSONL_RECORDS_FILE = "records.jsonl"
JSON_COLUMNS_KEY = b"runway.json_columns"
ROWS_KEY = b"runway.rows"
_MISSING: Any = object()
#: types stored as native Parquet columns (a column of one of them, ``None`` allowed)
_NATIVE = (bool, int, float, str)
# refuses what is not plain JSON (a tensor, an image, a key it cannot sort), which then goes through jsonable()
_PLAIN_JSON = json.JSONEncoder(sort_keys=True, check_circular=False)
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
    """Write ``records`` to ``path``, atomically: Parquet, or JSON lines when
    ``path`` ends in ``.jsonl``; images go to ``<path's folder>/<images_subdir>/``
    (see the module docstring).

    Images are written first and the records file renamed into place last, so
    a reader never finds a record whose image is missing; images of an
    earlier write that the new records do not name are then removed.
    """
    path = Path(path)
    saver = _ImageSaver(path.parent, images_subdir)
    if path.suffix == ".jsonl":
        lines = [record_json(record, saver=saver) for record in records]
        write_atomic(path, "\n".join(lines) + ("\n" if lines else ""))
    else:
        _write_parquet(path, list(records), saver)
    saver.remove_stale()
    return path


def _column(field: str, values: list[Any], records: list[Mapping[str, Any]], saver: _ImageSaver) -> tuple[Any, bool]:
    """``(pyarrow array, is JSON)`` of one field's values (``_MISSING`` where a record lacks it)."""
    import pyarrow as pa

    kinds = set(map(type, values))
    plain = kinds - {type(None)}
    if len(plain) == 1 and next(iter(plain)) in _NATIVE:
        try:
            return pa.array(values, type={bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string()}[plain.pop()]), False
        except (OverflowError, pa.ArrowException):  # an int beyond 64 bits: JSON holds it
            pass
    part = _file_part(field)
    dumps = _PLAIN_JSON.encode
    texts: list[str | None] = []
    for value, record in zip(values, records):
        if value is _MISSING:
            texts.append(None)
            continue
        try:  # plain JSON data (most values): no conversion, no image file name to build
            texts.append(dumps(value))
        except (TypeError, ValueError):
            converted = jsonable(value, stem=f"{_file_part(sample_id(record))}-{part}", saver=saver)
            texts.append(json.dumps(converted, sort_keys=True, default=str))
    return pa.array(texts, type=pa.string()), True


def _write_parquet(path: Path, records: list[Mapping[str, Any]], saver: _ImageSaver) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    names: set[Any] = set().union(*records) if records else set()
    if any(not isinstance(name, str) for name in names):
        records = [{str(k): v for k, v in record.items()} for record in records]
        names = {str(name) for name in names}
    columns: dict[str, Any] = {}
    json_columns: list[str] = []
    paused = gc.isenabled()
    gc.disable()  # as in _read_parquet: many short-lived objects, no cycles
    try:
        for field in sorted(names):
            values = [record.get(field, _MISSING) for record in records]
            array, is_json = _column(field, values, records, saver)
            columns[field] = array
            if is_json:
                json_columns.append(field)
    finally:
        if paused:
            gc.enable()
    metadata = {JSON_COLUMNS_KEY: json.dumps(json_columns).encode("utf-8"), ROWS_KEY: str(len(records)).encode("ascii")}
    table = pa.table(columns) if columns else pa.table({})
    table = table.replace_schema_metadata(metadata)
    with atomic_output(path, suffix=".tmp") as fh:
        pq.write_table(table, fh)


def _decode_json_column(texts: list[Any]) -> list[Any]:
    """JSON texts to values, ``_MISSING`` for nulls (a field the record lacked)."""
    if None not in texts:
        # one parse for the whole column: far cheaper than one json.loads per value
        return json.loads("[" + ",".join(texts) + "]") if texts else []
    return [_MISSING if text is None else json.loads(text) for text in texts]


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    metadata = table.schema.metadata or {}
    json_columns = set(json.loads(metadata.get(JSON_COLUMNS_KEY, b"[]")))
    rows = int(metadata.get(ROWS_KEY, str(table.num_rows).encode()))
    names = table.column_names
    if not names:
        return [{} for _ in range(rows)]
    # building a hundred thousand small objects would set off the cyclic
    # collector again and again, over objects that hold no cycles
    paused = gc.isenabled()
    gc.disable()
    try:
        columns = [
            _decode_json_column(table.column(name).to_pylist()) if name in json_columns else table.column(name).to_pylist()
            for name in names
        ]
        records = [dict(zip(names, values)) for values in zip(*columns)]
        if any(any(value is _MISSING for value in column) for column in columns):
            records = [{k: v for k, v in record.items() if v is not _MISSING} for record in records]
    finally:
        if paused:
            gc.enable()
    return records


def records_path(folder: Path | str) -> Path | None:
    """The records file in ``folder`` (``records.parquet``, else an older
    ``records.jsonl``), or ``None`` when it has none."""
    folder = Path(folder)
    for name in (RECORDS_FILE, JSONL_RECORDS_FILE):
        if (folder / name).is_file():
            return folder / name
    return None


def read_records(path: Path | str) -> list[dict[str, Any]]:
    """The records of a records file (Parquet, or JSON lines when it ends in
    ``.jsonl``), or of the one in folder ``path`` (see :func:`records_path`)."""
    path = Path(path)
    if path.is_dir():
        found = records_path(path)
        if found is None:
            raise FileNotFoundError(f"{path}: no {RECORDS_FILE} (nor {JSONL_RECORDS_FILE})")
        path = found
    if path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    return _read_parquet(path)


def export_jsonl(records: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The records as JSON lines (keys sorted), the view for ``grep`` and ``jq``.

    NaN and infinities (a diverged score) are written as ``null``, as in every
    JSON record Runway writes, so that strict JSON readers take each line.
    """
    for record in records:
        try:
            yield json.dumps(record, sort_keys=True, default=str, allow_nan=False)
        except ValueError:
            yield json.dumps(finite(record), sort_keys=True, default=str, allow_nan=False)


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
