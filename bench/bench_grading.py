"""How often practice mode's grader agrees with a teacher on a file of labelled student answers: exact verdict
agreement, the confusion table, and how often an answer labelled incorrect is graded correct.

    .venv/bin/python bench/bench_grading.py [--file eval/grading-dev/grading.jsonl] [--index DIR] [--misses]

The default file is the held-out eval/grading3/grading.jsonl (nothing is tuned on it). eval/grading-dev/ and
eval/grading/ are development sets. Rows of grading3 and grading-dev hold the practice item itself as a dict;
rows of eval/grading/ give the question, answer, accept and evidence, and the item is rebuilt from them.
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
from tutor.practice.models import KINDS, VERDICTS, PracticeItem  # noqa: E402

# The set's "factoid" questions ask for one fact, as a cloze does.
KIND_OF = {"factoid": "cloze"}


def item_for(tutor: Tutor, row: dict) -> PracticeItem:
    """The practice item a labelled row stands for, cited from the passage that holds its evidence."""
    probe = row["evidence"].strip().split("\n")[0].strip(" •-")[:60]
    chunk = next((c for c in tutor.store.chunks if probe and probe in c.text), None)
    text = chunk.text if chunk else row["evidence"]
    quote = probe if probe in text else text[:200]
    citation = Citation(1, chunk.chunk_id if chunk else "", chunk.source if chunk else "", chunk.section if chunk else "",
                        text, quote, 1.0)
    kind = KIND_OF.get(row["kind"], row["kind"])
    assert kind in KINDS, kind
    return PracticeItem(row["id"], kind, row["question"], row["answer"], tuple(row["accept"]), citation)


def item_of(tutor: Tutor, row: dict) -> PracticeItem:
    if "item" in row:  # the item as Tutor.practice made it
        data = row["item"]
        return PracticeItem(data["id"], data["kind"], data["question"], data["answer"], tuple(data["accept"]),
                            Citation(**data["citation"]))
    return item_for(tutor, row)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", help="index folder for the bundled course (default: a temporary one)")
    parser.add_argument("--misses", action="store_true", help="print each disagreement")
    parser.add_argument("--file", default=str(ROOT / "eval" / "grading3" / "grading.jsonl"),
                        help="labelled answers (default: the held-out eval/grading3/grading.jsonl)")
    args = parser.parse_args()
    index = Path(args.index) if args.index else Path(tempfile.mkdtemp(prefix="tutor-grading-")) / "index"
    tutor = Tutor.load(ROOT / "corpus", index, generator="extractive", device="cpu")
    path = Path(args.file)
    if not path.is_file():
        parser.error(f"no such file: {path}")
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    confusion: Counter = Counter()
    started = time.perf_counter()
    for row in rows:
        item = item_of(tutor, row)
        grade = tutor.grade(item, row["student_answer"])
        confusion[(row["verdict"], grade.verdict)] += 1
        if args.misses and grade.verdict != row["verdict"]:
            print(f"{row.get('id', item.id)} {item.kind} {row['verdict']} graded {grade.verdict}: "
                  f"{row['student_answer']!r} ({row['why']}) | {item.question[:80]} -> {item.answer[:80]!r}")
    elapsed = (time.perf_counter() - started) * 1000 / len(rows)
    agree = sum(n for (want, got), n in confusion.items() if want == got) / len(rows)
    wrong = sum(n for (want, _), n in confusion.items() if want == "incorrect")
    wrong_correct = confusion[("incorrect", "correct")] / max(wrong, 1)
    print(f"{path.name} ({path.parent.name}): {len(rows)} labelled answers; exact verdict agreement {agree:.3f}; incorrect graded correct "
          f"{wrong_correct:.3f} ({confusion[('incorrect', 'correct')]} of {wrong}); {elapsed:.1f} ms an answer")
    print("label \\ graded  " + "  ".join(f"{v:>9}" for v in VERDICTS))
    for want in VERDICTS:
        print(f"{want:>14}  " + "  ".join(f"{confusion[(want, got)]:>9}" for got in VERDICTS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
