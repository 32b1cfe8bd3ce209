"""The learned answerability check: its weights, what it prefers, how it is trained and held out."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from tutor.answering.verify import (
    FEATURE_SETS,
    WEIGHTS_PATH,
    Candidate,
    Sentence,
    Verifier,
    candidates,
    feature_matrix,
    fit_logistic,
    leave_one_group_out,
    out_of_group,
    threshold_at,
)
from tutor.errors import TutorError


def test_the_committed_weights_are_small_json_and_load_without_pickle(monkeypatch):
    assert WEIGHTS_PATH.stat().st_size <= 20 * 1024 * 1024
    data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    assert data["format"] == "tutor-verifier/1" and 0.0 < data["threshold"] < 1.0

    def no_pickle(*args, **kwargs):
        raise AssertionError("the verifier weights must never be unpickled")

    monkeypatch.setattr(pickle, "load", no_pickle)
    monkeypatch.setattr(pickle, "loads", no_pickle)
    verifier = Verifier.load()
    assert verifier.threshold == data["threshold"] and "similarity" in verifier.groups


def test_probabilities_from_the_real_pipeline_lie_in_zero_one(tutor):
    questions = ["What is model drift?", "What is the capital city of France?", "What are the industry goals?"]
    cands = candidates(tutor, questions)
    assert [c.question for c in cands] == questions and all(1 <= len(c.sentences) <= 3 for c in cands)
    verifier = Verifier.load()
    p = verifier.probability(cands)
    assert p.shape == (3,) and np.all((p >= 0) & (p <= 1))
    assert [verifier.accepts(c) for c in cands] == list(p >= verifier.threshold)
    # The sentence that answers about model drift is judged likelier than anything about France's capital.
    assert p[0] > p[1]


@pytest.fixture(scope="module")
def embed(tutor):
    return lambda texts: tutor.retriever.embed(list(texts))


def _candidate(embed, question: str, sentence: str, rarity: dict[str, float]) -> Candidate:
    qvec, svec = embed([question, sentence])
    from tutor.terms import terms

    return Candidate(
        question, qvec, (Sentence(sentence, svec, sentence, "History", float(qvec @ svec)),),
        tuple((t, rarity.get(t, 0.3)) for t in dict.fromkeys(terms(question))),
    )


@pytest.mark.parametrize(
    "question, states, swapped",
    [
        ("When did Warsaw become the capital of Poland?", "Warsaw became the capital of Poland in 1596.",
         "Krakow became the capital of Poland in 1038."),
        ("Who built the first Watt steam engine in Birmingham?",
         "Matthew Boulton built the first Watt steam engine in Birmingham in 1776.",
         "Matthew Boulton built the first Newcomen pump in Cornwall in 1776."),
    ],
)
def test_a_sentence_that_states_the_fact_beats_one_that_swaps_its_subject(embed, question, states, swapped):
    rarity = {"warsaw": 0.9, "krakow": 0.9, "watt": 0.9, "birmingham": 0.9, "poland": 0.6, "capital": 0.5}
    verifier = Verifier.load()
    right, wrong = verifier.probability(
        [_candidate(embed, question, states, rarity), _candidate(embed, question, swapped, rarity)]
    )
    assert right > wrong


def test_a_question_with_nothing_retrieved_gets_a_probability_too():
    verifier = Verifier.load()
    empty = Candidate("What is it?", np.zeros(384, dtype=np.float32), ())
    assert 0.0 <= float(verifier.probability([empty])[0]) <= 1.0
    assert verifier.probability([]).shape == (0,)


def test_weights_round_trip_and_a_foreign_file_is_refused(tmp_path):
    verifier = Verifier.load()
    verifier.save(tmp_path / "v.json")
    again = Verifier.load(tmp_path / "v.json")
    assert again.groups == verifier.groups and np.allclose(again.coef, verifier.coef)
    assert again.threshold == verifier.threshold
    (tmp_path / "bad.json").write_text('{"groups": ["similarity"], "mean": [1, 2]}', encoding="utf-8")
    with pytest.raises(TutorError, match="not a verifier weights file"):
        Verifier.load(tmp_path / "bad.json")
    (tmp_path / "pickled.json").write_bytes(pickle.dumps({"groups": ["similarity"]}))
    with pytest.raises(TutorError, match="not a verifier weights file"):
        Verifier.load(tmp_path / "pickled.json")
    with pytest.raises(TutorError, match="Cannot read"):
        Verifier.load(tmp_path / "missing.json")


def test_every_feature_set_has_one_name_per_column():
    c = Candidate("Who built it?", np.ones(384, dtype=np.float32) / np.sqrt(384),
                  (Sentence("Boulton built it in 1776.", np.ones(384, dtype=np.float32) / np.sqrt(384),
                            "Boulton built it in 1776.", "History", 0.5),))
    for name, groups in FEATURE_SETS.items():
        x, names = feature_matrix([c, c], groups)
        assert x.shape == (2, len(names)) and np.all(np.isfinite(x)), name


# ---------------------------------------------------------------------------------------------- training


def test_the_logistic_head_learns_a_separable_rule():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] - 2 * x[:, 2] > 0).astype(float)
    coef, bias = fit_logistic(x, y, l2=0.1)
    accuracy = np.mean(((x @ coef + bias) > 0) == (y > 0.5))
    assert accuracy > 0.97 and coef[0] > 0 > coef[2] and abs(coef[1]) < abs(coef[0])


def test_the_threshold_loses_at_most_five_percent_of_the_answerable():
    rng = np.random.default_rng(1)
    p = rng.uniform(size=1000)
    answerable = rng.uniform(size=1000) < 0.5
    t = threshold_at(p, answerable)
    assert np.mean(p[answerable] < t) <= 0.05
    assert np.mean(p[answerable] < t + 0.02) > 0.05  # and no higher threshold would do


def test_a_held_out_group_is_never_scored_by_a_model_that_saw_it():
    rng = np.random.default_rng(2)
    cands, labels, groups = [], [], []
    for g in "ABCD":
        for _ in range(30):
            q = rng.normal(size=384).astype(np.float32)
            q /= np.linalg.norm(q)
            s = rng.normal(size=384).astype(np.float32)
            s /= np.linalg.norm(s)
            answerable = bool(rng.uniform() < 0.5)
            s_vec = (q + s * (0.5 if answerable else 2.0)) / np.linalg.norm(q + s * (0.5 if answerable else 2.0))
            cands.append(Candidate("q", q, (Sentence("s", s_vec.astype(np.float32), "s", "", 0.5),)))
            labels.append(answerable)
            groups.append(g)
    groups_ = FEATURE_SETS["similarity"]
    folds = leave_one_group_out(cands, labels, groups, groups_)
    p, t = out_of_group(folds, groups)
    flipped = [not y if g == "B" else y for y, g in zip(labels, groups)]
    p2, t2 = out_of_group(leave_one_group_out(cands, flipped, groups, groups_), groups)
    b = np.array(groups) == "B"
    assert np.allclose(p[b], p2[b]) and np.allclose(t[b], t2[b])
    assert not np.allclose(p[~b], p2[~b])  # the others were trained on B's (flipped) labels
    assert np.mean((p > 0.5) == np.array(labels)) > 0.8  # and what it learned holds on unseen groups
