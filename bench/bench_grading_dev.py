"""How often practice mode's grader agrees with a teacher on the development set: eval/grading-dev/grading.jsonl
holds teacher-labelled answers to generated practice items (the grader may be tuned on it; eval/grading stays held
out). Prints exact verdict agreement, the confusion table, and how often an answer labelled incorrect is graded
correct.

    .venv/bin/python bench/bench_grading_dev.py [--index DIR] [--misses]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tutor import Tutor  # noqa: E402
from tutor.models import Citation  # noqa: E402
from tutor.practice.models import VERDICTS, PracticeItem  # noqa: E402


def item_from(data: dict) -> PracticeItem:
    """The practice item a row stores as a dict, rebuilt as it was generated."""
    return PracticeItem(data["id"], data["kind"], data["question"], data["answer"], tuple(data["accept"]),
                        Citation(**data["citation"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", help="index folder for the bundled course (default: a temporary one)")
    parser.add_argument("--misses", action="store_true", help="print each disagreement")
    args = parser.parse_args()
    index = Path(args.index) if args.index else Path(tempfile.mkdtemp(prefix="tutor-grading-dev-")) / "index"
    tutor = Tutor.load(ROOT / "corpus", index, generator="extractive", device="cpu")
    rows = [json.loads(line) for line in (ROOT / "eval" / "grading-dev" / "grading.jsonl").open(encoding="utf-8")]
    confusion: Counter = Counter()
    started = time.perf_counter()
    for row in rows:
        item = item_from(row["item"])
        grade = tutor.grade(item, row["student_answer"])
        confusion[(row["verdict"], grade.verdict)] += 1
        if args.misses and grade.verdict != row["verdict"]:
            print(f"{item.id} {item.kind} {row['verdict']} graded {grade.verdict}: {row['student_answer']!r} "
                  f"({row['why']})")
    elapsed = (time.perf_counter() - started) * 1000 / len(rows)
    agree = sum(n for (want, got), n in confusion.items() if want == got) / len(rows)
    wrong = sum(n for (want, _), n in confusion.items() if want == "incorrect")
    wrong_correct = confusion[("incorrect", "correct")] / max(wrong, 1)
    print(f"{len(rows)} labelled answers; exact verdict agreement {agree:.3f}; incorrect graded correct "
          f"{wrong_correct:.3f} ({confusion[('incorrect', 'correct')]} of {wrong}); {elapsed:.1f} ms an answer")
    print("label \\ graded  " + "  ".join(f"{v:>9}" for v in VERDICTS))
    for want in VERDICTS:
        print(f"{want:>14}  " + "  ".join(f"{confusion[(want, got)]:>9}" for got in VERDICTS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
