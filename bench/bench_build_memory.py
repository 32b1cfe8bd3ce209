"""Peak memory of an index build, with and without handing the heap's freed memory back after each batch.

Each build runs in a process of its own (peak RSS is per process), fresh, into a temporary folder:

    .venv/bin/python bench/bench_build_memory.py COURSE_DIR

Prints passages, sentences, seconds and peak RSS for each. The README's figures: 120 pages of the Python 3.11
library reference (`apt-get install -y python3-doc`; the first 120 `library/*.html` in sorted order, copied
into a folder of their own).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import resource, sys, tempfile, time
from pathlib import Path
import tutor.embeddings as embeddings
if sys.argv[2] == "without":
    embeddings.release_free_memory = lambda: None
from tutor.store import build_index
with tempfile.TemporaryDirectory() as work:
    started = time.perf_counter()
    store = build_index(Path(sys.argv[1]), Path(work) / "index", fresh=True)
    print(f"{sys.argv[2]:>7} the trim: {len(store.chunks):,} passages, {len(store.units):,} sentences, "
          f"{time.perf_counter() - started:.0f} s, build peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB", flush=True)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("course", help="the course folder to build")
    args = parser.parse_args()
    env_path = str(ROOT)
    for mode in ("with", "without"):
        done = subprocess.run([sys.executable, "-c", CHILD, args.course, mode],
                              env={"PYTHONPATH": env_path, "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
        if done.returncode:
            return done.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
