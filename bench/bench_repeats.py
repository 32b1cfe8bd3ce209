"""Time reading a course with and without the check for documents that repeat another; say what it leaves out.

On a Sphinx site export (the Python documentation: each page as HTML and as `_sources/*.rst.txt`)
it prints the load time both ways in the same run (best of three, alternated), the check's own time, and the counts: source
copies left out for their page, pages left out (and for which document), source copies kept.

    .venv/bin/python bench/bench_repeats.py [/usr/share/doc/python3.11/html]
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import tutor.ingest as ingest  # noqa: E402
from tutor.repeats import drop_repeats  # noqa: E402

ROUNDS = 3


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/doc/python3.11/html")
    logging.disable(logging.WARNING)
    without, with_check, check = [], [], []
    for _ in range(ROUNDS):  # alternated, best of each: the machine may be shared
        ingest.drop_repeats = lambda documents: (list(documents), [])
        start = time.perf_counter()
        documents, _ = ingest.load_corpus(corpus)
        without.append(time.perf_counter() - start)
        ingest.drop_repeats = drop_repeats
        start = time.perf_counter()
        kept, _ = ingest.load_corpus(corpus)
        with_check.append(time.perf_counter() - start)
        start = time.perf_counter()
        _, repeats = drop_repeats(documents)
        check.append(time.perf_counter() - start)

    def source_copy(name: str) -> bool:
        return "/_sources/" in name

    print(f"{corpus}: {len(documents)} documents, {sum(len(d.text) for d in documents) / 1e6:.1f} M characters")
    print(f"load without the check {min(without):.1f} s, with it {min(with_check):.1f} s; the check alone "
          f"{min(check):.2f} s (best of {ROUNDS})")
    print(f"left out {len(repeats)}, kept {len(kept)} holding {sum(len(d.text) for d in kept) / 1e6:.1f} M characters")
    print(f"  source copies left out for their own page: "
          f"{sum(source_copy(r.left_out) and r.kept.endswith('.html') for r in repeats)}")
    pages = [r for r in repeats if not source_copy(r.left_out)]
    print(f"  pages left out: {len(pages)}")
    for repeat in pages:
        print(f"    {repeat.warning()}")
    print(f"  source copies kept: {sum(source_copy(d.source) for d in kept)} "
          f"(of them under 50 words: {sum(source_copy(d.source) and len(d.text.split()) < 50 for d in kept)})")


if __name__ == "__main__":
    main()
