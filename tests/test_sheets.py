"""Printable sheets: what an answer key shows (and never shows), and how it prints in a real Chromium."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _require_browser
from tutor.exam import Row
from tutor.models import Answer, Citation
from tutor.sheets import Sheet, render

SHEET = Sheet(exam_title="Midterm <b>2</b>", course_title="Deep Learning & <i>Industry</i>", date="1 June 2026")


def citation(rank: int, text: str, quote: str, page: int | None = None) -> Citation:
    return Citation(rank, f"c{rank}", "corpus/notes.pdf", "Industry › Challenges", text, quote, 0.5, page)


LIST_ANSWER = Answer(
    question="What challenges does industry face?",
    text="Industry faces three challenges:\n- Model Drift: data changes [1]\n- Legacy Systems in 2019 [2]",
    abstained=False,
    generator="extractive",
    citations=(
        citation(1, "Intro. Model Drift: data changes. Tail of passage one.", "Model Drift: data changes", page=4),
        citation(2, "Legacy Systems in 2019. Tail of passage two.", "Legacy Systems in 2019"),
        citation(3, "Retrieved, never marked in the text.", "Retrieved, never marked in the text."),
    ),
    id="1",
    also_retrieved=(citation(4, "An uncited passage about GPUs.", "An uncited passage about GPUs."),),
    highlights=("Model Drift", "2019"),
)
STEPS = Answer("How is a model deployed?", "1. Train it [1]\n2. Ship it [1]", False, "extractive",
               (citation(1, "Train it. Ship it.", "Train it"),), id="2")
ABSTAINED = Answer(
    "Who won the 2018 World Cup?",
    "The course material does not cover this question. Nearby, the course says: Nearby words [1]",
    True, "extractive", (citation(1, "Nearby words here.", "Nearby words"),), id="3",
)
HOSTILE = Answer('<script>alert(1)</script> <!-- x --> "q"?', "Use <b>bold</b> & stay <!-- safe --> [1]",
                 False, "extractive", (citation(1, "Use <b>bold</b>.", "<b>bold</b>"),), id="4")
ENTRIES = [(Row("1", LIST_ANSWER.question), LIST_ANSWER), (Row("2", STEPS.question), STEPS),
           (Row("3", ABSTAINED.question), ABSTAINED), (Row("4", HOSTILE.question), HOSTILE),
           (Row("5", "", error="item 5 (line 9) has no question text."),
            Answer("", "", False, "extractive", id="5", error="item 5 (line 9) has no question text."))]


def test_an_html_key_shows_lists_bold_highlights_and_only_the_quoted_passages():
    page = render(SHEET, ENTRIES, "html")

    assert "<h1>Midterm &lt;b&gt;2&lt;/b&gt;</h1>" in page and "Deep Learning &amp; &lt;i&gt;Industry&lt;/i&gt;" in page
    assert "1 June 2026" in page and "Answer key" in page and "5 questions · 1 not covered · 1 not answered" in page
    assert ("<p>Industry faces three challenges:</p><ul><li><strong>Model Drift</strong>: data changes [1]</li>"
            "<li>Legacy Systems in <strong>2019</strong> [2]</li></ul>") in page
    assert "<ol><li>Train it [1]</li><li>Ship it [1]</li></ol>" in page
    assert "“Model Drift: data changes”</span> — Industry › Challenges, notes.pdf, p. 4</li>" in page
    assert "“Legacy Systems in 2019”</span> — Industry › Challenges, notes.pdf</li>" in page
    assert "Tail of passage" not in page and "uncited passage" not in page  # quotes only, cited only
    assert "never marked" not in page
    assert "Not covered by the course material." in page and "Nearby" not in page  # an abstention, plainly
    assert "Not answered: item 5 (line 9) has no question text." in page
    assert "break-inside: avoid" in page and "@page" in page
    # Course text and questions are shown, never run: no tag or comment from them survives.
    assert "<script>" not in page and "<!--" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!-- x --&gt; &quot;q&quot;?" in page
    assert "Use &lt;b&gt;bold&lt;/b&gt; &amp; stay &lt;!-- safe --&gt; [1]" in page


def test_a_markdown_key_reads_the_same_and_escapes_what_would_render_as_markup():
    sheet = render(SHEET, ENTRIES, "md")

    assert sheet.startswith("# Midterm &lt;b&gt;2&lt;/b&gt;\n\n**Answer key** · Course: Deep Learning &amp; ")
    assert ("Industry faces three challenges:\n\n- **Model Drift**: data changes [1]\n"
            "- Legacy Systems in **2019** [2]\n") in sheet
    assert "1. Train it [1]\n2. Ship it [1]\n" in sheet
    assert "> [1] “Model Drift: data changes” — Industry › Challenges, notes.pdf, p. 4  \n" in sheet
    assert "### 3. Who won the 2018 World Cup?\n\n*Not covered by the course material.*" in sheet
    assert "### 5. *(no question text)*\n\n*Not answered: item 5 (line 9) has no question text.*" in sheet
    assert "Tail of passage" not in sheet and "uncited passage" not in sheet and "Nearby" not in sheet
    assert "never marked" not in sheet
    assert "<!--" not in sheet and "<script>" not in sheet and "<b>" not in sheet


def test_a_key_says_how_a_question_with_a_slip_was_read_and_escapes_it():
    read = Answer("What is <i>modle</i> drift?", "Model Drift: data changes [1]", False, "extractive",
                  (citation(1, "Model Drift: data changes.", "Model Drift: data changes"),), id="1",
                  interpreted_as="What is <i>model</i> drift?")
    entries = [(Row("1", read.question), read), (Row("2", STEPS.question), STEPS)]
    page = render(SHEET, entries, "html")
    assert '<p class="none">Answered as: What is &lt;i&gt;model&lt;/i&gt; drift?</p>' in page
    assert page.count("Answered as") == 1  # a question answered as written says nothing
    sheet = render(SHEET, entries, "md")
    assert "*Answered as: What is &lt;i&gt;model&lt;/i&gt; drift?*\n\nModel Drift: data changes [1]" in sheet
    assert sheet.count("Answered as") == 1


def test_a_student_sheet_has_the_questions_and_room_to_write_but_no_answers():
    student = Sheet(exam_title="Midterm", course_title="Deep Learning", kind="student", date="1 June 2026")
    entries = [(row, None) for row, _ in ENTRIES]
    for fmt in ("html", "md"):
        page = render(student, entries, fmt)
        assert "Student sheet" in page and "Name: ____" in page
        assert "What challenges does industry face?" in page and "How is a model deployed?" in page
        assert "Model Drift: data changes" not in page and "Not covered" not in page and "[1]" not in page
    assert render(student, entries, "html").count('<div class="lines">') == 5


def test_a_stem_is_printed_once_above_its_first_part_and_kept_on_its_page():
    from tutor.exam import parse_exam

    exam = parse_exam("7. Consider industry practice.\na) What is data quality?\nb) What are legacy systems?\n")
    sheet = Sheet(exam_title="Quiz", kind="student", date="1 June 2026", stems=exam.stems)
    entries = [(row, None) for row in exam.rows]

    page = render(sheet, entries, "html")
    assert page.count("Consider industry practice.") == 1
    assert ('<section class="q"><h2><span class="num">7.</span> Consider industry practice.</h2>'
            '<h2><span class="num">7a.</span> What is data quality?</h2>') in page
    assert "### 7. Consider industry practice.\n\n### 7a. What is data quality?" in render(sheet, entries, "md")


# ---------------------------------------------------------------- printed by a real browser

EXAM = """# Deep Learning — Final Exam

Answer in full sentences. Each question carries equal marks.

1. What is deep learning?
2. What is the primary goal in academia?
3. What is model drift?
4. How do academia and industry differ in risk tolerance?
5. What are the challenges in industry?
6. Which conferences are top venues for academic research?
7. Why does industry prefer simple models?
8. Who won the 2018 World Cup?
9. What are the core components of a neural network?
10. How do academic and industry approaches complement each other?
"""


def print_to_pdf(page_html: Path, pdf: Path) -> tuple[int, str]:
    """Chromium's print of `page_html`: its page count and its text, whitespace collapsed."""
    from pypdf import PdfReader

    with _require_browser()() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_html.as_uri())
            page.pdf(path=str(pdf), prefer_css_page_size=True)
        finally:
            browser.close()
    reader = PdfReader(str(pdf))
    return len(reader.pages), " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.strip()) > 25]


@pytest.mark.slow
@pytest.mark.browser
def test_ten_questions_print_on_at_most_four_pages_with_only_quoted_passages(tutor, tmp_path):
    from tutor.batch import run_batch
    from tutor.cli import build_parser

    _require_browser()
    exam, out = tmp_path / "final.md", tmp_path / "key.html"
    exam.write_text(EXAM, encoding="utf-8")
    assert run_batch(build_parser().parse_args(["batch", str(exam), "--out", str(out)]), tutor=tutor) == 0
    answers = tutor.ask_many([line.split(". ", 1)[1] for line in EXAM.splitlines() if line[:1].isdigit()])

    pages, text = print_to_pdf(out, tmp_path / "key.pdf")

    assert pages <= 4, f"10 questions took {pages} pages"
    assert "<!--" not in text and "Deep Learning — Final Exam" in text and tutor.title in text
    assert "Why does industry prefer simple models?" in text and "Not covered by the course material." in text
    printed = " ".join(" ".join((a.text, *(c.quote for c in a.citations))) for a in answers)
    uncited = [s for a in answers for c in (*a.citations, *a.also_retrieved) for s in sentences(c.text)
               if " ".join(s.split()) not in " ".join(printed.split())]
    assert uncited, "the check needs passages that were retrieved and not quoted"
    leaked = [s for s in uncited if " ".join(s.split()) in text]
    assert not leaked, f"passages printed that no answer quotes: {leaked[:3]}"

    student = tmp_path / "student.html"
    args = ["batch", str(exam), "--out", str(student), "--sheet", "student"]
    assert run_batch(build_parser().parse_args(args), tutor=tutor) == 0
    pages, text = print_to_pdf(student, tmp_path / "student.pdf")
    assert pages <= 4 and "What is model drift?" in text and "Model Drift: Performance" not in text
    assert html.escape(tutor.title) in student.read_text(encoding="utf-8")
