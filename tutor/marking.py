"""`tutor batch ANSWERS.csv --grade`: mark students' answers against the course, one row per answer.

The model answer to each distinct question is the tutor's own (one batched `ask_many`), and the verdict
is practice mode's grader (`Tutor.grade`), given that answer as the item to grade against: its list
lines as the items a list answer must name, its first quoted passage as the passage to reread. A question
the course does not cover is not graded: its rows say so in `error`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
import time
from pathlib import Path

from tutor.batch import sources_cell, spreadsheet_safe
from tutor.errors import TutorError
from tutor.exam import read_exam
from tutor.models import Answer
from tutor.sheets import cited

COLUMNS = ("id", "student", "question", "student_answer", "verdict", "score", "feedback", "model_answer",
           "sources", "error")
MARKER_RE = re.compile(r"\s*\[\d+\]")


def run_marking(args, tutor=None) -> int:
    """Grade INPUT's `student_answer` column into OUTPUT (.csv or .jsonl); 0, or 1 with --strict and errors."""
    source, out = Path(args.input), Path(args.out)
    if source.suffix.lower() not in (".csv", ".jsonl"):
        raise TutorError(f"--grade reads a .csv or .jsonl with question and student_answer columns, not {source.name}.")
    if out.suffix.lower() not in (".csv", ".jsonl"):
        raise TutorError(f"--grade writes a .csv or .jsonl file, not {out.name}.")
    if getattr(args, "sheet", "key") != "key":
        raise TutorError("--grade writes marks, not a sheet: leave out --sheet.")
    if args.resume:
        raise TutorError("--grade marks the whole file at once: run it again with --force instead of --resume.")
    if source.resolve() == out.resolve():
        raise TutorError("INPUT and --out are the same file: write the marks somewhere else.")
    rows = read_exam(source, unique_ids=False).rows  # a question's id repeats, once for each student
    if not any("student_answer" in r.extra for r in rows):
        raise TutorError(f"{source} has no 'student_answer' column: give each question the student's answer.")
    if out.exists() and not args.force:
        raise TutorError(f"{out} already exists: use --force to replace it.")
    _practice_item_type()  # before the tutor loads: an installation without practice mode says so at once
    if tutor is None:
        from tutor.loading import load_from_args

        tutor = load_from_args(args)
    started = time.perf_counter()
    questions = list(dict.fromkeys(str(r.question) for r in rows if r.error is None))
    model = dict(zip(questions, tutor.ask_many(questions, top_k=getattr(args, "top_k", None))))
    records, counts = [], {"correct": 0, "partly": 0, "incorrect": 0, "errors": 0}
    for row in rows:
        record = {"id": row.id, "student": row.extra.get("student", ""), "question": str(row.question),
                  "student_answer": row.extra.get("student_answer") or ""}
        answer = model.get(str(row.question))
        error = row.error or (answer.error if answer else None)
        if not error and answer.abstained:
            error = "The course material does not cover this question: not graded."
        elif not error and not answer.citations:
            error = "The tutor's answer quotes no passage to grade against: not graded."
        if error:
            counts["errors"] += 1
            records.append({**record, "verdict": "", "score": "", "feedback": "", "model_answer": "",
                            "sources": "", "error": error})
            continue
        grade = tutor.grade(practice_item(row.id, answer), record["student_answer"])
        counts[grade.verdict] += 1
        records.append({**record, "verdict": grade.verdict, "score": grade.score, "feedback": grade.feedback,
                        "model_answer": grade.model_answer, "sources": sources_cell(answer), "error": None})
    _write(out, records)
    seconds = time.perf_counter() - started
    print(f"{counts['correct']} correct, {counts['partly']} partly, {counts['incorrect']} incorrect, "
          f"{counts['errors']} not graded in {seconds:.1f} s → {out}", file=sys.stderr)
    return 1 if args.strict and counts["errors"] else 0


def practice_item(item_id: str, answer: Answer):
    """The tutor's answer as an item practice mode grades against: a list when it has list lines."""
    PracticeItem = _practice_item_type()  # noqa: N806
    text = MARKER_RE.sub("", answer.text).strip()
    listed = [line[2:].strip() for line in text.splitlines() if line.startswith("- ")]
    kind, accept = ("list", tuple(listed)) if len(listed) >= 2 else ("definition", (text,))
    if kind == "list":
        text = "\n".join(f"- {item}" for item in listed)
    quoted = cited(answer) or list(answer.citations)
    return PracticeItem(id=str(item_id), kind=kind, question=answer.question, answer=text, accept=accept,
                        citation=quoted[0])


def _practice_item_type():
    try:
        from tutor.practice.models import PracticeItem
    except ImportError:
        raise TutorError("Grading needs practice mode (tutor.practice), which this installation lacks.") from None
    return PracticeItem


def _write(out: Path, records: list[dict]) -> None:
    """All the marks at once, under a temporary name then renamed: a marked file is whole or absent."""
    if out.suffix.lower() == ".jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for r in records:
            writer.writerow([spreadsheet_safe("" if r[c] is None else str(r[c])) for c in COLUMNS])
        text = buffer.getvalue()
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        raise TutorError(f"Cannot write marks to {out}: {exc.strerror or exc}.") from None
