"""Practice figures: self-consistency of the generated questions, and speed.

    python bench/bench_practice.py                         # both courses, 200 questions each
    python bench/bench_practice.py --n 100 --dump items.jsonl

Self-consistency: the tutor's own Q&A (`Tutor.ask_many`, extractive) answers each generated question; an
item counts as answered when its expected answer occurs in the tutor's answer (lower-cased, whitespace and
quotes normalised; for a list, as many items as the question asks for) or when grading the tutor's answer
(its [n] markers removed) gives "correct". Speed: 10 items from a warm tutor (the course already read),
and grading one answer, median and 95th percentile over the items.

--dump writes 60 items (30 from each course, spread over the sections, --seed, default 0) as JSON lines, for rating:
{course, id, kind, question, answer, accept, section, quote}.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tutor import Tutor  # noqa: E402
from tutor.practice.generate import LIST_ASK  # noqa: E402
from tutor.practice.grading import normalise  # noqa: E402

COURSES = {
    "bundled": ROOT / "corpus",
    "squad6": Path("/work/shared/bench/squad6/corpus"),
}
MARKER_RE = re.compile(r"\s*\[\d+\]")


def occurs(item, answer_text: str) -> bool:
    text = normalise(answer_text)
    if item.kind == "list":
        return sum(normalise(a) in text for a in item.accept) >= min(LIST_ASK, len(item.accept))
    if item.kind == "comparison":
        return all(normalise(a.partition(": ")[2]) in text for a in item.accept)
    return normalise(item.answer) in text


def self_consistency(tutor, items) -> dict:
    answers = tutor.ask_many([i.question for i in items])
    by_kind: dict[str, list[bool]] = defaultdict(list)
    misses = []
    for item, answer in zip(items, answers):
        text = MARKER_RE.sub("", answer.text)
        ok = not answer.abstained and (occurs(item, text) or tutor.grade(item, text).verdict == "correct")
        by_kind[item.kind].append(ok)
        if not ok:
            misses.append((item.kind, item.question, "abstained" if answer.abstained else text[:100]))
    allok = [ok for oks in by_kind.values() for ok in oks]
    return {"share": sum(allok) / max(len(allok), 1), "n": len(allok),
            "by_kind": {k: (sum(v) / len(v), len(v)) for k, v in sorted(by_kind.items())}, "misses": misses}


def speed(tutor, items) -> dict:
    started = time.perf_counter()
    tutor.practice(10, seed=0)  # the first call reads the course (already done by the caller's practice call)
    first = time.perf_counter() - started
    warm = []
    for seed in range(1, 21):
        started = time.perf_counter()
        tutor.practice(10, seed=seed)
        warm.append(time.perf_counter() - started)
    grading = []
    for item in items:
        answer = item.answer.split("\n")[0].removeprefix("- ")
        started = time.perf_counter()
        tutor.grade(item, answer)
        grading.append((time.perf_counter() - started) * 1000)
    grading.sort()
    return {"ten_items_first_s": first, "ten_items_warm_ms": statistics.median(warm) * 1000,
            "grade_median_ms": statistics.median(grading), "grade_p95_ms": grading[int(0.95 * (len(grading) - 1))]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200, help="questions per course for self-consistency")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--index-root", default="/tmp/bench-practice", help="one index folder per course below it")
    parser.add_argument("--courses", default=",".join(COURSES), help="bundled,squad6")
    parser.add_argument("--dump", metavar="ITEMS.jsonl", help="write 60 items (30 per course) for rating")
    parser.add_argument("--misses", action="store_true", help="print the questions the Q&A did not answer")
    args = parser.parse_args()
    dumped = []
    for name in args.courses.split(","):
        corpus = COURSES[name]
        started = time.perf_counter()
        tutor = Tutor.load(corpus, Path(f"{args.index_root}-{name}"), generator="extractive", device="cpu")
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        items = tutor.practice(args.n, seed=args.seed)
        read_s = time.perf_counter() - started
        kinds = Counter(i.kind for i in items)
        print(f"== {name}: {corpus} · {len(items)} items ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}) "
              f"· load {load_s:.1f} s · course read and {len(items)} items made in {read_s:.2f} s")
        sc = self_consistency(tutor, items)
        print(f"self-consistency: {sc['share']:.3f} of {sc['n']} answered by tutor.ask")
        for kind, (share, n) in sc["by_kind"].items():
            print(f"  {kind:<11} {share:.3f} of {n}")
        if args.misses:
            for kind, question, got in sc["misses"]:
                print(f"  miss [{kind}] {question}\n       -> {got}")
        sp = speed(tutor, items)
        print(f"speed: 10 items warm {sp['ten_items_warm_ms']:.1f} ms (median of 20) · "
              f"grading one answer {sp['grade_median_ms']:.1f} ms median, {sp['grade_p95_ms']:.1f} ms p95")
        if args.dump:
            for item in tutor.practice(30, seed=args.seed):
                dumped.append({"course": name, "id": item.id, "kind": item.kind, "question": item.question,
                               "answer": item.answer, "accept": list(item.accept), "section": item.citation.section,
                               "source": item.citation.source, "quote": item.citation.quote})
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as f:
            for row in dumped:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"wrote {len(dumped)} items to {args.dump}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
