"""Benchmark a large real course: the Python 3.11 documentation (about 500 HTML pages) as Debian installs it.

    apt-get install -y python3-doc                      # once: the pages land in /usr/share/doc/python3.11/html
    python bench/bench_pydocs.py                        # the whole folder: a fresh index in a temp folder
    python bench/bench_pydocs.py --limit-docs 40        # a quick run on 40 of its files
    python bench/bench_pydocs.py --docs DIR --index DIR --keep

It builds a fresh index in a child process and prints the course's size (documents, passages, MB of text),
the build time, MB of text a minute, the index's size on disk and the build's peak resident memory. A
second child process, started fresh, loads that index and asks every question of eval/pydocs one at a time
after one warm-up question: it prints the warm ask latency (p50, p95), the peak resident memory up to the
last answer, and the set's scores as `tutor eval` computes them (tutor/evaluation.py): recall@3 (the
question's evidence in the top 3 passages), answer correctness (the share of expected keywords in the
answer) and abstention, with the questions missed.

`--limit-docs N` builds the course from N of the folder's files: the pages the questions quote first,
then the rest in the order the tutor reads them. Only the questions whose page is among them (and the
unanswerable ones) are scored. Each figure is printed beside its target.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after PYTHONPATH, so a PYTHONPATH checkout wins

DEFAULT_DOCS = Path("/usr/share/doc/python3.11/html")
QUESTIONS = ROOT / "eval" / "pydocs" / "questions.jsonl"
RESULT = "RESULT "  # how a child process marks its one line of figures on stdout
TARGET_BUILD_MIN = 15.0
TARGET_P50_MS = 50.0
TARGET_RSS_MIB = 1.5 * 1024


# ---------------------------------------------------------------------------------------------- the parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help=f"the documentation folder ({DEFAULT_DOCS})")
    parser.add_argument("--index", type=Path, help="build the index here (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary index (and course copy)")
    parser.add_argument("--limit-docs", type=int, metavar="N", help="build from N of the folder's files")
    parser.add_argument("--questions", type=Path, default=QUESTIONS, help="the question set (eval/pydocs)")
    parser.add_argument("--child", nargs=3, metavar=("STEP", "CORPUS", "INDEX"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, corpus, index = args.child
        figures = (build if step == "build" else answer)(Path(corpus), Path(index), args.questions)
        print(RESULT + json.dumps(figures), flush=True)
        return 0

    if not args.docs.is_dir():
        sys.exit(f"No documentation folder at {args.docs}. Install it with `apt-get install -y python3-doc` "
                 "(Debian, Ubuntu), or give --docs DIR.")
    if args.limit_docs is not None and args.limit_docs < 1:
        sys.exit("--limit-docs must be at least 1.")
    work = Path(tempfile.mkdtemp(prefix="bench-pydocs-"))
    try:
        corpus = args.docs
        if args.limit_docs:
            corpus = copy_course(args.docs, work / args.docs.name, args.limit_docs, question_pages(args.questions))
        index = args.index or work / "index"
        print(f"course {corpus}{f' ({args.limit_docs} files of {args.docs})' if args.limit_docs else ''}; "
              f"index {index}; machine: {os.cpu_count()} CPUs", flush=True)
        built = run_child("build", corpus, index, args.questions)
        answered = run_child("answer", corpus, index, args.questions)
        report(built, answered)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def question_pages(path: Path) -> list[str]:
    """The pages the set's questions quote (their `source`), in the set's order."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(row["source"] for row in rows if row.get("source")))


def copy_course(docs: Path, target: Path, limit: int, first: list[str]) -> Path:
    """A course folder of `limit` of the files of `docs`: the pages in `first`, then the others in reading order.
    Copied, not linked: the tutor does not follow links out of a course folder."""
    from tutor.ingest import corpus_files

    files = [docs / page for page in first if (docs / page).is_file()]
    chosen = set(files)
    files += [path for path in corpus_files(docs) if path not in chosen]
    for path in files[:limit]:
        copy = target / path.relative_to(docs)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, copy)
    return target


def run_child(step: str, corpus: Path, index: Path, questions: Path) -> dict:
    """Run one step in a fresh Python process (its memory is its own) and return its figures."""
    command = [sys.executable, str(Path(__file__).resolve()), "--questions", str(questions),
               "--child", step, str(corpus), str(index)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    figures = None
    for line in process.stdout:  # progress lines pass through; the figures line is kept
        if line.startswith(RESULT):
            figures = json.loads(line[len(RESULT):])
        else:
            print(line, end="", flush=True)
    if process.wait() != 0 or figures is None:
        sys.exit(f"The {step} step failed (exit status {process.returncode}).")
    return figures


def report(built: dict, answered: dict) -> None:
    minutes = built["build_s"] / 60
    mark = lambda ok: "ok" if ok else "OVER"  # noqa: E731
    print()
    print(f"documents            {built['documents']:,} ({built['file_mb']:.1f} MB of files)")
    print(f"passages             {built['passages']:,} ({built['units']:,} sentences embedded beside them)")
    print(f"text                 {built['text_mb']:.1f} MB")
    print(f"build                {minutes:.1f} min  (target ≤ {TARGET_BUILD_MIN:.0f} min: {mark(minutes <= 15)})")
    print(f"build rate           {built['text_mb'] / max(minutes, 1e-9):.2f} MB of text a minute")
    print(f"index on disk        {built['index_mb']:.1f} MB")
    print(f"build peak RSS       {built['peak_rss_mib']:,.0f} MiB")
    print(f"load (fresh process) {answered['load_s']:.1f} s")
    p50, p95 = answered["p50_ms"], answered["p95_ms"]
    print(f"warm ask             p50 {p50:.0f} ms, p95 {p95:.0f} ms over {answered['asked']} questions "
          f"(target p50 ≤ {TARGET_P50_MS:.0f} ms: {mark(p50 <= TARGET_P50_MS)})")
    rss = answered["peak_rss_mib"]
    print(f"answering peak RSS   {rss:,.0f} MiB  (target ≤ {TARGET_RSS_MIB:,.0f} MiB: {mark(rss <= TARGET_RSS_MIB)})")
    print(f"scored               {answered['scored']}")
    print(f"recall@3             {answered['recall@3']:.3f}")
    print(f"answer correctness   {answered['answer_correctness']:.3f}")
    print("the whole report (tutor eval's figures):")
    print(answered["report"])


# ---------------------------------------------------------------------------------------------- the children


def peak_rss_mib() -> float:
    """The most resident memory this process (or any process it waited for) has held, in MiB."""
    kib = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return kib / 1024


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def build(corpus: Path, index: Path, _questions: Path) -> dict:
    from tutor.ingest import corpus_files
    from tutor.store import open_index

    started = time.perf_counter()
    store = open_index(corpus, index, rebuild=True, progress=True)
    seconds = time.perf_counter() - started
    ends: dict[str, int] = {}
    for chunk in store.chunks:  # a document's text runs to the end of its last passage
        ends[chunk.source] = max(ends.get(chunk.source, 0), chunk.end)
    return {
        "documents": len(store.titles),
        "file_mb": sum(p.stat().st_size for p in corpus_files(corpus)) / 1e6,
        "passages": len(store.chunks),
        "units": len(store.units),
        "text_mb": sum(ends.values()) / 1e6,
        "build_s": seconds,
        "index_mb": folder_mb(index),
        "peak_rss_mib": peak_rss_mib(),
    }


def answer(corpus: Path, index: Path, questions_path: Path) -> dict:
    import numpy as np

    from tutor import Tutor
    from tutor.evaluation import evaluate, format_report, open_set

    started = time.perf_counter()
    tutor = Tutor.load(corpus, index, generator="extractive")
    load_s = time.perf_counter() - started
    if tutor.store.rebuilt:
        raise SystemExit("The index was rebuilt when loaded: the build step left no usable index.")
    sources = {c.source.split("/", 1)[1] for c in tutor.store.chunks}
    pages = {row["id"]: row.get("source", "") for row in map(json.loads, questions_path.read_text().splitlines())}
    everything = open_set(questions_path).questions
    # On a cut-down course, only the questions whose page it holds can be answered from it.
    questions = [q for q in everything if not q.answerable or pages.get(q.id) in sources]
    tutor.ask(questions[0].question)  # warm-up: first-use costs are not an ask's
    answers, times = {}, []
    for q in questions:
        asked = time.perf_counter()
        answers[q.id] = tutor.ask(q.question)
        times.append((time.perf_counter() - asked) * 1000)
    rss = peak_rss_mib()  # before scoring, which reads the whole course again
    scores = evaluate(tutor, questions, answers=answers)
    answerable = sum(q.answerable for q in questions)
    misses = ", ".join(f"{f['id']} ({f['why']})" for f in scores["failures"])
    return {
        "load_s": load_s,
        "asked": len(questions),
        "p50_ms": float(np.percentile(times, 50)),
        "p95_ms": float(np.percentile(times, 95)),
        "peak_rss_mib": rss,
        "scored": f"{len(questions)} of {len(everything)} questions ({answerable} answerable)",
        "recall@3": scores["recall@3"],
        "answer_correctness": scores["answer_correctness"],
        "report": format_report(scores) + (f"\nmisses: {misses}" if misses else ""),
    }


if __name__ == "__main__":
    sys.exit(main())
