"""`tutor practice`: a quiz in the terminal, and a printable exam with its answer key."""

from __future__ import annotations

import io
import re

import pytest

from tests.test_practice import write_course
from tutor.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("bread-cli")
    corpus = write_course(root / "corpus")
    assert main(["index", "--corpus", str(corpus), "--index", str(root / "index")]) == 0
    return ["--corpus", str(corpus), "--index", str(root / "index")]


def test_export_writes_the_exam_and_its_key_with_citations(course, tmp_path, capsys):
    exam, key = tmp_path / "exam.md", tmp_path / "key.md"
    assert main(["practice", *course, "--n", "6", "--seed", "4", "--export", str(exam), "--answers", str(key)]) == 0
    questions = re.findall(r"^(\d+)\. (.+)$", exam.read_text(encoding="utf-8"), re.M)
    assert [n for n, _ in questions] == ["1", "2", "3", "4", "5", "6"]
    answers = key.read_text(encoding="utf-8")
    assert answers.count("**Answer:**") == 6 and answers.count("Source: ") == 6
    for _, question in questions:
        assert question in answers
    assert "bread.md)" in answers and "Wrote 6 questions" in capsys.readouterr().out
    # The same seed writes the same exam; an existing file is kept unless --force.
    assert main(["practice", *course, "--n", "6", "--seed", "4", "--export", str(exam), "--answers", str(key)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["practice", *course, "--n", "6", "--seed", "4", "--export", str(exam), "--answers", str(key),
                 "--force"]) == 0
    assert re.findall(r"^(\d+)\. (.+)$", exam.read_text(encoding="utf-8"), re.M) == questions


def test_the_key_goes_beside_the_exam_by_default(course, tmp_path):
    assert main(["practice", *course, "--n", "2", "--export", str(tmp_path / "week1.md")]) == 0
    assert (tmp_path / "week1-key.md").read_text(encoding="utf-8").startswith("# Answer key: Bread Baking Basics")


def test_quiz_grades_typed_answers_and_ends_with_the_score_on_eof(course, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("flour, water and salt\n?\n"))
    assert main(["practice", *course, "--n", "5", "--section", "ingredients", "--kinds", "list"]) == 0
    out = capsys.readouterr().out
    assert "Name three of the four essential ingredients the course lists." in out
    assert "✓ Correct." in out
    assert "Score: 1.0 of 1 (1 correct)." in out


def test_quiz_shows_the_answer_on_request_and_lists_sections_to_review(course, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("?\n"))
    assert main(["practice", *course, "--n", "1", "--section", "history", "--kinds", "cloze", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "Answer: " in out and "Source: “" in out
    assert "Score: 0.0 of 1 (0 correct)." in out and "Reread: History" in out


def test_answers_without_export_is_a_clear_error(course, capsys):
    assert main(["practice", *course, "--answers", "key.md"]) == 2
    assert "--export" in capsys.readouterr().err
