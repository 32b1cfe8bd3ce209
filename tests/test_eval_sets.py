"""The evaluation sets themselves: every file loads, and every answerable question's evidence is the
article's own text and holds its expected keywords, so a figure never rests on a typo."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.evaluation import load_questions

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted((ROOT / "eval").glob("*.jsonl"))


def test_there_are_evaluation_sets():
    assert len(SETS) >= 2 and (ROOT / "eval" / "questions.jsonl") in SETS


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_an_evaluation_set_is_well_formed(path):
    article = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt")))
    questions = load_questions(path)
    assert len({q.id for q in questions}) == len(questions)
    assert any(not q.answerable for q in questions)
    for q in questions:
        if q.answerable:
            assert q.evidence and q.evidence in article, q.id
            assert q.keywords and all(k.lower() in q.evidence.lower() for k in q.keywords), q.id
        else:
            assert not q.keywords and not q.evidence, q.id
