"""Reading an offline wandb run's transaction log (``run-<id>.wandb``).

wandb 0.31 ships no Python reader for this file (wandb-core, in Go, writes and
syncs it). The format is wandb's LevelDB-style log: a 7-byte file header
(``:W&B``, magic 0xBEE1, version 0), then 32 KiB blocks of chunks, each with a
7-byte header (CRC-32, length, type: full, first, middle, last) whose joined
payloads are serialized ``wandb_internal_pb2.Record`` messages.
"""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Iterator
from pathlib import Path

from wandb.proto import wandb_internal_pb2

FILE_HEADER = struct.Struct("<4sHB")
CHUNK_HEADER = struct.Struct("<IHB")
BLOCK_SIZE = 32 * 1024
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path | str) -> Iterator[wandb_internal_pb2.Record]:
    data = Path(path).read_bytes()
    ident, magic, version = FILE_HEADER.unpack_from(data, 0)
    assert (ident, magic, version) == (b":W&B", 0xBEE1, 0), (ident, magic, version)
    offset, pending = FILE_HEADER.size, b""
    while offset + CHUNK_HEADER.size <= len(data):
        left_in_block = BLOCK_SIZE - offset % BLOCK_SIZE
        if left_in_block < CHUNK_HEADER.size:  # block trailer padding
            offset += left_in_block
            continue
        _, length, kind = CHUNK_HEADER.unpack_from(data, offset)
        offset += CHUNK_HEADER.size
        payload, offset = data[offset : offset + length], offset + length
        if kind == 0 and length == 0:
            continue
        if kind == FULL:
            pending = payload
        elif kind == FIRST:
            pending = payload
            continue
        elif kind == MIDDLE:
            pending += payload
            continue
        elif kind == LAST:
            pending += payload
        record = wandb_internal_pb2.Record()
        record.ParseFromString(pending)
        pending = b""
        yield record


def offline_runs(wandb_dir: Path | str, wait_s: float = 60) -> list[Path]:
    """The ``run-<id>.wandb`` files under a ``wandb/`` folder, oldest first.

    wandb-core may still be writing a log after ``finish()`` returns; each is
    waited for (up to ``wait_s``) until it holds the run's exit record.
    """
    paths = sorted(Path(wandb_dir).glob("offline-run-*/run-*.wandb"))
    deadline = time.monotonic() + wait_s
    for path in paths:
        while not _has_exit_record(path) and time.monotonic() < deadline:
            time.sleep(0.1)
    return paths


def _has_exit_record(path: Path) -> bool:
    try:
        return any(record.WhichOneof("record_type") == "exit" for record in records(path))
    except Exception:  # torn while being written (struct or protobuf decode errors)
        return False


def history(path: Path | str) -> list[dict]:
    """Each history row as ``{key: value, "_step": n}``."""
    rows = []
    for record in records(path):
        if record.WhichOneof("record_type") != "history":
            continue
        row = {}
        for item in record.history.item:
            key = item.key or "/".join(item.nested_key)
            row[key] = json.loads(item.value_json)
        if record.history.HasField("step"):
            row.setdefault("_step", record.history.step.num)
        rows.append(row)
    return rows


def run_record(path: Path | str) -> wandb_internal_pb2.RunRecord:
    for record in records(path):
        if record.WhichOneof("record_type") == "run":
            return record.run
    raise AssertionError(f"{path}: no run record")


def summary(path: Path | str) -> dict:
    """The run summary as the log's summary records leave it."""
    values = {}
    for record in records(path):
        if record.WhichOneof("record_type") == "summary":
            for item in record.summary.update:
                key = item.key or "/".join(item.nested_key)
                values[key] = json.loads(item.value_json)
    return values
