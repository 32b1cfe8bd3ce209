"""Defaults and limits, in one place. Environment variables override the defaults."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Limits a user can meet; the README's "Limits and guarantees" section repeats them.
MAX_QUESTION_CHARS = 2000
MAX_CORPUS_FILE_BYTES = 20 * 1024 * 1024
# Text read from one document: a small PDF can repeat one page's text thousands of times.
MAX_DOCUMENT_CHARS = 5_000_000
CORPUS_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
# A web page with this many links, whose link text is at least this share of its words, is a page of links (a
# table of contents, an index) and is left out: text pages, Wikipedia's included, link well under a third.
LINK_PAGE_LINKS = 15
LINK_PAGE_SHARE = 0.5

# Passage sizes, in characters: paragraph-sized so that a citation points at something precise.
CHUNK_TARGET_CHARS = 550
CHUNK_MAX_CHARS = 950

DEFAULT_TOP_K = 3
EMBEDDING_MODEL_NAME = "all-MiniLM-L6-v2"


def default_corpus_dir() -> Path:
    return Path(os.environ.get("TUTOR_CORPUS") or PROJECT_ROOT / "corpus")


def default_index_dir() -> Path:
    return Path(os.environ.get("TUTOR_INDEX") or PROJECT_ROOT / "index")


def default_generator() -> str:
    return os.environ.get("TUTOR_GENERATOR") or "auto"


def default_device() -> str:
    return os.environ.get("TUTOR_DEVICE") or "auto"
