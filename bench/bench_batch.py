"""Benchmark `tutor batch` against answering the same questions one by one, in the same run.

1,000 questions (eval/questions/questions.jsonl repeated, each with its own id), extractive, on the CPU.
Batched: `run_batch`, the code path of `tutor batch` (process start excluded), into a JSON-lines file.
One by one: `Tutor.ask` for each question. Prints questions/s for both (wall clock and CPU time, since
other work on the machine slows the wall clock), the ratio, where the batched time goes, and peak RSS.

    .venv/bin/python bench/bench_batch.py                 # the project's corpus/ and index/
    .venv/bin/python bench/bench_batch.py --n 1000 --one-by-one 300
    .venv/bin/python bench/bench_batch.py --format html    # into a printable sheet instead
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tutor import Tutor  # noqa: E402
from tutor.batch import BATCH_SIZE, run_batch  # noqa: E402
from tutor.cli import build_parser  # noqa: E402

TARGET_RATE = 100.0
TARGET_RATIO = 5.0


class Stopwatch:
    """Wraps methods of the tutor to add up the wall time spent in each stage of the batched path."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, owner, name: str, stage: str) -> None:
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - started

        setattr(owner, name, timed)

    def unwrap(self, owner, *names: str) -> None:
        for name in names:
            owner.__dict__.pop(name, None)


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def print_compute_bound(tutor, questions: list[str], embed_seconds: float, batched_wall: float, single_rate: float):
    """How close batched embedding runs to this machine's matrix-multiply speed, and so what ratio
    against one-by-one answering the embedding model allows at most."""
    import torch

    embedder = tutor.retriever.embedder
    tokenizer, layers = getattr(embedder, "tokenizer", None), getattr(embedder, "layers", None)
    if tokenizer is None or layers is None:
        return
    tokens = sum(len(e.ids) for e in tokenizer.encode_batch(questions))
    # Dense layers only (attention over ~16 tokens is a few percent): 2 FLOPs a weight a token.
    flops = 2 * tokens * sum(int(np.prod(w.shape)) for layer in layers for w in layer if w.ndim == 2)
    achieved = flops / embed_seconds / 1e9
    rows = tokens * BATCH_SIZE // len(questions)
    x, w, b = torch.randn(rows, 384), torch.randn(384, 1536), torch.zeros(1536)
    torch.addmm(b, x, w)
    started, n = time.perf_counter(), 200
    for _ in range(n):
        torch.addmm(b, x, w)
    peak = 2 * rows * 384 * 1536 * n / (time.perf_counter() - started) / 1e9
    rest = batched_wall - embed_seconds
    best_rate = len(questions) / (flops / peak / 1e9 + rest)
    print(f"embedding: {tokens / len(questions):.1f} tokens a question, {achieved:.0f} GFLOP/s in the dense layers; "
          f"a bare {rows}x384x1536 matrix multiply here runs at {peak:.0f} GFLOP/s ({100 * achieved / peak:.0f}% of it)")
    print(f"with embedding at that speed and the rest unchanged: at most {best_rate:.0f} questions/s, "
          f"{best_rate / single_rate:.1f}x one by one")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="questions (default 1000)")
    parser.add_argument("--one-by-one", type=int, default=None, metavar="N",
                        help="time `ask` on the first N questions only (default: all of them)")
    parser.add_argument("--format", choices=["jsonl", "csv", "md", "html"], default="jsonl",
                        help="what the batched run writes (default jsonl)")
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--index", default=str(ROOT / "index"))
    opts = parser.parse_args()

    import torch

    base = [json.loads(line)["question"] for line in (ROOT / "eval" / "questions" / "questions.jsonl").open(encoding="utf-8")]
    questions = [base[i % len(base)] for i in range(opts.n)]
    print(f"{opts.n} questions ({len(base)} distinct, each with its own id), extractive, CPU; "
          f"{os.cpu_count()} cores, torch {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.1f} at start")

    tutor = Tutor.load(opts.corpus, opts.index, generator="extractive", device="cpu")
    tutor.ask_many(questions[:BATCH_SIZE])  # warm-up: first calls allocate

    work = Path(tempfile.mkdtemp(prefix="tutor-bench-batch-"))
    source, out = work / "questions.jsonl", work / f"answers.{opts.format}"
    with open(source, "w", encoding="utf-8") as f:
        for i, q in enumerate(questions):
            f.write(json.dumps({"id": f"b{i}", "question": q}) + "\n")
    args = build_parser().parse_args(["batch", str(source), "--out", str(out), "--force"])

    watch = Stopwatch()
    watch.wrap(tutor.retriever, "embed", "embedding")
    watch.wrap(tutor.retriever, "search", "retrieval (FAISS, BM25, fusion)")
    watch.wrap(tutor, "_drafts", "answer composition")
    devnull = open(os.devnull, "w")
    stderr, sys.stderr = sys.stderr, devnull  # run_batch's summary line
    try:
        batched_wall, batched_cpu = timed(lambda: run_batch(args, tutor=tutor))
    finally:
        sys.stderr = stderr
    watch.unwrap(tutor.retriever, "embed", "search")
    watch.unwrap(tutor, "_drafts")
    if opts.format == "csv":
        with open(out, newline="", encoding="utf-8") as f:  # a cell that was made spreadsheet-safe, as it was
            batched = [{"answer": re.sub(r"^'(?=[-+=@\t\r])", "", r["answer"]), "error": r["error"] or None}
                       for r in csv.DictReader(f)]
    else:
        log = out if opts.format == "jsonl" else work / f"answers.{opts.format}.log.jsonl"  # a sheet's answers
        batched = [json.loads(line) for line in log.open(encoding="utf-8")]
    assert len(batched) == opts.n and all(a["error"] is None for a in batched)

    single_n = min(opts.one_by_one or opts.n, opts.n)
    single: list = []
    single_wall, single_cpu = timed(lambda: single.extend(tutor.ask(q) for q in questions[:single_n]))
    same = all(a.text == b["answer"] for a, b in zip(single, batched))

    batched_rate, single_rate = opts.n / batched_wall, single_n / single_wall
    ratio = batched_rate / single_rate
    print(f"batched (tutor batch into .{opts.format}, {BATCH_SIZE} a batch): {batched_rate:7.1f} questions/s  "
          f"({1000 * batched_wall / opts.n:.2f} ms wall, {1000 * batched_cpu / opts.n:.2f} ms CPU a question)")
    print(f"one by one (Tutor.ask, {single_n}):      {single_rate:7.1f} questions/s  "
          f"({1000 * single_wall / single_n:.2f} ms wall, {1000 * single_cpu / single_n:.2f} ms CPU a question)")
    print(f"ratio batched / one by one: {ratio:.1f}x wall, {(single_cpu / single_n) / (batched_cpu / opts.n):.1f}x CPU;"
          f" same answers: {'yes' if same else 'NO'}")
    accounted = sum(watch.seconds.values())
    print("where the batched time goes:")
    for stage, seconds in [*watch.seconds.items(), ("writing, reading input, the rest", batched_wall - accounted)]:
        print(f"  {stage:<34} {seconds:6.2f} s  {100 * seconds / batched_wall:4.0f}%")
    print_compute_bound(tutor, questions, watch.seconds["embedding"], batched_wall, single_rate)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB; load average {os.getloadavg()[0]:.1f} at end")
    print(f"targets: >= {TARGET_RATE:.0f} questions/s batched: {'met' if batched_rate >= TARGET_RATE else 'NOT met'}; "
          f">= {TARGET_RATIO:.0f}x one by one: {'met' if ratio >= TARGET_RATIO else 'NOT met'}")


if __name__ == "__main__":
    main()
