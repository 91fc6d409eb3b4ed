"""runway -q / -v: the libraries' chatter is silenced at its source; a crash shows the project's frames."""

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from pathlib import Path

import pytest

from runway.support import verbosity
from runway.support.tracebacks import format_crash, is_library_file


@pytest.fixture(autouse=True)
def _restore_level(monkeypatch):
    for name in (verbosity.ENV, verbosity.TRACEBACK_ENV, "HF_DATASETS_DISABLE_PROGRESS_BARS"):
        monkeypatch.delenv(name, raising=False)
    yield
    os.environ.pop(verbosity.ENV, None)
    verbosity.quiet_third_party()


def test_lightning_information_lines_show_only_when_verbose():
    verbosity.set_level(verbosity.NORMAL)
    assert os.environ[verbosity.ENV] == "normal"  # what the processes a command starts inherit
    for name in verbosity.CHATTY_LOGGERS:
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
        assert logging.getLogger(name).isEnabledFor(logging.WARNING), name
    verbosity.set_level(verbosity.VERBOSE)
    assert all(logging.getLogger(name).isEnabledFor(logging.INFO) for name in verbosity.CHATTY_LOGGERS)


def test_the_pytree_deprecation_is_filtered_once_and_shown_when_verbose():
    message = "`isinstance(treespec, LeafSpec)` is deprecated, use `isinstance(treespec, TreeSpec) and treespec.is_leaf()` instead."
    verbosity.set_level(verbosity.NORMAL)
    verbosity.quiet_third_party()  # idempotent: one filter, not two
    ours = [f for f in warnings.filters if f[0] == "ignore" and f[2] is FutureWarning and "LeafSpec" in getattr(f[1], "pattern", "")]
    assert len(ours) == 2  # the two forms of the message, each once
    with warnings.catch_warnings(record=True) as caught:
        warnings.warn(message, FutureWarning, stacklevel=1)
    assert not caught
    verbosity.set_level(verbosity.VERBOSE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        warnings.warn(message, FutureWarning, stacklevel=1)
    assert caught


def test_hf_progress_bars_are_off_unless_verbose():
    verbosity.set_level(verbosity.NORMAL)
    assert os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] == "1"  # for a process that imports datasets later
    os.environ.pop("HF_DATASETS_DISABLE_PROGRESS_BARS")
    datasets = pytest.importorskip("datasets")  # imported before: its switch is used
    verbosity.set_level(verbosity.NORMAL)
    assert not datasets.is_progress_bar_enabled()
    if getattr(datasets.config, "HF_DATASETS_DISABLE_PROGRESS_BARS", None):
        return  # imported (earlier in this session) under the variable, which then has priority
    verbosity.set_level(verbosity.VERBOSE)
    assert datasets.is_progress_bar_enabled()
    verbosity.set_level(verbosity.NORMAL)
    assert not datasets.is_progress_bar_enabled()


def test_a_level_in_the_environment_is_read_and_bad_values_are_normal(monkeypatch):
    monkeypatch.setenv(verbosity.ENV, "quiet")
    assert verbosity.is_quiet() and not verbosity.is_verbose()
    monkeypatch.setenv(verbosity.ENV, "2")
    assert verbosity.is_verbose()
    monkeypatch.setenv(verbosity.ENV, "loud")
    assert verbosity.level() == verbosity.NORMAL


def test_quiet_and_verbose_together_is_a_usage_error(runway_cli):
    result = runway_cli("-q", "-v", "plugins")
    assert result.exit_code == 2 and "not both" in result.output


def _crash_through_the_library(tmp_path: Path) -> BaseException:
    """An error raised by 'project code' (a file in tmp_path) called back from the standard library."""
    user = tmp_path / "project_hook.py"
    user.write_text("def hook(obj):\n    raise ValueError('bad row ' + str(obj))\n", encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        from project_hook import hook  # type: ignore[import-not-found]

        try:
            json.loads('{"a": 1}', object_hook=hook)
        except ValueError as exc:
            return exc
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("project_hook", None)
    raise AssertionError("no error")


def test_a_crash_shows_the_projects_frames_and_traceback_shows_all(tmp_path):
    exc = _crash_through_the_library(tmp_path)
    assert is_library_file(json.__file__) and not is_library_file(str(tmp_path / "project_hook.py"))
    short = format_crash(exc)
    assert "project_hook.py" in short and "raise ValueError" in short
    assert "json" + os.sep + "decoder.py" not in short
    assert "hidden, `runway --traceback` shows them" in short
    assert short.rstrip().endswith("ValueError: bad row {'a': 1}")
    full = format_crash(exc, full=True)
    assert "json" + os.sep + "decoder.py" in full


def test_runway_traceback_in_the_environment_shows_every_frame(tmp_path, monkeypatch):
    exc = _crash_through_the_library(tmp_path)
    monkeypatch.setenv(verbosity.TRACEBACK_ENV, "1")
    assert "json" + os.sep + "decoder.py" in format_crash(exc)


def test_a_crash_with_no_project_frame_is_shown_whole():
    try:
        json.loads("{")
    except ValueError as exc:
        # this test file is "project code" too; drop its frame to leave only the library's
        text = format_crash(exc.with_traceback(exc.__traceback__.tb_next))
    assert "decoder.py" in text and "hidden" not in text
