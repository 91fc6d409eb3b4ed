"""The ``arrow`` cache format: ``datasets`` objects saved as Arrow, loaded memory-mapped.

``save`` calls ``save_to_disk`` into the very folder the pipeline hands it
(a temporary one that is renamed into place once complete); the files are
self-contained and name one another by relative paths, so the entry reads
the same from its final path. ``load`` calls ``load_from_disk`` on the final
path with ``keep_in_memory=False``: the rows stay on disk and are paged in
on use, so a cache hit costs about as much as opening the files.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

#: above core's ``json`` (20), ``torch`` (10) and ``pickle`` (-100)
ARROW_PRIORITY = 50


class ArrowFormat:
    """A cache format for ``datasets.Dataset`` and ``datasets.DatasetDict``."""

    name = "arrow"
    priority = ARROW_PRIORITY
    # Arrow tables and JSON metadata: loading them builds no Python objects of the files' choosing
    runs_code = False

    def accepts(self, obj: Any) -> bool:
        # datasets not imported yet: obj cannot be one of its objects
        datasets = sys.modules.get("datasets")
        return datasets is not None and isinstance(obj, (datasets.Dataset, datasets.DatasetDict))

    def save(self, obj: Any, folder: Path) -> None:
        obj.save_to_disk(str(folder))

    def load(self, folder: Path) -> Any:
        from datasets import load_from_disk

        return load_from_disk(str(folder), keep_in_memory=False)
