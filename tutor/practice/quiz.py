"""Practice away from the browser: a quiz in the terminal, and a printable exam with its answer key.

    run_quiz(tutor, items)                            # ask, read, grade, until done or EOF / Ctrl-C
    write_exam(tutor, items, exam_path, key_path)     # numbered questions; answers with their sources

The exam is a numbered Markdown list, so `tutor batch exam.md` reads it back as questions.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tutor.errors import TutorError
from tutor.practice.models import Grade, PracticeItem

MARK = {"correct": "✓", "partly": "~", "incorrect": "✗", "shown": "·", "skipped": "·"}
SHOW_ANSWER = ("?", "show", "answer")
SKIP = ("skip", "pass")


def exam_paths(exam: str, answers: str | None, force: bool) -> tuple[Path, Path]:
    """Where the exam and its key go (the key beside the exam by default); TutorError before any work if a
    file is in the way."""
    exam_path = Path(exam)
    key_path = Path(answers) if answers else exam_path.with_name(f"{exam_path.stem}-key{exam_path.suffix or '.md'}")
    if exam_path.resolve() == key_path.resolve():
        raise TutorError("The exam and its answer key must be different files: give --answers another name.")
    for path in (exam_path, key_path):
        if path.exists() and not force:
            raise TutorError(f"{path} already exists; pass --force to overwrite it, or choose another name.")
        if not path.parent.is_dir():
            raise TutorError(f"Folder {path.parent} does not exist: create it or choose another path.")
    return exam_path, key_path


def _indent(text: str, prefix: str = "   ") -> str:
    return "\n".join(prefix + line if line else line for line in text.split("\n"))


def exam_markdown(title: str, items: Sequence[PracticeItem]) -> str:
    lines = [f"# Practice exam: {title}", "",
             f"{len(items)} questions. Answer each in a few words or a sentence; where a list is asked for, "
             "name as many items as the question says.", ""]
    for n, item in enumerate(items, start=1):
        lines += [f"{n}. {item.question}", "", "   ________________________________________", ""]
    return "\n".join(lines)


def key_markdown(title: str, items: Sequence[PracticeItem]) -> str:
    lines = [f"# Answer key: {title}", ""]
    for n, item in enumerate(items, start=1):
        c = item.citation
        where = c.section or c.source
        page = f", page {c.page}" if c.page else ""
        lines += [f"{n}. {item.question}", "", "   **Answer:**", "", _indent(item.answer), ""]
        if item.kind in ("list", "cloze", "order") and item.accept:
            lines += [f"   Accepted: {'; '.join(item.accept)}", ""]
        quote = " ".join(c.quote.split())
        lines += [f"   Source: {where} ({c.source}{page}): “{quote}”", ""]
        for other in item.also:
            page = f", page {other.page}" if other.page else ""
            lines += [f"   Also: {other.section or other.source} ({other.source}{page}): "
                      f"“{' '.join(other.quote.split())}”", ""]
    return "\n".join(lines)


def write_exam(tutor, items: Sequence[PracticeItem], exam_path: Path, key_path: Path) -> None:
    for path, text in ((exam_path, exam_markdown(tutor.title, items)), (key_path, key_markdown(tutor.title, items))):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)


def review_sections(results: Sequence[tuple[PracticeItem, str]]) -> list[str]:
    """Sections of the questions not answered correctly, most missed first."""
    missed: dict[str, int] = {}
    for item, verdict in results:
        if verdict != "correct":
            key = item.citation.section or item.citation.source
            missed[key] = missed.get(key, 0) + 1
    return sorted(missed, key=lambda s: -missed[s])


def run_quiz(tutor, items: Sequence[PracticeItem], *, read: Callable[[str], str] = input,
             write: Callable[[str], None] = print) -> tuple[float, int]:
    """Ask each item, grade each answer, and print the score at the end (also on EOF or Ctrl-C).
    Returns (points, questions asked)."""
    write(f"{len(items)} questions on “{tutor.title}”. Type your answer and press Enter; "
          "'?' shows the answer, 'skip' moves on, Ctrl-D or Ctrl-C ends the quiz.")
    points, results = 0.0, []
    for n, item in enumerate(items, start=1):
        write("")
        write(f"Question {n} of {len(items)} · {item.kind} · {item.citation.section or item.citation.source}")
        write(item.question)
        try:
            answer = read("> ")
        except (EOFError, KeyboardInterrupt):
            write("")
            break
        command = answer.strip().lower()
        if command in SHOW_ANSWER or command in SKIP:
            verdict = "shown" if command in SHOW_ANSWER else "skipped"
            write(f"{MARK[verdict]} Answer: {item.answer}")
            write("  Source: " + "; ".join(f"“{' '.join(c.quote.split())}”" for c in item.citations))
            results.append((item, verdict))
            continue
        grade: Grade = tutor.grade(item, answer)
        points += grade.score
        results.append((item, grade.verdict))
        write(f"{MARK[grade.verdict]} {grade.feedback}")
        if grade.verdict != "correct":
            write("  Answer: " + grade.model_answer.replace("\n", "\n          "))
    asked = len(results)
    write("")
    write(f"Score: {points:.1f} of {asked} ({sum(v == 'correct' for _, v in results)} correct).")
    review = review_sections(results)
    if review:
        write("Reread: " + "; ".join(review))
    sys.stdout.flush()
    return points, asked
