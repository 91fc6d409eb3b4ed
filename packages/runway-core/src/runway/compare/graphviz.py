"""Turning Graphviz ``dot`` text into a PNG with the ``dot`` program, when it is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from runway.errors import RunwayError

DOT_TIMEOUT_S = 60


class GraphvizMissing(RunwayError):
    """Graphviz's ``dot`` is not on PATH."""


def dot_to_png(dot_text: str, output: Path) -> Path:
    """Render ``dot_text`` into ``output`` with ``dot -Tpng``."""
    program = shutil.which("dot")
    if program is None:
        raise GraphvizMissing(
            "--format png needs Graphviz's `dot` program on PATH, and there is none "
            "(apt install graphviz / brew install graphviz / conda install graphviz); "
            "or write the graph with --format dot and render it elsewhere"
        )
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [program, "-Tpng", "-o", str(output)], input=dot_text, capture_output=True, text=True, timeout=DOT_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise RunwayError(f"Graphviz's dot could not draw the pipeline: {done.stderr.strip()}")
    return output
