"""Recognising a dataset download that needed the Hugging Face Hub and could not reach it.

``datasets`` reports it as a ``ConnectionError`` ("Couldn't reach 'NAME' on
the Hub (...)"), from Runway's loaders and from a project's own transforms
that call ``load_dataset`` alike; both turn it into one message instead of
a traceback.
"""

from __future__ import annotations

import re

_UNREACHABLE = re.compile(r"Couldn't reach '([^']+)' on the Hub")


def unreachable_hub_dataset(exc: BaseException) -> str | None:
    """The dataset that ``exc`` says could not be fetched from the Hub, else ``None``."""
    if not isinstance(exc, OSError):  # ConnectionError is an OSError
        return None
    match = _UNREACHABLE.search(str(exc))
    return match.group(1) if match else None


def hub_unreachable_message(dataset: str, where: str) -> str:
    """What to tell the user when ``dataset`` needed the Hub at ``where``."""
    return (
        f"{where}: dataset {dataset!r} is downloaded from the Hugging Face Hub, which cannot be reached "
        f"from here (no network, or HF_HUB_OFFLINE / HF_DATASETS_OFFLINE is set). Run `runway prepare` "
        f"once where the Hub is reachable (the result is cached), or load local files instead "
        f"(LoadHFDataset with dataset_path: 'json' or 'csv' and data_files)"
    )
