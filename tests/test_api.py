"""The Python API on the real article: Tutor.load, ask, ask_many, Answer.to_dict."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor import TutorError


def test_model_drift_is_answered_with_the_sentence_that_defines_it(tutor):
    answer = tutor.ask("What is model drift?")
    assert not answer.abstained
    assert "Performance degrades as data distributions change" in answer.text
    assert "Performance degrades as data distributions change" in answer.citations[0].quote
    assert answer.citations[0].section.endswith("Industry Challenges")
    assert "[1]" in answer.text


def test_off_topic_question_abstains_without_citations(tutor):
    answer = tutor.ask("What is the capital city of France?")
    assert answer.abstained
    assert "does not cover" in answer.text
    assert answer.citations == ()


def test_ask_many_gives_the_same_answers_as_ask(tutor):
    questions = [
        "What is model drift?",
        "What is the primary goal in academia?",
        "Who won the 2018 World Cup?",
        # questions with a given part embed a second text: the batch must line them up the same way
        "Given its limited budgets, what kind of efficiency does academia focus on?",
        "Once a model is live in production, what must happen afterwards?",
    ]
    one_by_one = [tutor.ask(q) for q in questions]
    batched = tutor.ask_many(questions)
    assert [a.text for a in batched] == [a.text for a in one_by_one]
    assert [a.citations for a in batched] == [a.citations for a in one_by_one]


def test_to_dict_follows_the_answer_schema(tutor):
    data = tutor.ask("What is model drift?").to_dict()
    # The schema only grows: the first eight fields are the contract, the rest were added after.
    assert set(data) == {"id", "question", "answer", "abstained", "generator", "citations", "latency_ms", "error",
                         "form", "interpreted_as", "also_retrieved", "highlights"}
    assert data["generator"] == "extractive"
    assert data["form"] == "definition" and data["interpreted_as"] is None
    assert set(data["citations"][0]) == {"rank", "chunk_id", "source", "section", "text", "quote", "score", "page"}
    # Citations are exactly what the answer quotes; other retrieved passages come separately, unquoted.
    assert [c["rank"] for c in data["citations"]] == list(range(1, len(data["citations"]) + 1))
    assert all(f"[{c['rank']}]" in data["answer"] for c in data["citations"])
    assert all(c["quote"] == "" for c in data["also_retrieved"])
    assert data["citations"][0]["source"].endswith("deep-learning-academic-vs-industry.txt")


def test_follow_up_question_uses_the_conversation(tutor):
    first = "What is the primary goal in academia?"
    follow_up = tutor.ask("And in industry?", history=[first])
    assert "value creation" in follow_up.text
    assert "Industry" in follow_up.citations[0].section


@pytest.mark.parametrize("bad", ["", "   \n\t ", "x" * 100_000])
def test_bad_questions_raise_a_clear_error(tutor, bad):
    with pytest.raises(TutorError):
        tutor.ask(bad)


def test_ask_many_reports_a_bad_question_and_answers_the_rest(tutor):
    answers = tutor.ask_many(["", "What is model drift?"], ids=["a", "b"])
    assert answers[0].error and answers[0].id == "a"
    assert answers[1].error is None and not answers[1].abstained and answers[1].id == "b"


def test_covers_applies_the_same_abstention_rule_as_ask(tutor):
    questions = [
        "What is model drift?", "What is the capital city of France?", "What are the industry goals?",
        "What does YOLO stand for?", "What does LSTM stand for?",  # YOLO is spelled out in a heading, LSTM nowhere
    ]
    assert tutor.covers(questions) == [not a.abstained for a in tutor.ask_many(questions)]
    assert tutor.covers(questions)[3:] == [True, False]
    assert tutor.covers(questions)[:2] == [True, False]


def test_calibration_scores_questions_the_way_ask_answers_them(tutor):
    # `tutor eval --calibrate` must rank and retrieve exactly as answering does, or the threshold it
    # suggests is calibrated on something else.
    from tutor.answering.rank import ABSTAIN_THRESHOLD
    from tutor.evaluation import calibrate, load_questions

    questions = load_questions(Path(__file__).resolve().parent.parent / "eval" / "questions" / "questions.jsonl")
    at_threshold = next(r for r in calibrate(tutor, questions) if r["threshold"] == ABSTAIN_THRESHOLD)
    declined = [a.abstained for a in tutor.ask_many([q.question for q in questions])]
    answerable = [d for d, q in zip(declined, questions) if q.answerable]
    unanswerable = [d for d, q in zip(declined, questions) if not q.answerable]
    assert at_threshold["false_abstention_rate"] == sum(answerable) / len(answerable)
    assert at_threshold["abstention_recall"] == sum(unanswerable) / len(unanswerable)
