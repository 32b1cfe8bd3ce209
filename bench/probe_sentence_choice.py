"""Could a learned choice of the answering sentence beat the hand-weighted ranker? Measured on squad6, one
article left out at a time.

For every answerable squad6 question whose ten best-ranked sentences (the answerer's own `rank_quotes` and
`typed_first`) hold a gold answer, it builds features of each of the ten (the ranker's score and its gap
to the best, rank, cosine with the question, rarity-weighted coverage of the question with and without
the headings, the share of the sentence's words the question lacks, ordered word pairs, whether it holds
the asked-for kind of answer, a new name for "who", an opening pronoun, length, the passage's similarity
and rank, whether it is the best sentence's passage and its first sentence, shared negation), trains a
logistic model on five articles (pointwise, and listwise: a softmax over each question's ten) and reports,
on the sixth, how often the sentence it ranks first holds the gold, against the hand ranker's first.

    .venv/bin/python bench/probe_sentence_choice.py [--squad DIR] [--index DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.train_verifier import default_squad  # noqa: E402
from tutor.answering.forms import read  # noqa: E402
from tutor.answering.question import answer_type, has_answer_type, parse  # noqa: E402
from tutor.answering.rank import _asked_weights, _weighted_coverage, quote_text, rank_quotes, typed_first  # noqa: E402
from tutor.answering.verify import NEGATION_RE, _new_names, _pairs_held, _sequence, _terms, _wh, fit_logistic  # noqa: E402
from tutor.evaluation import open_set  # noqa: E402

TOP = 10
PRONOUN_RE = re.compile(r"^\s*(?:he|she|it|they|this|these|that|those|his|her|its|their)\b", re.I)


def _norm(text: str) -> str:
    for a, b in (("\u2019", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u2013", "-"), ("\u2014", "-")):
        text = text.replace(a, b)
    return re.sub(r"\s+", " ", text.lower())


def features(question: str, qvec: np.ndarray, quotes: list, weights) -> list[list[float]]:
    asked = _asked_weights(parse(question), weights)
    qterms, qseq = _terms(question), _sequence(question)
    kind, wh, best = answer_type(question), _wh(question), quotes[0]
    rows = []
    for j, q in enumerate(quotes[:TOP]):
        ev, unit = q.evidence, q.evidence.units[q.unit]
        own = _terms(unit.text)
        typed = float(kind is not None and has_answer_type(kind, unit.text, question))
        rows.append([
            q.score, q.score - best.score, math.log1p(j), float(j == 0), float(ev.unit_vectors[q.unit] @ qvec),
            _weighted_coverage(asked, unit.text), _weighted_coverage(asked, f"{ev.chunk.section} {unit.context} {unit.text}"),
            len(own - qterms) / max(len(own), 1), _pairs_held(qseq, _sequence(unit.text)), typed,
            float(wh == "who") * float(_new_names(unit.text, qterms)), float(bool(PRONOUN_RE.match(unit.text))),
            math.log(len(unit.text) + 1), ev.dense, math.log1p(ev.rank), float(ev is best.evidence), float(q.unit == 0),
            float(bool(NEGATION_RE.search(unit.text))) * float(bool(NEGATION_RE.search(question))),
        ])
    return rows


def listwise(xs: list[np.ndarray], ys: list[np.ndarray], l2: float) -> np.ndarray:
    from scipy.optimize import minimize

    def loss(w):
        total, grad = 0.5 * l2 * w @ w, l2 * w
        for x, y in zip(xs, ys):
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            held = p * y
            z = held.sum() + 1e-12
            total -= math.log(z)
            grad = grad - x.T @ (held / z) + x.T @ p
        return total, grad

    return minimize(loss, np.zeros(xs[0].shape[1]), jac=True, method="L-BFGS-B").x


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", default=str(default_squad()))
    parser.add_argument("--index", default=str(Path(tempfile.gettempdir()) / "tutor-squad6-index"))
    args = parser.parse_args()

    from tutor import Tutor

    qset = open_set(args.squad)
    tutor = Tutor.load(qset.corpus_dir, args.index, generator="extractive", device="cpu")
    weights = tutor.answerer.weights
    questions = [q for q in qset.questions if q.answerable and read(q.question).form in ("factoid", "definition")]
    vectors, evidence = tutor._retrieve([q.question for q in questions], None)
    data = []
    for q, qvec, found in zip(questions, vectors, evidence):
        quotes = typed_first(q.question, rank_quotes(q.question, qvec, found, weights))
        golds = [_norm(g) for g in q.answers]
        labels = [float(any(g in _norm(quote_text(x)) for g in golds)) for x in quotes[:TOP]]
        if quotes and sum(labels):
            data.append((q.title, np.array(features(q.question, qvec, quotes, weights)), np.array(labels)))
    titles = sorted({t for t, _, _ in data})
    print(f"{len(data)} factoid and definition questions whose {TOP} best sentences hold a gold answer")
    for name in ("pointwise", "listwise"):
        hand = learned = 0.0
        for title in titles:
            train = [(x, y) for t, x, y in data if t != title]
            test = [(x, y) for t, x, y in data if t == title]
            stacked = np.vstack([x for x, _ in train])
            mu, sd = stacked.mean(0), stacked.std(0) + 1e-9
            if name == "pointwise":
                w, b = fit_logistic((stacked - mu) / sd, np.concatenate([y for _, y in train]), l2=1.0)
            else:
                w, b = listwise([(x - mu) / sd for x, _ in train], [y for _, y in train], l2=1.0), 0.0
            for x, y in test:
                hand += y[0]
                learned += y[int(np.argmax(((x - mu) / sd) @ w + b))]
        print(f"{name:9s}: the first sentence holds the gold: hand ranker {hand / len(data):.3f}, "
              f"learned (held-out article) {learned / len(data):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
