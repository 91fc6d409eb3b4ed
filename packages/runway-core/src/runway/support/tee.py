"""Writing a process's output to a log file as well as to where it goes.

:func:`tee_output` replaces ``sys.stdout`` and ``sys.stderr`` for a while by
streams that write to the original stream unchanged and append the same
text to one log file, as a terminal would show it: colours and cursor
movements are dropped, and a line that a bar rewrote with ``\\r`` is kept
in its last state only (a rich bar of :mod:`runway.support.progress` ends
up as one line, its final count).
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TextIO

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class _LogFile:
    """The file side, shared by both streams: whole lines, as the terminal ends up showing them."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.partial = ""
        self.lock = threading.Lock()

    def write(self, text: str) -> None:
        with self.lock:
            text = self.partial + _ANSI.sub("", text)
            *lines, self.partial = text.split("\n")
            for line in lines:
                self.handle.write(line.rsplit("\r", 1)[-1] + "\n")
            if lines:
                self.handle.flush()

    def close(self) -> None:
        with self.lock:
            if self.partial.rsplit("\r", 1)[-1].strip():
                self.handle.write(self.partial.rsplit("\r", 1)[-1] + "\n")
            self.partial = ""
            self.handle.close()


class TeeStream:
    """A text stream writing to ``terminal`` (unchanged) and to a shared log file."""

    def __init__(self, terminal: TextIO, log: _LogFile) -> None:
        self.terminal = terminal
        self._log = log

    def write(self, text: str) -> int:
        written = self.terminal.write(text)
        try:
            self._log.write(text)
        except (OSError, ValueError):
            pass  # a full disk or a closed log never stops the run
        return written if written is not None else len(text)

    def flush(self) -> None:
        self.terminal.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.terminal, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self.terminal.fileno()

    def __getattr__(self, name: str) -> Any:  # encoding, errors, buffer...
        return getattr(self.terminal, name)


@contextmanager
def tee_output(path: Path | str) -> Iterator[Path]:
    """Append what this process prints (stdout and stderr, interleaved) to ``path`` meanwhile."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    log = _LogFile(open(path, "a", encoding="utf-8", errors="replace"))  # noqa: SIM115 (closed below)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TeeStream(saved[0], log), TeeStream(saved[1], log)  # type: ignore[assignment]
    try:
        yield path
    finally:
        sys.stdout, sys.stderr = saved
        log.close()
