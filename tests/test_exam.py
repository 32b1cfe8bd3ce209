"""Reading a numbered exam: every item keeps its number and its text, whatever surrounds it."""

from __future__ import annotations

from pathlib import Path

from tutor.exam import parse_exam, read_exam


def items(text: str) -> list[tuple[str, str, str | None]]:
    return [(r.id, r.question, r.error) for r in parse_exam(text).rows]


def test_a_blank_item_is_its_own_error_row_and_never_joins_its_neighbour():
    exam = (
        "1. What is deep learning?\n"
        "2. What is model drift?\n"
        "3. What is the primary goal in academia?\n"
        "4. Which conferences are top venues for academic research?\n"
        "5.\n"
        "6. How do academia and industry differ in risk tolerance?\n"
        "7. What are the challenges in industry?\n"
        "8. Who won the 2018 World Cup?\n"
    )
    rows = items(exam)
    assert [i for i, _, _ in rows] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    assert rows[3] == ("4", "Which conferences are top venues for academic research?", None)
    assert rows[4][:2] == ("5", "") and "item 5 (line 5) has no question text" in rows[4][2]

    assert items("1. What is deep learning?\n2.\n") == [
        ("1", "What is deep learning?", None),
        ("2", "", "item 2 (line 2) has no question text."),
    ]


def test_sub_numbered_labels_keep_their_numbers():
    exam = (
        "1) What is deep learning?\n"
        "Q2. What is model drift?\n"
        "Question 3: What is the primary goal in academia?\n"
        "3a) What is a GPU?\n"
        "3(b) What is a TPU?\n"
        "3.1) What is data quality?\n"
        "**4.** What are legacy systems?\n"
        "## 5. Why does industry prefer simple models?\n"
        "__Q6:__ What is explainability?\n"
    )
    assert [(i, q) for i, q, _ in items(exam)] == [
        ("1", "What is deep learning?"),
        ("2", "What is model drift?"),
        ("3", "What is the primary goal in academia?"),
        ("3a", "What is a GPU?"),
        ("3b", "What is a TPU?"),
        ("3.1", "What is data quality?"),
        ("4", "What are legacy systems?"),
        ("5", "Why does industry prefer simple models?"),
        ("6", "What is explainability?"),
    ]


def test_lettered_parts_hang_from_their_number_and_a_stem_above_them_is_shown_not_asked():
    exam = parse_exam(
        "7. Consider industry practice.\n"
        "   a) What is data quality?\n"
        "   (b) What are legacy systems?\n"
        "8.\n"
        "a. What is model drift?\n"
        "b. What is explainability?\n"
        "9. What is deep learning? Answer both parts.\n"
        "a) Define it.\n"
    )
    assert [(r.id, r.question) for r in exam.rows] == [
        ("7a", "What is data quality?"),
        ("7b", "What are legacy systems?"),
        ("8a", "What is model drift?"),
        ("8b", "What is explainability?"),
        ("9", "What is deep learning? Answer both parts."),  # asks something itself: a question
        ("9a", "Define it."),
    ]
    assert exam.stems == {"7a": ("7", "Consider industry practice.")}


def test_continuation_lines_join_their_item_and_instructions_and_headings_do_not():
    exam = (
        "# Deep Learning — Midterm\n\n"
        "Answer every question in your own words.\n"
        "Question 3 carries double marks.\n\n"
        "## Part A\n\n"
        "1. What is the primary goal\n"
        "in academia?\n\n"
        "2. How do academia and industry\n"
        "   differ in risk tolerance?\n\n"
        "Write clearly; use the back of the page if needed.\n\n"
        "## Question 3\n\n"
        "What is model drift?\n"
        "## Part B\n"
        "Short answers only.\n"
        "4. What is deep learning?\n"
        "---\n"
        "Good luck!\n"
    )
    exam_read = parse_exam(exam)
    assert exam_read.title == "Deep Learning — Midterm"
    assert [(r.id, r.question) for r in exam_read.rows] == [
        ("1", "What is the primary goal in academia?"),
        ("2", "How do academia and industry differ in risk tolerance?"),
        ("3", "What is model drift?"),  # a heading label with its question below it
        ("4", "What is deep learning?"),
    ]


def test_duplicated_and_out_of_order_items_are_all_kept_in_the_order_written():
    exam = parse_exam("2. What is model drift?\n1. What is deep learning?\n2. Why is deployment hard?\n")
    assert [(r.id, r.question) for r in exam.rows] == [
        ("2", "What is model drift?"),
        ("1", "What is deep learning?"),
        ("2 (2)", "Why is deployment hard?"),
    ]
    assert exam.warnings == ["item 2 appears more than once (again on line 3); the next one is listed as 2 (2)."]


def test_a_text_exam_takes_its_first_line_as_title_and_a_markdown_exam_its_setext_heading(tmp_path: Path):
    txt = tmp_path / "final.txt"
    txt.write_text("Final exam, spring\n1. What is model drift?\n2) What is deep learning?\n3.\n", encoding="utf-8")
    exam = read_exam(txt)
    assert exam.title == "Final exam, spring"
    assert [(r.id, r.question, r.error is None) for r in exam.rows] == [
        ("1", "What is model drift?", True), ("2", "What is deep learning?", True), ("3", "", False)
    ]
    md = tmp_path / "quiz.md"
    md.write_text("Quiz 2\n======\n\n1. What is model drift?\n", encoding="utf-8")
    assert read_exam(md).title == "Quiz 2"
