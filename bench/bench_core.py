"""Benchmark the core pipeline on this machine and compare it with a naive baseline in the same run.

Prints: index build time, warm `ask` latency p50/p95, a cold `tutor ask` process, peak RSS, and recall@3
and latency of a naive baseline (fixed 500-character chunks, dense search only), as ratios.

    .venv/bin/python bench/bench_core.py
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tutor import Tutor  # noqa: E402
from tutor.evaluation import _EvidenceLocator, _norm, load_questions, retrieval_scores  # noqa: E402
from tutor.ingest import load_corpus  # noqa: E402


def percentile(values, p):
    return float(np.percentile(np.array(values), p))


def main() -> None:
    questions = load_questions(ROOT / "eval" / "questions" / "questions.jsonl")
    answerable = [q for q in questions if q.answerable]
    work = Path(tempfile.mkdtemp(prefix="tutor-bench-"))
    corpus, index = work / "corpus", work / "index"
    shutil.copytree(ROOT / "corpus", corpus)

    started = time.perf_counter()
    tutor = Tutor.load(corpus, index, generator="extractive", device="cpu")
    build_s = time.perf_counter() - started

    for q in questions[:5]:
        tutor.ask(q.question)  # warm-up
    latencies = []
    for _ in range(3):
        for q in questions:
            t = time.perf_counter()
            tutor.ask(q.question)
            latencies.append((time.perf_counter() - t) * 1000)
    locator = _EvidenceLocator(tutor)
    ours = retrieval_scores(tutor.retriever, answerable, locator)

    # Naive baseline: fixed 500-character windows of the raw text, dense search only, same embedder.
    import faiss

    documents, _ = load_corpus(corpus)
    windows = [d.text[i : i + 500] for d in documents for i in range(0, len(d.text), 500)]
    embedder = tutor.retriever.embedder
    base_index = faiss.IndexFlatIP(384)
    base_index.add(embedder.encode(windows))
    base_lat, base_hits = [], 0
    for q in answerable:
        t = time.perf_counter()
        _, ids = base_index.search(embedder.encode([q.question]), 3)
        base_lat.append((time.perf_counter() - t) * 1000)
        base_hits += any(_norm(q.evidence) in _norm(windows[i]) for i in ids[0])
    base_recall = base_hits / len(answerable)

    cold = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tutor", "ask", "What is model drift?", "--corpus", str(corpus), "--index", str(index)],
            check=True, capture_output=True, env=env,
        )
        cold.append(time.perf_counter() - t)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    p50 = statistics.median(latencies)
    print(f"passages {len(tutor.store.chunks)}, eval questions {len(questions)} ({len(answerable)} answerable)")
    print(f"index build (first use, incl. model load)  {build_s:6.1f} s")
    print(f"warm ask latency p50 / p95                 {p50:6.1f} / {percentile(latencies, 95):.1f} ms  (target p50 <= 30)")
    print(f"cold `tutor ask` process (median of 3)     {statistics.median(cold):6.2f} s   (target <= 6)")
    print(f"peak RSS of this process                   {peak_mb:6.0f} MB  (target <= 1024)")
    print(f"recall@3 tutor / naive baseline            {ours['recall@3']:.3f} / {base_recall:.3f}  "
          f"(ratio {ours['recall@3'] / max(base_recall, 1e-9):.2f}x)")
    print(f"latency tutor ask / baseline retrieval     {p50:.1f} / {statistics.median(base_lat):.1f} ms  "
          f"(ratio {p50 / max(statistics.median(base_lat), 1e-9):.2f}x)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
