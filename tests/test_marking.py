"""`tutor batch ANSWERS.csv --grade`: a class's answers marked against the course, on the real article."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tutor import TutorError
from tutor.cli import build_parser

pytest.importorskip("tutor.practice", reason="grading uses practice mode's grader (tutor.practice)")

from tutor.marking import run_marking  # noqa: E402


def mark(tutor, source: Path, out: Path, *flags: str) -> int:
    return run_marking(build_parser().parse_args(["batch", str(source), "--out", str(out), "--grade", *flags]),
                       tutor=tutor)


def test_a_class_of_answers_is_marked_against_the_course(tutor, tmp_path, capsys):
    source = tmp_path / "answers.csv"
    with open(source, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "question", "student_answer"])
        w.writerow(["alice", "What is model drift?", "Model performance degrades as the data distributions change."])
        w.writerow(["bob", "What is model drift?", "A kind of boat that drifts at sea."])
        w.writerow(["carol", "What is the primary goal in academia?", "Knowledge creation and understanding."])
        w.writerow(["dan", "Who won the 2018 World Cup?", "France"])
        w.writerow(["eve", "What is model drift?", '=HYPERLINK("http://x.test","click")'])
        w.writerow(["frank", "What is model drift?", ""])
    out = tmp_path / "marked.csv"

    assert mark(tutor, source, out) == 0

    with open(out, newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert list(rows) == ["alice", "bob", "carol", "dan", "eve", "frank"]
    assert rows["alice"]["verdict"] == "correct" and float(rows["alice"]["score"]) >= 0.7
    assert rows["carol"]["verdict"] == "correct"
    assert rows["bob"]["verdict"] == "incorrect" and "Reread" in rows["bob"]["feedback"]
    assert rows["frank"]["verdict"] == "incorrect" and "No answer was given." in rows["frank"]["feedback"]
    assert rows["dan"]["verdict"] == "" and "does not cover this question: not graded" in rows["dan"]["error"]
    assert rows["eve"]["student_answer"].startswith("'=HYPERLINK") and rows["eve"]["verdict"] == "incorrect"
    assert "data distributions change" in rows["alice"]["model_answer"]
    assert rows["alice"]["sources"].startswith("Challenges in Each Perspective › Industry Challenges (")
    assert "2 correct, 0 partly, 3 incorrect, 1 not graded" in capsys.readouterr().err

    assert mark(tutor, source, out, "--force", "--strict") == 1  # a row not graded fails a strict run


def test_grading_needs_the_students_answers_and_refuses_to_overwrite(tmp_path):
    source = tmp_path / "questions.csv"
    source.write_text("question\nWhat is model drift?\n")
    with pytest.raises(TutorError, match="no 'student_answer' column"):
        mark(None, source, tmp_path / "marked.csv")
    source.write_text("question,student_answer\nWhat is model drift?,data changes\n")
    (tmp_path / "marked.csv").write_text("precious")
    with pytest.raises(TutorError, match="already exists: use --force"):
        mark(None, source, tmp_path / "marked.csv")
    with pytest.raises(TutorError, match="writes a .csv or .jsonl"):
        mark(None, source, tmp_path / "marked.html")


def test_a_list_answer_is_marked_by_the_items_a_student_names(tutor):
    from tutor.marking import practice_item
    from tutor.models import Answer, Citation

    passage = ("Data Quality: Real-world data is messy and biased. Legacy Systems: Must integrate with existing "
               "infrastructure. Model Drift: Performance degrades as data distributions change.")
    answer = Answer(
        "What challenges does industry face?",
        "Industry faces these challenges:\n- Data Quality [1]\n- Legacy Systems [1]\n- Model Drift [1]",
        False, "extractive", (Citation(1, "c1", "notes.txt", "Industry Challenges", passage, passage[:50], 0.5),),
    )
    item = practice_item("q1", answer)
    assert (item.kind, item.accept) == ("list", ("Data Quality", "Legacy Systems", "Model Drift"))
    assert item.answer == "- Data Quality\n- Legacy Systems\n- Model Drift"

    assert tutor.grade(item, "model drift, data quality and legacy systems").verdict == "correct"
    assert tutor.grade(item, "The weather and the price of coffee.").verdict == "incorrect"
