"""Shared fixtures: the real course article, the real embedding model, a real FAISS index on disk."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "deep-learning-academic-vs-industry.txt"


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    """A copy of the project's corpus (tests must never touch the real one)."""
    path = tmp_path_factory.mktemp("corpus") / "corpus"
    shutil.copytree(ROOT / "corpus", path)
    return path


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, corpus_dir) -> Path:
    """An index built once for the session from `corpus_dir` (copy it before damaging it)."""
    from tutor.store import open_index

    path = tmp_path_factory.mktemp("index") / "index"
    open_index(corpus_dir, path)
    return path


@pytest.fixture
def corpus(tmp_path, corpus_dir) -> Path:
    """A private copy of the course, free to edit."""
    return Path(shutil.copytree(corpus_dir, tmp_path / "corpus"))


@pytest.fixture
def index(tmp_path, index_dir) -> Path:
    """A private copy of the session's index, free to damage."""
    return Path(shutil.copytree(index_dir, tmp_path / "index"))


@pytest.fixture(scope="session")
def tutor(corpus_dir, index_dir):
    """A Tutor over the real article, extractive, on the CPU."""
    from tutor import Tutor

    return Tutor.load(corpus_dir, index_dir, generator="extractive", device="cpu")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per test module (the chat's and the library's browser tests)."""
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _require_browser

    sync_playwright = _require_browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
