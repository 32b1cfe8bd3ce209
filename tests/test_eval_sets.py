"""The evaluation sets themselves: every set loads, and every answerable question's evidence is its
course's own text and holds its expected keywords, so a figure never rests on a typo."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.evaluation import load_questions

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted((ROOT / "eval").glob("*/questions.jsonl"))
EXTERNAL = "course-folder.txt"  # a set about a course that is not in the repository names its folder here


def _course_text(set_dir: Path) -> str:
    """A set is about the bundled course unless its folder holds a corpus/ of its own."""
    corpus = set_dir / "corpus" if (set_dir / "corpus").is_dir() else ROOT / "corpus"
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(corpus.rglob("*")) if p.is_file())


def test_there_are_evaluation_sets():
    assert len(SETS) >= 2 and (ROOT / "eval" / "questions" / "questions.jsonl") in SETS


def test_every_set_is_described_in_the_readme():
    readme = (ROOT / "eval" / "README.md").read_text(encoding="utf-8")
    for path in SETS:
        assert f"`{path.parent.name}/`" in readme, path.parent.name


@pytest.mark.parametrize("path", [p for p in SETS if not (p.parent / EXTERNAL).is_file()], ids=lambda p: p.parent.name)
def test_an_evaluation_set_is_well_formed(path):
    text = _course_text(path.parent)
    questions = load_questions(path)
    assert len({q.id for q in questions}) == len(questions)
    assert any(not q.answerable for q in questions)
    for q in questions:
        if q.answerable:
            assert q.evidence and q.evidence in text, q.id
            assert q.keywords and all(k.lower() in q.evidence.lower() for k in q.keywords), q.id
        else:
            assert not q.keywords and not q.evidence, q.id


@pytest.mark.parametrize("path", [p for p in SETS if (p.parent / EXTERNAL).is_file()], ids=lambda p: p.parent.name)
def test_a_set_about_an_outside_course_quotes_the_pages_it_names(path):
    """Its evidence is the text the tutor reads from the page each question names (checked where the
    course is installed), and holds the expected keywords."""
    import json
    import re

    from tutor.ingest import read_document

    folder = Path((path.parent / EXTERNAL).read_text(encoding="utf-8").strip())
    rows = {str(row["id"]): row for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    questions = load_questions(path)
    assert any(not q.answerable for q in questions)
    for q in questions:
        if not q.answerable:
            assert not q.keywords and not q.evidence, q.id
            continue
        assert q.keywords and all(k.lower() in q.evidence.lower() for k in q.keywords), q.id
        assert rows[q.id].get("source"), q.id
    if not folder.is_dir():
        pytest.skip(f"the course of {path.parent.name} is not installed at {folder}")
    for q in (q for q in questions if q.answerable):
        page = folder / rows[q.id]["source"]
        text = " ".join(read_document(page, page.name).text.split())
        assert re.sub(r"\s+", " ", q.evidence) in text, q.id
