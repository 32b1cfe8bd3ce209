"""How long building an index takes, and where the time goes: the local build, then `tutor index --ray` on this machine.

    .venv/bin/python bench/bench_ray_build.py                    # shared/bench/squad6's course beside the project
    .venv/bin/python bench/bench_ray_build.py --corpus DIR --no-ray

Prints the course's size; the local build's steps timed in this process (loading the embedding model,
reading and cutting up the files, embedding, writing the index) and its throughput in MB of course files a
minute, model load apart, so that a course of N MB takes about N / throughput minutes plus the fixed
costs; then the wall-clock time of whole `tutor index --rebuild` and `tutor index --ray --rebuild`
processes on temporary index folders (the second starts a local Ray with this machine's CPUs).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tutor.ingest import corpus_files  # noqa: E402


def squad6_corpus() -> Path:
    """shared/bench/squad6/corpus beside the project (../shared), or beside a folder above it (a worktree's)."""
    for folder in ROOT.parents:
        if (folder / "shared" / "bench" / "squad6" / "corpus").is_dir():
            return folder / "shared" / "bench" / "squad6" / "corpus"
    return ROOT / "corpus"


def steps(corpus: Path, index: Path) -> dict[str, float]:
    from tutor.embeddings import load_embedder
    from tutor.store import _text_key, parse_corpus, texts_to_embed, write_index

    times = {}
    started = time.perf_counter()
    embedder = load_embedder("cpu", engine="auto", building=True)  # the engine the build uses
    times["model load"] = time.perf_counter() - started
    at = time.perf_counter()
    parsed = parse_corpus(corpus)
    times["read and cut up"] = time.perf_counter() - at
    at = time.perf_counter()
    texts = sorted(set(texts_to_embed(parsed)))
    vectors = embedder.encode(texts, batch_size=64)
    times["embed"] = time.perf_counter() - at
    at = time.perf_counter()
    index.mkdir()
    write_index(index, parsed, {_text_key(t): v for t, v in zip(texts, vectors)}, fingerprint={}, embedded=len(texts),
                fresh=True, started=started)
    times["write"] = time.perf_counter() - at
    print(f"  {len(parsed.chunks):,} passages, {len(parsed.unit_rows):,} units, {len(texts):,} texts embedded")
    return times


def wall(*args: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tutor", "index", "--rebuild", *args], env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"tutor index {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=squad6_corpus())
    parser.add_argument("--no-ray", action="store_true", help="skip the `--ray` build")
    args = parser.parse_args()
    megabytes = sum(p.stat().st_size for p in corpus_files(args.corpus)) / 1e6
    print(f"course {args.corpus}: {len(corpus_files(args.corpus))} files, {megabytes:.3f} MB; "
          f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as work:
        times = steps(args.corpus, Path(work) / "steps")
        work_s = times["read and cut up"] + times["embed"] + times["write"]
        print("local build, in one process: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
        print(f"  throughput, model load apart: {megabytes / (work_s / 60):.2f} MB/min "
              f"(embedding {times['embed'] / work_s:.0%} of it)")
        local = wall("--corpus", str(args.corpus), "--index", str(Path(work) / "local"))
        print(f"`tutor index --rebuild`, whole process: {local:.1f} s")
        if not args.no_ray:
            on_ray = wall("--ray", "--corpus", str(args.corpus), "--index", str(Path(work) / "ray"))
            print(f"`tutor index --ray --rebuild`, whole process with a local Ray: {on_ray:.1f} s "
                  f"({on_ray / local:.2f}x the local build's time)")


if __name__ == "__main__":
    main()
