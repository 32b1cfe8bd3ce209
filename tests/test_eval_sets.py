"""The evaluation sets themselves: every set loads, and every answerable question's evidence is its
course's own text and holds its expected keywords, so a figure never rests on a typo."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.evaluation import load_questions

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted((ROOT / "eval").glob("*/questions.jsonl"))


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


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.parent.name)
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
