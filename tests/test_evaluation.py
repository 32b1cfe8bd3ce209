"""`tutor eval`: loading both kinds of question set, the SQuAD scoring rule, answer length, the per-form
breakdown, the verifier's figures, and one clear error for a bad set."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tutor.cli import main
from tutor.errors import TutorError
from tutor.evaluation import (
    VerifierScores,
    answer_scores,
    evaluate,
    evaluate_squad,
    form_breakdown,
    keyword_share,
    open_set,
    squad_correct,
    squad_holds,
    squad_score,
    verifier_report,
)
from tutor.models import Answer

ROOT = Path(__file__).resolve().parent.parent

CONTEXT = (
    "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in "
    "France. They were descended from Norse raiders and pirates who, under their leader Rollo, agreed to swear "
    "fealty to King Charles III of West Francia."
)
OTHER = "Rollo\u2019s contingents raided and settled Normandy; the   Duchy was formed in 911 by treaty with Charles."


def _answer(qid: str, text: str, abstained: bool = False, form: str | None = None) -> Answer:
    return Answer(question=qid, text=text, abstained=abstained, generator="extractive", id=qid, form=form)


class FakeTutor:
    """Stands in for a Tutor where only the scoring is under test: fixed passages, retrieval and answers."""

    def __init__(self, passages: list[str], retrieved: dict[str, list[int]], answers: dict[str, Answer]) -> None:
        self.store = SimpleNamespace(chunks=[SimpleNamespace(text=p) for p in passages])
        self.retriever = SimpleNamespace(
            search=lambda qs, k: [[SimpleNamespace(position=p) for p in retrieved[q][:k]] for q in qs]
        )
        self._answers = answers

    def ask_many(self, questions, ids=None):
        return [self._answers[i] for i in ids]


def _write_squad(folder: Path, rows: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "qa.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


SQUAD_ROWS = [
    {"id": "a1", "q": "Who led the Norse raiders?", "answerable": True, "answers": ["Rollo"], "context": CONTEXT,
     "title": "Normans"},
    {"id": "a2", "q": "When did the Normans name Normandy?", "answerable": True,
     "answers": ["10th and 11th centuries"], "context": CONTEXT, "title": "Normans"},
    {"id": "u1", "q": "Who did King Charles III swear fealty to?", "answerable": False, "answers": [], "context": "",
     "title": "Normans"},
    {"id": "u2", "q": "When was the Duchy dissolved?", "answerable": False, "answers": [], "context": "",
     "title": "Duchy"},
]


# ---------------------------------------------------------------------------------------------- the SQuAD rule


def test_a_passage_holds_the_answer_only_with_its_own_paragraph_around_it():
    assert squad_holds(CONTEXT, ["Rollo"], CONTEXT)
    # "Rollo" is in the other passage too, but the 40 characters around it are not the gold paragraph's.
    assert not squad_holds(OTHER, ["Rollo"], CONTEXT)
    # Compared lower-cased, with whitespace runs as one space and curly quotes as straight ones.
    curly = CONTEXT.replace("Norse raiders", "Norse \u2018raiders\u2019").replace(" ", "  ")
    assert squad_holds(curly.upper(), ["ROLLO"], CONTEXT.replace("Norse raiders", "Norse 'raiders'"))
    # A passage cut a few characters before the answer still holds it: the window stops at its edge.
    assert squad_holds(CONTEXT[CONTEXT.index("under their"):], ["Rollo"], CONTEXT)
    # ...but not when its text beside the answer is not the paragraph's.
    assert not squad_holds("Rollo's raiders, says another book, swore fealty to King Charles III", ["Rollo"], CONTEXT)


def test_an_answer_is_correct_when_it_answers_and_holds_a_gold_answer():
    assert squad_correct(_answer("a", "Their leader was ROLLO [1]"), ["Rollo"])
    assert squad_correct(_answer("a", "In the 10th  and 11th centuries [1]"), ["10th and 11th centuries"])
    assert not squad_correct(_answer("a", "The course material does not cover this question. Rollo", True), ["Rollo"])
    assert not squad_correct(_answer("a", "Charles III [1]"), ["Rollo"])


def test_a_squad_folder_is_read_and_scored_by_its_rule(tmp_path):
    folder = _write_squad(tmp_path / "mini", SQUAD_ROWS)
    (folder / "corpus").mkdir()
    qset = open_set(folder)
    assert qset.style == "squad" and qset.corpus_dir == folder / "corpus" and len(qset.questions) == 4
    assert qset.questions[0].answers == ("Rollo",) and qset.questions[0].context == CONTEXT
    assert open_set(folder / "qa.jsonl").questions == qset.questions

    passages = [OTHER, CONTEXT]
    retrieved = {q["q"]: [0, 1] for q in SQUAD_ROWS}
    retrieved["When did the Normans name Normandy?"] = [1, 0]
    answers = {
        "a1": _answer("a1", "Rollo's contingents raided and settled Normandy [1]"),  # 51 characters
        "a2": _answer("a2", "The course material does not cover this question.", True),
        "u1": _answer("u1", "The course material does not cover this question.", True),
        "u2": _answer("u2", "It was formed in 911 by treaty [1]"),
    }
    report = evaluate_squad(FakeTutor(passages, retrieved, answers), qset.questions)
    # a1's gold paragraph is second (the first passage names Rollo outside it); a2's is first.
    assert report["recall@1"] == 0.5 and report["recall@3"] == 1.0
    assert report["answer_correctness"] == 0.5  # a1 right, a2 abstained
    assert report["mean_answer_chars"] == len(answers["a1"].text) == report["p90_answer_chars"]
    assert report["abstention_recall"] == 0.5 and report["false_abstention_rate"] == 0.5


def test_limit_and_articles_cut_a_set_down(tmp_path):
    folder = _write_squad(tmp_path / "mini", SQUAD_ROWS)
    assert [q.id for q in open_set(folder, articles=["duchy"]).questions] == ["u2"]
    cut = open_set(folder, limit=2)
    assert [q.id for q in cut.questions] == ["a1", "a2"] and cut.notes
    with pytest.raises(TutorError, match="Warsaw.*its articles: Duchy, Normans"):
        open_set(folder, articles=["Warsaw"])


# ---------------------------------------------------------------------------------------------- bad sets


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "holds no questions"),
        ("\n\n", "holds no questions"),
        ('{"id": "q1", "question": "What?"\n', "line 1: not a JSON line"),
        ('["What is drift?"]\n', "must be a JSON object"),
        ('{"id": "q1", "keywords": []}\n', "'question' must be non-empty text"),
        ('{"id": "q1", "question": "What?", "answerable": "yes"}\n', "'answerable' must be true or false"),
        ('{"id": "q1", "question": "A?"}\n{"id": "q1", "question": "B?"}\n', "id q1 is used more than once"),
        ('{"id": "q1", "q": "Who?", "answerable": true, "answers": [], "context": "x"}\n', "needs its gold"),
    ],
)
def test_a_malformed_or_empty_set_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "questions.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TutorError, match=message):
        open_set(path)


def test_the_cli_reports_a_bad_set_in_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["eval", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tutor: error:") and "Traceback" not in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------------- forms, length


def test_the_breakdown_by_form_scores_each_form_apart():
    questions = open_set(_project_set_with_forms()).questions
    answers = {
        "d1": _answer("d1", "Model drift: performance degrades [1]", form="definition"),
        "d2": _answer("d2", "The course material does not cover this question.", True, form="definition"),
        "l1": _answer("l1", "- data quality [1]\n- model drift [1]", form="list"),
        "l2": _answer("l2", "The course material does not cover this question.", True, form="list"),
    }
    by_form = form_breakdown(questions, answers, keyword_share)
    assert set(by_form) == {"definition", "list"}
    assert by_form["definition"]["n"] == 2 and by_form["definition"]["answer_correctness"] == 0.5
    assert by_form["definition"]["false_abstention_rate"] == 0.5 and by_form["definition"]["read_as_form"] == 1.0
    assert by_form["list"]["answer_correctness"] == 0.5  # one of its two keywords
    assert by_form["list"]["abstention_recall"] == 1.0 and by_form["list"]["false_abstention_rate"] == 0.0
    assert form_breakdown([q for q in questions if False], answers, keyword_share) == {}


def _project_set_with_forms() -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "questions.jsonl"
    rows = [
        {"id": "d1", "question": "What is model drift?", "answerable": True, "keywords": ["degrades"],
         "evidence": "Model Drift: Performance degrades", "form": "definition"},
        {"id": "d2", "question": "What is a GPU?", "answerable": True, "keywords": ["graphics"],
         "evidence": "GPU", "form": "definition"},
        {"id": "l1", "question": "List the industry challenges.", "answerable": True,
         "keywords": ["data quality", "scalability"], "evidence": "Data Quality", "form": "list"},
        {"id": "l2", "question": "List the French kings.", "answerable": False, "keywords": [], "evidence": "",
         "form": "list"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_answer_length_is_the_answers_own_text():
    questions = open_set(_project_set_with_forms()).questions
    answers = {q.id: _answer(q.id, "x" * n) for q, n in zip(questions, (10, 20, 30, 400))}
    scores = answer_scores(questions, answers, keyword_share)
    assert scores["mean_answer_chars"] == 20.0  # answers to the three answerable questions
    assert scores["p90_answer_chars"] == pytest.approx(28.0)


def test_evaluate_on_the_course_reports_lengths_and_forms(tutor):
    report = evaluate(tutor, open_set(_project_set_with_forms()).questions)
    assert report["questions"] == 4 and set(report["by_form"]) == {"definition", "list"}
    assert 0 < report["mean_answer_chars"] <= report["p90_answer_chars"]


# ---------------------------------------------------------------------------------------------- the verifier's figures


def test_the_verifier_report_declines_below_each_questions_threshold():
    questions = open_set(_project_set_with_forms()).questions  # d1, d2, l1 answerable; l2 not
    answers = {
        "d1": _answer("d1", "Model drift: performance degrades [1]"),
        "d2": _answer("d2", "The course material does not cover this question.", True),
        "l1": _answer("l1", "data quality and scalability [1]"),
        "l2": _answer("l2", "Louis XIV [1]"),
    }
    scores = VerifierScores(np.array([0.9, 0.9, 0.2, 0.1]), np.array([0.5, 0.5, 0.5, 0.05]), "test")
    report = verifier_report(questions, answers, scores, keyword_share, curve=True)
    assert report["alone"] == {"abstention_recall": 0.0, "false_abstention_rate": pytest.approx(1 / 3)}
    # Together with the rule: d2 (rule) and l1 (verifier) are lost, l2 still answered.
    assert report["with_rule"]["false_abstention_rate"] == pytest.approx(2 / 3)
    assert report["with_rule"]["abstention_recall"] == 0.0
    assert report["with_rule"]["answer_correctness"] == pytest.approx(1 / 3)
    assert [r["abstention_recall"] for r in report["curve"] if r["threshold"] in (0.1, 0.15)] == [0.0, 1.0]


def test_squad_figures_from_the_verifier_are_leave_one_article_out(tmp_path, tutor):
    from tutor.answering.verify import Verifier
    from tutor.evaluation import verifier_scores

    rows = []
    for title, offset in (("Alpha", 0), ("Beta", 1), ("Gamma", 2)):
        for i, q in enumerate(_COURSE_QUESTIONS):
            rows.append({"id": f"{title}{i}", "q": q, "answerable": (i + offset) % 2 == 0,
                         "answers": ["x"] if (i + offset) % 2 == 0 else [], "context": "x", "title": title})
    folder = _write_squad(tmp_path / "three", rows)
    qset = open_set(folder, articles=["Beta"])
    scores = verifier_scores(tutor, qset, Verifier.load())
    assert "leave one article out" in scores.how and len(scores.probabilities) == len(_COURSE_QUESTIONS)
    # Flipping Beta's own labels changes nothing: it was never trained on.
    flipped = [dict(r, answerable=not r["answerable"], answers=["x"]) if r["title"] == "Beta" else r for r in rows]
    again = verifier_scores(tutor, open_set(_write_squad(tmp_path / "flipped", flipped), articles=["Beta"]),
                            Verifier.load())
    assert np.allclose(scores.probabilities, again.probabilities)
    assert np.allclose(scores.thresholds, again.thresholds)


_COURSE_QUESTIONS = [
    "What is model drift?", "What is deep learning?", "What is the primary goal in academia?",
    "What are the industry challenges?", "Who invented the printing press?", "What is the capital of France?",
    "How do academia and industry differ in risk tolerance?", "When was the Eiffel Tower built?",
]


# ---------------------------------------------------------------------------------------------- the command


def test_tutor_eval_scores_a_squad_folder_on_its_own_course(tmp_path, capsys):
    folder = _write_squad(tmp_path / "mini", SQUAD_ROWS)
    (folder / "corpus").mkdir()
    (folder / "corpus" / "Normans.md").write_text(f"# Normans\n\n{CONTEXT}\n\n{OTHER}\n", encoding="utf-8")
    index = tmp_path / "index"
    assert main(["eval", str(folder), "--index", str(index), "--json", "--no-verifier", "--device", "cpu"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["style"] == "squad" and index.is_dir()
    report = out["report"]
    assert report["questions"] == 4 and report["recall@3"] == 1.0
    assert {"answer_correctness", "mean_answer_chars", "p90_answer_chars", "abstention_recall",
            "false_abstention_rate"} <= set(report)
    assert squad_score  # the same scorer the command uses


def test_tutor_eval_curve_prints_both_trade_offs(index_dir, corpus_dir, capsys):
    path = ROOT / "eval" / "heldout" / "questions.jsonl"
    assert main(["eval", str(path), "--corpus", str(corpus_dir), "--index", str(index_dir), "--curve",
                 "--generator", "extractive", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "mean_answer_chars" in out and "p90_answer_chars" in out
    assert "the tutor's own rule: support threshold" in out
    assert "learned verifier (the given weights, trained on shared/bench/squad6" in out
    assert "verifier threshold → unanswerable declined, answerable lost" in out
    assert main(["eval", str(path), "--corpus", str(corpus_dir), "--index", str(index_dir), "--calibrate",
                 "--no-verifier", "--generator", "extractive", "--device", "cpu"]) == 0
    assert "support threshold" in capsys.readouterr().out
