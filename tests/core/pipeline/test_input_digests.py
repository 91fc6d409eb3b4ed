"""Input files are hashed once per change: the manifest beside the cache."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runway.pipeline import Progress, run_pipeline
from runway.pipeline import input_digests
from runway.pipeline.input_digests import MANIFEST_FILE, InputDigests, hash_file
from runway.pipeline.keys import file_digest
from runway.project import Project

LONG_AGO_NS = 1_600_000_000 * 10**9


def _write_old(path: Path, data: bytes, mtime_ns: int = LONG_AGO_NS) -> Path:
    """A file last modified long ago, so the manifest may record it (not racy)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def test_an_unchanged_file_is_read_once_across_runs(tmp_path):
    data = _write_old(tmp_path / "raw" / "train.bin", b"x" * 5000)
    cache = tmp_path / "cache"
    first = InputDigests(cache, full=False)
    digest = first.digest(data)
    first.save()
    assert first.hashed == [str(data)]
    assert digest == hash_file(data)

    second = InputDigests(cache, full=False)
    assert second.digest(data) == digest
    assert second.hashed == []
    manifest = json.loads((cache / MANIFEST_FILE).read_text())
    size, mtime_ns, inode, recorded = manifest["files"][str(data)]
    assert (size, mtime_ns, recorded) == (5000, LONG_AGO_NS, digest)
    assert inode == data.stat().st_ino


@pytest.mark.parametrize(
    "change",
    ["content and mtime", "size", "inode (replaced by a rename, same size and mtime)"],
)
def test_any_change_of_size_mtime_or_inode_rehashes(tmp_path, change):
    data = _write_old(tmp_path / "train.bin", b"a" * 100)
    cache = tmp_path / "cache"
    before = InputDigests(cache, full=False)
    old = before.digest(data)
    before.save()

    if change == "content and mtime":
        _write_old(data, b"b" * 100, LONG_AGO_NS + 1)
    elif change == "size":
        _write_old(data, b"a" * 101)
    else:
        replacement = _write_old(tmp_path / "new.bin", b"c" * 100)
        os.replace(replacement, data)

    after = InputDigests(cache, full=False)
    new = after.digest(data)
    assert after.hashed == [str(data)]
    assert new == hash_file(data) != old


def test_cache_verify_full_rehashes_everything(tmp_path, monkeypatch):
    data = _write_old(tmp_path / "train.bin", b"a" * 100)
    cache = tmp_path / "cache"
    first = InputDigests(cache)
    first.digest(data)
    first.save()

    monkeypatch.setenv("RUNWAY_CACHE_VERIFY", "full")
    full = InputDigests(cache)
    full.digest(data)
    assert full.hashed == [str(data)]


def test_a_folder_digest_is_the_same_with_or_without_the_manifest(tmp_path):
    folder = tmp_path / "shards"
    for index in range(3):
        _write_old(folder / f"part-{index}.bin", bytes([index]) * 64)
    cache = tmp_path / "cache"
    first = InputDigests(cache, full=False)
    assert first.digest(folder) == file_digest(folder)
    first.save()

    _write_old(folder / "part-1.bin", b"changed", LONG_AGO_NS + 5)
    second = InputDigests(cache, full=False)
    assert second.digest(folder) == file_digest(folder)
    assert second.hashed == [str(folder / "part-1.bin")]


def test_a_file_written_just_now_is_not_trusted_later(tmp_path):
    """A second write within the timestamp granularity could keep the mtime."""
    data = tmp_path / "fresh.bin"
    data.write_bytes(b"new")
    cache = tmp_path / "cache"
    first = InputDigests(cache, full=False)
    first.digest(data)
    first.save()
    assert not (cache / MANIFEST_FILE).exists()


def test_a_damaged_manifest_is_ignored_and_rewritten(tmp_path):
    data = _write_old(tmp_path / "train.bin", b"a" * 10)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / MANIFEST_FILE).write_bytes(b"{not json")
    digests = InputDigests(cache, full=False)
    assert digests.digest(data) == hash_file(data)
    digests.save()
    assert str(data) in json.loads((cache / MANIFEST_FILE).read_text())["files"]


def test_concurrent_writers_lose_no_entry(tmp_path):
    cache = tmp_path / "cache"
    writers, per_writer = 4, 15
    for writer in range(writers):
        for index in range(per_writer):
            _write_old(tmp_path / f"w{writer}" / f"{index}.bin", f"{writer}-{index}".encode())
    code = (
        "import sys, pathlib\n"
        "from runway.pipeline.input_digests import InputDigests\n"
        "folder = pathlib.Path(sys.argv[1])\n"
        "for path in sorted(folder.iterdir()):\n"
        "    digests = InputDigests(sys.argv[2], full=False)\n"
        "    digests.digest(path)\n"
        "    digests.save()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path / f"w{writer}"), str(cache)])
        for writer in range(writers)
    ]
    assert [proc.wait(timeout=120) for proc in procs] == [0] * writers
    recorded = json.loads((cache / MANIFEST_FILE).read_text())["files"]
    assert len(recorded) == writers * per_writer
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


def test_a_read_only_cache_still_plans(tmp_path, monkeypatch):
    data = _write_old(tmp_path / "train.bin", b"a")
    digests = InputDigests(tmp_path / "cache", full=False)
    digests.digest(data)

    def refuse(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(Path, "mkdir", refuse)
    digests.save()  # no error: the manifest is only an accelerator


def test_a_cache_hit_does_not_read_its_file_input_again(project, monkeypatch):
    data = _write_old(project.root / "data" / "train.csv", b"a,b\n1,2\n")
    config = {
        "transforms": {
            "input:Text": {"transform_name": "ReadText", "setup_kwargs": {"path": "data/train.csv"}},
            "output:Report": {"transform_name": "Report", "input_node": "input:Text"},
        }
    }
    read: list[str] = []
    real = input_digests.hash_file
    monkeypatch.setattr(input_digests, "hash_file", lambda path: read.append(str(path)) or real(path))

    def run():
        return run_pipeline(config, Project.find(project.root), progress=Progress(io.StringIO()))

    first = run()
    assert read == [str(data)]
    read.clear()
    again = run()
    assert read == []
    assert again.keys == first.keys
    assert set(again.actions.values()) <= {"LOAD", "SKIP"}

    _write_old(data, b"a,b\n1,3\n", LONG_AGO_NS + 10)
    changed = run()
    assert read == [str(data)]
    assert changed.actions["input:Text"] == "RUN"
    assert changed.outputs["output:Report"]["report"].endswith("1,3\n")
