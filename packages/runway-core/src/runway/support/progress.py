"""Progress of long steps: a rich bar on a terminal, a periodic log line elsewhere.

One helper for every part of Runway that works through many items (pipeline
nodes and shards, batches of inference, records of an evaluation, sweep
points)::

    from runway.support.progress import progress

    with progress("infer example_V1", total=len(loader), unit="batches") as bar:
        for batch in loader:
            ...
            bar.advance(note=f"{rows} rows")

On a terminal (the stream's ``isatty()``) the bar is drawn with rich and
removed when done, lines printed meanwhile (``bar.log(line)`` or plain
``print``) appear above it. Anywhere else (a log file, a pipe, a SLURM job's
output, a sweep child's ``job.log``) nothing is drawn; a line saying the
same (``infer example_V1: 40/120 batches (33%), 12.3 s, 3.2 batches/s``) is
written at most every :data:`LOG_INTERVAL_S` seconds
(``RUNWAY_PROGRESS_INTERVAL_S`` overrides it), so a long step still shows
that it moves, and a short one adds no line at all. ``runway -q`` turns
both off. ``RUNWAY_PROGRESS=off`` turns the bar off, ``on`` forces it (for
tests of the display).

The helper never raises because of its display: a bar that cannot be drawn
falls back to the log lines.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO, TypeVar

#: seconds between two log lines when no bar is drawn
LOG_INTERVAL_S = 10.0
INTERVAL_ENV = "RUNWAY_PROGRESS_INTERVAL_S"
MODE_ENV = "RUNWAY_PROGRESS"

T = TypeVar("T")


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get(INTERVAL_ENV, LOG_INTERVAL_S)))
    except ValueError:
        return LOG_INTERVAL_S


def on_terminal(stream: TextIO | None = None) -> bool:
    """Whether a bar is drawn on ``stream`` (default stdout): a terminal, not ``-q``, not ``RUNWAY_PROGRESS=off``."""
    from runway.support.verbosity import is_quiet

    mode = os.environ.get(MODE_ENV, "").strip().lower()
    if is_quiet() or mode in ("off", "0", "no", "false"):
        return False
    if mode in ("on", "1", "yes", "true"):
        return True
    stream = stream if stream is not None else sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or odd stream
        return False


def human_size(size: int | float) -> str:
    """``615.1 kB``: sizes in powers of 1000, as ``du -h --si`` and the pipeline's lines write them."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


class ProgressBar:
    """One step's progress; use :func:`progress` to make one."""

    def __init__(
        self,
        description: str,
        total: int | None = None,
        *,
        unit: str = "",
        stream: TextIO | None = None,
        interval: float | None = None,
        terminal: bool | None = None,
    ) -> None:
        from runway.support.verbosity import is_quiet

        self.description = description
        self.total = total
        self.unit = unit
        self.completed = 0
        self.note = ""
        self.stream = stream
        self.quiet = is_quiet()
        self.interval = _interval() if interval is None else interval
        self.started = time.monotonic()
        self._last_line = self.started
        self._lines = 0
        self._rich: Any = None
        self._task: Any = None
        if terminal is None:
            terminal = on_terminal(stream)
        if terminal and not self.quiet:
            self._start_rich()

    # -------------------------------------------------------------- display

    def _start_rich(self) -> None:
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(file=self.stream or sys.stdout, force_terminal=True)
            columns = [
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn() if self.total is not None else TextColumn("{task.completed}"),
                TextColumn(self.unit),
                TimeElapsedColumn(),
                TextColumn("{task.fields[note]}"),
            ]
            self._rich = Progress(*columns, console=console, transient=True)
            self._rich.start()
            self._task = self._rich.add_task(self.description, total=self.total, note="")
        except Exception:  # noqa: BLE001 (no display must stop the work)
            self._rich = None

    @property
    def drawn(self) -> bool:
        """Whether a bar is on the terminal (else log lines are written)."""
        return self._rich is not None

    def _line(self) -> str:
        if self.total:
            done = f"{self.completed}/{self.total}{' ' + self.unit if self.unit else ''} ({100 * self.completed / self.total:.0f}%)"
        else:
            done = f"{self.completed}{' ' + self.unit if self.unit else ''}"
        elapsed = time.monotonic() - self.started
        rate = ""
        if elapsed > 0 and self.completed:
            per_second = self.completed / elapsed
            one = (self.unit[:-1] if self.unit.endswith("s") else self.unit) or "item"
            rate = f", {per_second:.1f} {self.unit or 'items'}/s" if per_second >= 1 else f", {elapsed / self.completed:.1f} s per {one}"
        note = f"  {self.note}" if self.note else ""
        return f"{self.description}: {done}, {elapsed:.1f} s{rate}{note}"

    def _write(self, line: str) -> None:
        print(line, file=self.stream or sys.stdout, flush=True)

    def _refresh(self) -> None:
        if self.quiet:
            return
        if self._rich is not None:
            try:
                self._rich.update(self._task, completed=self.completed, total=self.total, description=self.description, note=self.note)
            except Exception:  # noqa: BLE001
                self._rich = None
            return
        now = time.monotonic()
        if now - self._last_line >= self.interval:
            self._last_line = now
            self._lines += 1
            self._write(self._line())

    # -------------------------------------------------------------- API

    def advance(self, n: int = 1, *, note: str | None = None) -> None:
        """``n`` more items are done; ``note`` (a size, a name) is shown beside the count."""
        self.completed += n
        if note is not None:
            self.note = note
        self._refresh()

    def update(
        self, *, completed: int | None = None, total: int | None = None, note: str | None = None, description: str | None = None
    ) -> None:
        """Set what is known: the count done, the total (once known), the note or the description."""
        if completed is not None:
            self.completed = completed
        if total is not None:
            self.total = total
        if note is not None:
            self.note = note
        if description is not None:
            self.description = description
        self._refresh()

    def log(self, line: str) -> None:
        """Print a line; on a terminal, above the bar."""
        if self._rich is not None:
            try:
                self._rich.console.print(line, markup=False, highlight=False, soft_wrap=True)
                return
            except Exception:  # noqa: BLE001
                self._rich = None
        self._write(line)

    def close(self) -> None:
        """Remove the bar; a step that wrote log lines ends with one more, its final count."""
        if self._rich is not None:
            try:
                self._rich.stop()
            except Exception:  # noqa: BLE001
                pass
            self._rich = None
        elif self._lines and not self.quiet:
            self._write(self._line())

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(
    description: str,
    total: int | None = None,
    *,
    unit: str = "",
    stream: TextIO | None = None,
    interval: float | None = None,
    terminal: bool | None = None,
) -> ProgressBar:
    """A :class:`ProgressBar` for ``total`` items (``None``: unknown), as a context manager.

    :param stream: where it draws or writes (default stdout).
    :param interval: seconds between log lines (default :data:`LOG_INTERVAL_S`).
    :param terminal: draw a bar (``True``) or write lines (``False``); default: :func:`on_terminal`.
    """
    return ProgressBar(description, total, unit=unit, stream=stream, interval=interval, terminal=terminal)


def track(
    items: Iterable[T], description: str, total: int | None = None, *, unit: str = "", stream: TextIO | None = None
) -> Iterator[T]:
    """Yield ``items``, advancing a bar by one for each."""
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with progress(description, total, unit=unit, stream=stream) as bar:
        for item in items:
            yield item
            bar.advance()
