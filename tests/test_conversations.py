"""Conversations with the tutor: a complete question is answered as asked, however short; thanks and
greetings get a friendly reply and no course answer; a follow-up ("And in industry?", "Why does it
matter?", "Why?") is rewritten against the last real question, and the answer says how it was understood.

The set is eval/conversations/conversations.jsonl; each turn is asked with the student's earlier turns
as history, in order."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tutor.answering.followup import contextualize

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "eval" / "conversations" / "conversations.jsonl"
KINDS = ("new", "followup", "smalltalk")


def _load() -> list[dict]:
    with SET.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


CONVERSATIONS = _load()


def test_the_set_is_large_and_mixed_enough():
    assert len(CONVERSATIONS) >= 40
    kinds = Counter(turn["kind"] for c in CONVERSATIONS for turn in c["turns"])
    assert all(kinds[kind] >= 10 for kind in KINDS), kinds


def test_every_conversation_is_well_formed():
    assert len({c["id"] for c in CONVERSATIONS}) == len(CONVERSATIONS)
    for c in CONVERSATIONS:
        turns = c["turns"]
        assert 2 <= len(turns) <= 4 and turns[0]["kind"] == "new", c["id"]
        for turn in turns:
            assert turn["kind"] in KINDS and turn["say"].strip(), c["id"]
            words = turn["must_contain"] + turn["must_not_contain"]
            assert all(w == w.lower() for w in words), c["id"]
            if turn["kind"] == "followup":
                assert 1 <= len(turn["must_contain"]) <= 3, (c["id"], turn["say"])
            else:
                assert not words, (c["id"], turn["say"])


# Conversations the rewriter is known to get wrong, each with why; strict, so a fix shows up as a pass.
KNOWN_MISSES: dict[str, str] = {}


@pytest.mark.parametrize(
    "conversation",
    [
        pytest.param(c, marks=pytest.mark.xfail(reason=KNOWN_MISSES[c["id"]], strict=True))
        if c["id"] in KNOWN_MISSES else c
        for c in CONVERSATIONS
    ],
    ids=[c["id"] for c in CONVERSATIONS],
)
def test_a_conversation_is_understood_turn_by_turn(tutor, conversation):
    history: list[str] = []
    for turn in conversation["turns"]:
        said = turn["say"]
        answer = tutor.ask(said, history=list(history))
        rewrite = answer.interpreted_as
        where = (
            f"{conversation['id']}: after {history!r}, {said!r} was understood as {rewrite!r} (form {answer.form!r})"
        )
        if turn["kind"] == "new":
            assert rewrite in (None, said), f"a complete question was rewritten; {where}"
            assert answer.form != "smalltalk", f"a course question was taken for small talk; {where}"
        elif turn["kind"] == "followup":
            assert isinstance(rewrite, str) and rewrite != said, f"a follow-up was not rewritten; {where}"
            understood = rewrite.lower()
            for word in turn["must_contain"]:
                assert word in understood, f"the rewrite lacks {word!r}; {where}"
            for word in turn["must_not_contain"]:
                assert word not in understood, f"the rewrite keeps {word!r}; {where}"
        else:
            assert answer.form == "smalltalk", f"small talk was answered from the course; {where}"
            assert answer.citations == (), f"small talk cites the course; {where}"
            assert not answer.abstained, f"small talk was met with an abstention; {where}"
        history.append(said)


@pytest.mark.parametrize(
    ("previous", "said", "understood"),
    [
        # a new phrase that opens with the previous question's preposition replaces that phrase
        ("How much GPU memory is used during training?", "And during inference?",
         "How much GPU memory is used during inference?"),
        # … or, with another preposition, the previous question's last prepositional phrase
        ("What do data scientists do before model training?", "And after deployment?",
         "What do data scientists do after deployment?"),
    ],
)
def test_a_phrase_with_a_preposition_replaces_the_phrase_it_stands_for(previous, said, understood):
    assert contextualize(said, [previous]) == understood


def test_a_word_of_amount_is_never_what_a_follow_up_swaps(tutor):
    understood = tutor.ask("And a TPU?", history=["How much memory does a GPU have?"]).interpreted_as
    assert understood.startswith("How much ") and "TPU" in understood
