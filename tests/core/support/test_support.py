"""runway.support: the one implementation of each small primitive."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from runway.errors import ConfigError
from runway.support.clock import now_iso
from runway.support.files import DamagedFile, atomic_output, read_json, temporary_path, write_atomic, write_json
from runway.support.imports import import_object
from runway.support.processes import owner_gone, pid_alive, this_host
from runway.support.tables import format_value, render_table

PACKAGES = Path(__file__).resolve().parents[3] / "packages"


@pytest.fixture(params=[0o022, 0o002], ids=["umask022", "umask002"])
def umask(request):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_follow_the_umask_and_private_ones_do_not(tmp_path, umask):
    expected = 0o666 & ~umask
    assert _mode(write_json(tmp_path / "a.json", {"a": 1})) == expected
    assert _mode(write_atomic(tmp_path / "b.txt", "b", durable=False)) == expected
    with atomic_output(tmp_path / "c.bin") as fh:
        fh.write(b"c")
    assert _mode(tmp_path / "c.bin") == expected
    assert _mode(write_json(tmp_path / "secret.json", {}, private=True)) == 0o600


def test_a_version_s_records_follow_the_umask(tmp_path, umask):
    from runway.experiment.records import write_records
    from runway.experiment.status import write_status
    from runway.experiment.store import ExperimentStore
    from runway.launch.records import append_job_record
    from runway.logging.csv_logger import logger_finish_run
    from runway.logging.run import Run

    version = ExperimentStore(tmp_path / "experiments").allocate("a/b")
    write_json(version.path / "config.json", {"seed": 1})
    version.update_provenance(command="runway train a/b")
    write_status(version.path, "running")
    write_json(version.test_dir("test") / "metrics.json", {"accuracy": 0.5})
    write_records(version.test_dir("test") / "records.jsonl", [{"index": 0, "prediction": 1}])
    append_job_record(version.path, {"launcher": "fake", "job_id": "1"})
    run = Run.from_version_dir(version.path)
    run.save_state("fake", {"run_id": "x"})
    logger_finish_run(run=run, status="completed")
    files = [p for p in version.path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"config.json", "provenance.json", "status.json", "metrics.json", "records.jsonl"}
    assert {p.relative_to(version.path).as_posix(): _mode(p) for p in files} == {
        p.relative_to(version.path).as_posix(): 0o666 & ~umask for p in files
    }


def test_writes_leave_no_temporary_file_and_a_failed_one_keeps_the_old_content(tmp_path):
    target = write_json(tmp_path / "a.json", {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_output(target) as fh:
            fh.write(b"half")
            raise RuntimeError("killed")
    assert read_json(target) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    assert temporary_path(target, token="x").name == ".a.json.x.tmp"


def test_numbers_json_cannot_hold_are_written_as_null(tmp_path):
    import json

    write_json(tmp_path / "nan.json", {"loss": float("nan"), "scores": [float("inf"), 1.5]})
    assert json.loads((tmp_path / "nan.json").read_text()) == {"loss": None, "scores": [None, 1.5]}


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"\xff\xfe", "not UTF-8"), (b"{", "not valid JSON"), (b"[1]", "expected a JSON object, got list")],
)
def test_a_damaged_record_names_its_file(tmp_path, content, reason):
    path = tmp_path / "status.json"
    path.write_bytes(content)
    with pytest.raises(DamagedFile, match=re.escape(str(path)) + r": damaged \(" + re.escape(reason)):
        read_json(path, {}, expect=dict)


def test_a_missing_record_is_the_default_or_damaged(tmp_path):
    assert read_json(tmp_path / "none.json", None) is None
    with pytest.raises(DamagedFile, match="missing"):
        read_json(tmp_path / "none.json")


def test_now_iso_is_utc_to_the_second():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now_iso())


def test_processes():
    assert pid_alive(os.getpid()) and not pid_alive(0)
    assert not owner_gone({"pid": os.getpid(), "host": this_host()})
    assert not owner_gone({"pid": 2**22 + 12345, "host": this_host() + "-elsewhere"})


def test_import_object_names_the_culprit():
    assert import_object("os.path:join", "x") is os.path.join
    assert import_object("collections.abc.Mapping", "x").__name__ == "Mapping"
    with pytest.raises(ConfigError, match=r"^executor.name: cannot import 'nope_pkg.X': No module named 'nope_pkg'"):
        import_object("nope_pkg.X", "executor.name")
    with pytest.raises(ConfigError, match=r"has no attribute 'jion'.*'join'"):
        import_object("os.path.jion", "x")


def test_an_import_error_inside_the_module_is_not_hidden(tmp_path, monkeypatch):
    (tmp_path / "broken_pkg_for_test").mkdir()
    (tmp_path / "broken_pkg_for_test" / "__init__.py").write_text("")
    (tmp_path / "broken_pkg_for_test" / "mod.py").write_text("import missing_dependency_for_test\nX = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="No module named 'missing_dependency_for_test'"):
        import_object("broken_pkg_for_test.mod.X", "x")


def test_tables_align_numbers_right_and_cut_long_cells():
    lines = render_table(["NAME", "ACC"], [("tiny", 0.5), ("a-much-longer-name", 0.25)], max_width=10)
    assert lines == ["NAME        ACC", "tiny         0.5", "a-much-...  0.25"]
    assert render_table(None, [("a", "x y"), ("bb", "")], max_width=None) == ["a   x y", "bb"]
    assert render_table(None, [("a", "1 entry"), ("bb", "12 entries")], align="<>") == ["a      1 entry", "bb  12 entries"]
    assert [format_value(v) for v in (None, True, 0.12345, 1e-5, [1], "s")] == ["-", "true", "0.1235", "1e-05", "[1]", "s"]


# Private names of pluggy and click change without notice between releases.
_PRIVATE = re.compile(
    r"_inner_hookexec|\._hookexec|_nonwrappers|\._wrappers\b|\._hookimpls\b|_name2plugin|_plugin2hookcallers"
    r"|pluggy\._|click\.core\._|click\._|_main_shell_completion|from click\.\w+ import _"
)


def test_packages_use_no_private_names_of_pluggy_or_click():
    found = [
        f"{path.relative_to(PACKAGES)}:{number}: {line.strip()}"
        for path in PACKAGES.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _PRIVATE.search(line)
    ]
    assert found == []


def test_a_process_that_exited_but_is_not_reaped_is_not_alive():
    import subprocess
    import sys
    import time

    from runway.support.processes import pid_alive

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while pid_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(child.pid)  # exited, still a zombie until waited for
    assert child.poll() == 0
