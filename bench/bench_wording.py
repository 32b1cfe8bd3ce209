"""What reading questions in the course's words costs: per question, and once per course.

For each course given (a course folder with its index folder, or an index's chunks.jsonl alone), it
prints the time to read every question of a set (`CourseWords.rewrite`) split into questions whose
every word the course uses (nothing looked up) and the others, the one-time cost of the course's word
list and of the English word list, how many questions were read otherwise, the time to look up a typing
slip (made from the course's own long words), against the time the
same process takes to answer the questions (`Tutor.ask_many`) when a Tutor is loaded.

    .venv/bin/python bench/bench_wording.py                                   # the bundled course, eval/questions
    .venv/bin/python bench/bench_wording.py --squad ../shared/bench/squad6 --index /tmp/sq6
    .venv/bin/python bench/bench_wording.py --chunks /tmp/pydocs-index/generation-*/chunks.jsonl \\
        --questions eval/pydocs/questions.jsonl                               # a large course's passages
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tutor.answering.wording import CourseWords, english_words  # noqa: E402
from tutor.retrieval import BM25  # noqa: E402


def read_all(words: CourseWords, questions: list[str]) -> tuple[list[float], list[float], int]:
    known, looked, changed = [], [], 0
    for q in questions:
        started = time.perf_counter()
        _, changes = words.rewrite(q)
        elapsed = (time.perf_counter() - started) * 1000
        unknown = any(words._unknown(w) for w in q.split())
        (looked if unknown or changes else known).append(elapsed)
        changed += bool(changes)
    return known, looked, changed


def report(name: str, words: CourseWords, questions: list[str], answer_ms: float | None) -> None:
    started = time.perf_counter()
    words.counts  # noqa: B018 - the course's word list, built once
    build = time.perf_counter() - started
    read_all(words, questions)  # warm: the English word list and caches
    known, looked, changed = read_all(words, questions)
    total = sum(known) + sum(looked)
    print(f"{name}: {len(questions)} questions, {len(words.counts):,} distinct course words (list built in "
          f"{build:.2f} s, once)")
    if known:
        print(f"  every word known: {len(known)} questions, median {statistics.median(known) * 1000:.0f} µs")
    if looked:
        print(f"  a word looked up: {len(looked)} questions, median {statistics.median(looked):.2f} ms, "
              f"max {max(looked):.2f} ms")
    print(f"  read otherwise: {changed}; all questions read in {total:.1f} ms")
    # Typing slips made from the course's own long words (a letter dropped), each looked up alone.
    slips = [w[:2] + w[3:] for w, _ in words.counts.most_common() if len(w) >= 8 and w.isalpha()][:50]
    times = []
    for slip in slips:
        started = time.perf_counter()
        words.rewrite(f"What is {slip}?")
        times.append((time.perf_counter() - started) * 1000)
    if times:
        print(f"  a typing slip looked up ({len(times)} made from the course's words): median "
              f"{statistics.median(times):.2f} ms, max {max(times):.2f} ms")
    if answer_ms:
        print(f"  answering them: {answer_ms:.0f} ms; reading is {100 * total / answer_ms:.1f} % of that")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, help="a SQuAD-style folder (qa.jsonl + corpus/)")
    parser.add_argument("--index", type=Path, help="index folder for --squad or the bundled course")
    parser.add_argument("--chunks", type=Path, help="an index's chunks.jsonl: its passages only, no Tutor")
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions" / "questions.jsonl")
    args = parser.parse_args()

    started = time.perf_counter()
    english_words()
    print(f"English word list loaded in {time.perf_counter() - started:.2f} s")

    if args.chunks:
        rows = [json.loads(line) for line in args.chunks.open(encoding="utf-8")]
        texts = [f"{r.get('section', '')} {r['text']}" for r in rows]
        bm25 = BM25(texts)
        questions = [json.loads(line)["question"] for line in args.questions.open(encoding="utf-8")]
        report(args.chunks.parent.name, CourseWords(lambda: texts, bm25.uses), questions, None)
        return 0

    from tutor import Tutor

    if args.squad:
        corpus = args.squad / "corpus"
        questions = [json.loads(line)["q"] for line in (args.squad / "qa.jsonl").open(encoding="utf-8")]
    else:
        corpus = ROOT / "corpus"
        questions = [json.loads(line)["question"] for line in args.questions.open(encoding="utf-8")]
    index = args.index or Path(tempfile.mkdtemp(prefix="bench-wording-"))
    tutor = Tutor.load(corpus, index, generator="extractive", device="cpu")
    tutor.ask_many(questions[:20])
    started = time.perf_counter()
    tutor.ask_many(questions)
    answer_ms = (time.perf_counter() - started) * 1000
    fresh = CourseWords(lambda: (f"{c.section} {c.text}" for c in tutor.store.chunks), tutor.retriever.bm25.uses)
    report(str(corpus), fresh, questions, answer_ms)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
