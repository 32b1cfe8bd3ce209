"""What a teacher's upload costs: adding one document to a course in a running library chat, against
re-indexing the same course from scratch, in the same run.

    python bench/bench_library_upload.py [--corpus DIR]

The course is a copy of the project's corpus/ (or DIR), opened through `ServedLibrary` as `tutor chat
--library` opens it. "Upload" is `ServedLibrary.add`: the file checked, saved, the course re-indexed (only
the new passages embedded) and swapped in; then a question about the new document is asked. The baseline
is `open_index(..., rebuild=True)` on the same course folder and a fresh index folder: every passage embedded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NEW_DOCUMENT = """# Cell Division

## Mitosis

Mitosis is the division of one cell nucleus into two identical nuclei, each holding the same chromosomes as
the parent cell.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from tutor.library import find_courses
    from tutor.store import open_index
    from tutor.ui_library import ServedLibrary, Teachers

    with tempfile.TemporaryDirectory(prefix="bench-library-") as tmp:
        courses = Path(tmp) / "courses"
        shutil.copytree(args.corpus, courses / "course")
        library = ServedLibrary(find_courses(courses), "extractive", device="cpu", watch_seconds=0)
        started = time.perf_counter()
        served = library.wait("course")
        opened = time.perf_counter() - started
        passages = len(served.served.tutors["extractive"].store.chunks)

        upload = Path(tmp) / "upload.md"
        upload.write_text(NEW_DOCUMENT, encoding="utf-8")
        started = time.perf_counter()
        said = library.add("course", "mitosis.md", upload, Teachers(local=True), None, "127.0.0.1")
        added = time.perf_counter() - started
        answer = served.tutor(None)[0].ask("What is mitosis?")

        started = time.perf_counter()
        open_index(courses / "course", Path(tmp) / "fresh-index", rebuild=True)
        rebuilt = time.perf_counter() - started
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f} (a shared machine stretches wall times)")
    print(f"course of {passages} passages, opened (first index build) in {opened:.1f} s")
    print(f"upload of one document, checked, saved, re-indexed and served: {added:.2f} s")
    print(f"  {said}")
    print(f"  then asked about it: {'answered' if not answer.abstained else 'NOT ANSWERED'}: {answer.text[:80]}")
    print(f"baseline, the same course re-indexed from scratch: {rebuilt:.2f} s "
          f"(the upload took {added / rebuilt:.2f}x of it)")


if __name__ == "__main__":
    main()
