"""Benchmark reading course files: large inputs stay linear, and a PDF bomb stops at the text limit.

Prints: the time to split and chunk about 4 MB of plain text (the bundled article repeated), and what
reading a small PDF that repeats one page's content on 5,000 pages gives (characters, time, warning).

    .venv/bin/python bench/bench_ingest.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from tiny_pdf import make_pdf  # noqa: E402

from tutor.chunking import chunk_sections  # noqa: E402
from tutor.ingest import Document, read_document, split_sections  # noqa: E402


def main() -> None:
    article = (ROOT / "corpus" / "deep-learning-academic-vs-industry.txt").read_text(encoding="utf-8")
    text = (article + "\n\n") * (4_000_000 // len(article))
    doc = Document("corpus/big.txt", text, "plain")
    started = time.perf_counter()
    _, sections = split_sections(doc)
    split = time.perf_counter()
    chunks = chunk_sections(sections)
    print(f"{len(text):,} characters of plain text: sections {split - started:.2f} s, "
          f"passages {time.perf_counter() - split:.2f} s ({len(chunks):,} passages)")

    line = "Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore."
    with tempfile.TemporaryDirectory() as work:
        pdf = Path(work) / "bomb.pdf"
        pdf.write_bytes(make_pdf([[(11, line)] * 400], shared_pages=5000))
        started = time.perf_counter()
        read = read_document(pdf, "corpus/bomb.pdf")
        print(f"a {pdf.stat().st_size:,}-byte PDF of 5,001 pages: {len(read.text):,} characters read in "
              f"{time.perf_counter() - started:.1f} s")
        print(f"  warning: {read.warnings[0]}")


if __name__ == "__main__":
    main()
