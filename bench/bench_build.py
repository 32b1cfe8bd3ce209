"""Benchmark building indexes: the former recipe against today's, and HNSW against exact search.

Builds fresh indexes of the bundled course and of ../shared/bench/squad6/corpus three times each, in turn:
with the former recipe (sentence-transformers on the CPU, `engine="sentence-transformers"`), with the torch
forward pass in float32 (`engine="torch"`), and with today's (`engine="auto"`: the torch forward pass, in
bfloat16 where the CPU multiplies it natively). Then it embeds every squad6 text both ways and prints how
close today's vectors are to float32's (cosine, mean and least). Each build runs in a process
of its own, as `tutor index --rebuild` would, so the time includes loading the model and the peak RSS is
that build's own. Prints wall and CPU seconds, MB of course text per minute, the ratio, and peak RSS;
figures on a shared machine vary from run to run, the ratio less than the seconds.

Then, with --ann N (default 200,000; 0 skips it): N unit vectors made from squad6's passage and sentence
vectors (each repeated with a little noise, so that no two are equal), searched by 200 of its questions:
recall@10 of the HNSW index that `tutor.vectorindex` builds from EXACT_BELOW vectors on, against exact
search, and the query latency of each.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_build.py [--repeat R] [--ann N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SQUAD6 = ROOT.parent / "shared" / "bench" / "squad6"  # beside the repository, as in the project's checkout
RECIPES = {"former": "sentence-transformers", "float32": "torch", "today": "auto"}


def course_megabytes(corpus: Path) -> float:
    from tutor.ingest import load_corpus

    documents, _ = load_corpus(corpus)
    return sum(len(d.text.encode("utf-8")) for d in documents) / 1e6


def build_once(corpus: str, engine: str) -> None:
    """In a process of its own: build a fresh index, print one JSON line of figures."""
    from tutor.store import build_index

    with tempfile.TemporaryDirectory(prefix="bench-build-") as index:
        wall, cpu = time.perf_counter(), time.process_time()
        store = build_index(Path(corpus), Path(index), device="cpu", fresh=True, engine=engine)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"wall": wall, "cpu": cpu, "passages": len(store.chunks), "units": len(store.units),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run_build(corpus: Path, engine: str) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, __file__, "--one", str(corpus), engine], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_builds(courses: list[Path], repeat: int) -> None:
    print("course                      recipe   wall s   cpu s  MB/min (wall, cpu)  peak RSS MB")
    for corpus in courses:
        mb = course_megabytes(corpus)
        runs: dict[str, list[dict]] = {name: [] for name in RECIPES}
        for _ in range(repeat):
            for name, engine in RECIPES.items():  # in turn, so all see the same load on the machine
                runs[name].append(run_build(corpus, engine))
        best = {}
        for name, rows in runs.items():
            wall, cpu = min(r["wall"] for r in rows), min(r["cpu"] for r in rows)
            best[name] = (wall, cpu)
            print(f"{corpus.name[:18]:<18} {mb:5.3f} MB  {name:<7} {wall:7.1f} {cpu:7.1f}  "
                  f"{mb / wall * 60:7.3f} {mb / cpu * 60:7.3f}     {max(r['peak_rss_mb'] for r in rows):7.0f}"
                  f"   ({rows[0]['passages']} passages, {rows[0]['units']} units)")
        for name in ("float32", "today"):
            print(f"{'':<29}speed-up of {name} over former: {best['former'][0] / best[name][0]:.1f}x wall, "
                  f"{best['former'][1] / best[name][1]:.1f}x cpu")


def bench_agreement(corpus: Path) -> None:
    """How close the vectors of today's build engine are to float32's, over every text a build embeds."""

    from tutor.embeddings import TorchMiniLM, load_embedder
    from tutor.store import parse_corpus, texts_to_embed

    texts = sorted(set(texts_to_embed(parse_corpus(corpus))))
    today = load_embedder("cpu", "auto", building=True)
    same = today.encode(texts, batch_size=64)
    exact = TorchMiniLM().encode(texts, batch_size=64)
    cosine = (same * exact).sum(1)
    print(f"\ntoday's build engine ({type(today).__name__}, {getattr(today, 'dtype', 'float32')}) against float32, "
          f"{len(texts):,} texts of {corpus.parent.name}: cosine mean {cosine.mean():.5f}, least {cosine.min():.5f}")


def bench_ann(n: int, squad6: Path) -> None:
    import numpy as np

    from tutor.embeddings import TorchMiniLM
    from tutor.store import build_index
    from tutor.vectorindex import is_exact, make_index, search

    with tempfile.TemporaryDirectory(prefix="bench-ann-") as index:
        store = build_index(squad6 / "corpus", Path(index), device="cpu")
    questions = [json.loads(line)["q"] for line in (squad6 / "qa.jsonl").read_text(encoding="utf-8").splitlines()]
    queries = TorchMiniLM().encode(questions[::len(questions) // 200][:200])
    real = np.concatenate([store.unit_vectors, store.chunk_index.reconstruct_n(0, store.chunk_index.ntotal)])
    rng = np.random.default_rng(0)
    vectors = real[rng.integers(0, len(real), n)] + rng.normal(0, 0.03, (n, real.shape[1])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    started = time.perf_counter()
    hnsw = make_index(vectors, exact_below=1)
    built = time.perf_counter() - started
    exact = make_index(vectors, exact_below=n + 1)
    assert is_exact(exact) and not is_exact(hnsw)
    timings = {}
    for name, idx in (("exact", exact), ("hnsw", hnsw)):
        started = time.perf_counter()
        for q in queries:  # one question at a time, as a student asks
            _, ids = search(idx, q[None], k=10)
        timings[name] = (time.perf_counter() - started) / len(queries) * 1000
    _, truth = search(exact, queries, k=10)
    _, found = search(hnsw, queries, k=10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found)])
    print(f"\n{n:,} vectors of dimension {vectors.shape[1]}: HNSW built in {built:.0f} s; recall@10 against exact "
          f"{recall:.3f}; latency per question: exact {timings['exact']:.2f} ms, HNSW {timings['hnsw']:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=2, metavar=("CORPUS", "ENGINE"), help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1, help="builds of each course by each recipe (best kept)")
    parser.add_argument("--squad6", type=Path, default=SQUAD6, help=f"the squad6 folder (default: {SQUAD6})")
    parser.add_argument("--ann", type=int, default=200_000, help="vectors for the HNSW benchmark (0: skip it)")
    args = parser.parse_args()
    if args.one:
        build_once(*args.one)
        return
    bench_builds([ROOT / "corpus", args.squad6 / "corpus"], args.repeat)
    bench_agreement(args.squad6 / "corpus")
    if args.ann:
        bench_ann(args.ann, args.squad6)


if __name__ == "__main__":
    main()
