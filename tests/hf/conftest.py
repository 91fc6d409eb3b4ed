"""Fixtures of the runway-hf tests: a private ``datasets`` cache, a locally trained tokenizer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _private_hf_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``load_dataset`` writes its own Arrow cache; keep it out of the home folder."""
    import datasets

    folder = tmp_path_factory.mktemp("hf-datasets-cache")
    old_env = os.environ.get("HF_DATASETS_CACHE")
    old_config = datasets.config.HF_DATASETS_CACHE
    os.environ["HF_DATASETS_CACHE"] = str(folder)
    datasets.config.HF_DATASETS_CACHE = folder
    datasets.disable_progress_bars()
    yield
    datasets.config.HF_DATASETS_CACHE = old_config
    if old_env is None:
        os.environ.pop("HF_DATASETS_CACHE", None)
    else:
        os.environ["HF_DATASETS_CACHE"] = old_env


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A WordPiece tokenizer trained here on the example's sentences (no download)."""
    from runway_hf.examples.text_classification import synthetic_sentences, train_wordpiece_tokenizer

    folder = tmp_path_factory.mktemp("tokenizer") / "wordpiece"
    texts = [str(row["text"]) for row in synthetic_sentences(200)]
    texts += ["inform restaurant name", "request phone number", "confirm date time", "hello how are you"]
    train_wordpiece_tokenizer(texts, folder, vocab_size=300)
    return folder


@pytest.fixture
def make_transform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """``make_transform(cls, **setup_kwargs)``: an instance set up as the pipeline does it.

    The current folder is the test's ``tmp_path``, so relative paths start there.
    """
    monkeypatch.chdir(tmp_path)

    def make(cls: type, node_name: str = "test:node", **setup_kwargs: object) -> object:
        transform = cls()
        transform.node_name = node_name
        transform.setup(**setup_kwargs)
        return transform

    return make
