"""runway.support.progress: a bar on a terminal, a periodic line elsewhere, nothing with -q."""

from __future__ import annotations

import io

import pytest

from runway.support import verbosity
from runway.support.progress import human_size, on_terminal, progress, track


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _normal(monkeypatch):
    monkeypatch.setenv(verbosity.ENV, "normal")
    monkeypatch.delenv("RUNWAY_PROGRESS", raising=False)
    monkeypatch.delenv("RUNWAY_PROGRESS_INTERVAL_S", raising=False)


def test_off_a_terminal_a_line_says_how_far_it_got_at_most_every_interval():
    out = io.StringIO()
    with progress("infer tiny_V1", total=4, unit="batches", stream=out, interval=0) as bar:
        assert not bar.drawn
        for _ in range(4):
            bar.advance(note="32 rows")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("infer tiny_V1: 1/4 batches (25%), ")
    assert "32 rows" in lines[0]
    assert lines[-1].startswith("infer tiny_V1: 4/4 batches (100%), ")


def test_a_short_step_off_a_terminal_writes_no_line():
    out = io.StringIO()
    with progress("eval", total=3, stream=out, interval=60) as bar:
        bar.advance(3)
    assert out.getvalue() == ""


def test_on_a_terminal_a_bar_is_drawn_and_removed_and_logged_lines_stay():
    out = _Tty()
    assert on_terminal(out)
    with progress("prepare", total=2, unit="nodes", stream=out) as bar:
        assert bar.drawn
        bar.log("[1/2] done   input in 0.10s")
        bar.advance()
        bar.advance()
    assert "[1/2] done   input in 0.10s" in out.getvalue()


def test_quiet_and_the_switch_turn_the_bar_and_the_lines_off(monkeypatch):
    out = _Tty()
    monkeypatch.setenv("RUNWAY_PROGRESS", "off")
    assert not on_terminal(out)
    monkeypatch.setenv("RUNWAY_PROGRESS", "")
    monkeypatch.setenv(verbosity.ENV, "quiet")
    assert not on_terminal(out)
    with progress("sweep", total=2, stream=out, interval=0) as bar:
        bar.advance(2)
    assert out.getvalue() == ""


def test_track_counts_the_items_and_sizes_read_like_the_pipeline_lines():
    out = io.StringIO()
    assert list(track([1, 2, 3], "items", stream=out)) == [1, 2, 3]
    assert human_size(615_100) == "615.1 kB"
    assert human_size(12) == "12 B"
