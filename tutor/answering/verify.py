"""Does the material state an answer to this question? A learned check over the best candidate sentences.

A `Candidate` is a question (its text and vector) with the few sentences ranked best for it, each with
its vector, its passage, heading path and the passage's similarity. The `Verifier` turns one into the
probability that the question is answerable from them, and declines below its threshold. It is a
logistic head over a few dozen features: similarities, the rarity-weighted share of the question's
terms that the sentence and its passage hold, the question's rare words (names, numbers, acronyms) that
the passage lacks, answer-type and negation cues, optionally the element-wise product of question and
sentence vectors. It does not choose the answer; it only says whether there is one to give.

Trained by `bench/train_verifier.py` on shared/bench/squad6; the weights (tutor/answering/verifier.json,
JSON, never pickle) hold the features' names, their scaling, the coefficients and the threshold.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from tutor.errors import TutorError
from tutor.terms import terms

WEIGHTS_PATH = Path(__file__).with_name("verifier.json")
TOP_SENTENCES = 3  # candidate sentences a question is checked against, best first
MAX_FALSE_ABSTENTION = 0.05  # the operating point: at most this share of answerable questions declined


@dataclass(frozen=True)
class Sentence:
    """A candidate sentence (quotable unit) with what surrounds it."""

    text: str
    vector: np.ndarray  # normalised, the embedding space of the question's
    passage: str  # the whole passage the sentence is in
    section: str  # its heading path
    dense: float  # the passage's similarity with the question, as retrieval scored it
    context: str = ""  # the list item or paragraph label it sits under, if any

    @property
    def placed(self) -> str:
        """The sentence as a reader sees it: under its heading path and label ("Privacy: Federated learning"
        answers "which techniques serve privacy?" only with its heading)."""
        return " ".join(p for p in (self.section, self.context, self.text) if p)


@dataclass(frozen=True)
class Candidate:
    """A question and its best-ranked sentences, best first."""

    question: str
    qvec: np.ndarray
    sentences: tuple[Sentence, ...]
    rarity: tuple[tuple[str, float], ...] = ()  # each question term's weight in the corpus, scaled to [0, 1]


def candidates(tutor, questions: Sequence[str], top: int = TOP_SENTENCES) -> list[Candidate]:
    """The candidates the tutor's own pipeline gives: the passages it retrieves and the sentences its
    answerer ranks first, with the question vector they were ranked against."""
    from tutor.answering.rank import rank_quotes, typed_first  # the answerer's ranking; the one place it is used

    questions = list(questions)
    if not questions:
        return []
    bm25 = tutor.retriever.bm25
    vectors, evidence = tutor._retrieve(questions, None)
    return [
        candidate(question, qvec, typed_first(question, rank_quotes(question, qvec, found, bm25)), bm25, top)
        for question, qvec, found in zip(questions, vectors, evidence)
    ]


def candidate(question: str, qvec: np.ndarray, quotes: Sequence, weights, top: int = TOP_SENTENCES) -> Candidate:
    """The candidate for a question from its ranked quotes (best first, each with `evidence` and `unit`),
    as an answerer holds them; `weights` are the corpus term weights (`Retriever.bm25`)."""
    top_weight = max(weights.max_idf, 1e-9)
    sentences = tuple(
        Sentence(
            text=q.evidence.units[q.unit].text,
            vector=np.asarray(q.evidence.unit_vectors[q.unit], dtype=np.float32),
            passage=q.evidence.chunk.text,
            section=q.evidence.chunk.section,
            dense=float(q.evidence.dense),
            context=q.evidence.units[q.unit].context,
        )
        for q in list(quotes)[:top]
    )
    rarity = tuple((t, min(weights.weight(t) / top_weight, 1.0)) for t in dict.fromkeys(terms(question)))
    return Candidate(question, np.asarray(qvec, dtype=np.float32), sentences, rarity)


# ---------------------------------------------------------------------------------------------- features

# Words a name, number or acronym is written in: what a swapped subject or a changed date changes.
RARE_RE = re.compile(r"(?<!^)(?<![.?!]\s)\b[A-Z][\w'-]*|\b\d[\d,.]*\b|\b[A-Z]{2,}\b")
NEGATION_RE = re.compile(r"\b(?:not|no|never|none|neither|nor|without|cannot|fail(?:s|ed)?\s+to)\b|n't\b", re.I)
ASKS_WHO_RE = re.compile(r"^\s*(?:\w+\s+)?(?:who|whom|whose)\b|\bwhat\s+(?:person|people|group|man|woman)\b", re.I)
ASKS_WHEN_RE = re.compile(r"^\s*(?:\w+\s+)?when\b|\b(?:what|which)\s+(?:year|century|decade|date|month|day)\b", re.I)
ASKS_COUNT_RE = re.compile(
    r"\bhow\s+(?:many|much|long|far|old|large|big|high)\b|\bwhat\s+(?:percentage|number|amount)\b", re.I
)
ASKS_WHERE_RE = re.compile(r"^\s*(?:\w+\s+)?where\b|\b(?:what|which)\s+(?:country|city|place|region)\b", re.I)
YEAR_RE = re.compile(r"\b(?:1[0-9]|20)\d\d\b|\b\d{1,2}(?:st|nd|rd|th)\s+centur|\bcentur(?:y|ies)\b", re.I)
NUMBER_RE = re.compile(
    r"(?<![\w-])\d|\b(?:hundreds?|thousands?|millions?|billions?|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|twenty|thirty|forty|fifty|dozens?|half|third|quarter)\b",
    re.I,
)
NAME_RE = re.compile(r"(?<!^)(?<![.?!:]\s)\b[A-Z][a-zA-Z'-]+")

# Named groups of features; a feature set is a list of groups. "product" adds qvec * sentence vector.
GROUPS: dict[str, tuple[str, ...]] = {
    "similarity": ("cos_best", "cos_max", "cos_gap", "dense_best", "dense_max"),
    "coverage": (
        "cover_sentence", "cover_passage", "cover_passage_plain", "cover_retrieved", "bigrams_passage", "novelty",
        "question_terms",
    ),
    "rare": ("missing_max", "missing_sum", "missing_retrieved_max", "rare_missing", "rare_missing_share",
             "rare_missing_sentence"),
    "order": ("order_sentence", "pairs_sentence", "pairs_passage", "missing_count", "missing_sentence_count"),
    "focus": ("cover_best_sentence", "cover_spread", "pairs_best", "cover_second"),
    "top": ("top_cover_sentence", "top_pairs", "top_missing", "top_rare_missing", "top_order"),
    "wh": ("wh_what", "wh_who", "wh_when", "wh_where", "wh_which", "wh_how", "wh_why", "wh_other"),
    "tells": ("tell_negation", "tell_extreme", "tell_order", "tell_also"),
    "type": ("asks_who", "asks_when", "asks_count", "who_unmet", "when_unmet", "count_unmet"),
    "negation": ("negation_question", "negation_sentence", "negation_mismatch"),
}
BASE = ("similarity", "coverage", "rare", "order")
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "+".join(groups): groups
    for groups in (
        ("similarity",),
        ("similarity", "coverage"),
        ("similarity", "coverage", "rare"),
        BASE,
        *((*BASE, extra) for extra in ("top", "focus", "type", "negation", "wh", "tells", "product")),
        (*BASE, "focus", "type", "negation", "wh", "tells"),
        ("similarity", "product"),
    )
}
DEFAULT_FEATURES = "similarity+coverage+rare+order"
DEFAULT_L2 = 1.0
DIM = 384


def _fold(text: str) -> str:
    """Without accents: "Hervé" and "Herve" are one name."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


@lru_cache(maxsize=65536)
def _terms(text: str) -> frozenset[str]:
    return frozenset(terms(_fold(text)))


@lru_cache(maxsize=65536)
def _sequence(text: str) -> tuple[str, ...]:
    return tuple(terms(_fold(text)))


def _coverage(rarity: dict[str, float], present: frozenset[str]) -> float:
    total = sum(rarity.values())
    return sum(w for t, w in rarity.items() if t in present) / total if total else 0.0


def _bigrams(seq: Sequence[str]) -> set[tuple[str, str]]:
    return {tuple(sorted(pair)) for pair in zip(seq, seq[1:])}


PAIR_WINDOW = 3  # terms apart that still count as next to each other


def _concordance(question: Sequence[str], text: Sequence[str]) -> float:
    """Of the pairs of question terms the text holds, the share it holds in the question's order."""
    first = {}
    for i, t in enumerate(text):
        first.setdefault(t, i)
    positions = [first[t] for t in dict.fromkeys(question) if t in first]
    pairs = [(a, b) for i, a in enumerate(positions) for b in positions[i + 1 :] if a != b]
    return sum(a < b for a, b in pairs) / len(pairs) if pairs else 1.0


def _pairs_held(question: Sequence[str], text: Sequence[str]) -> float:
    """Of the question's neighbouring term pairs, the share the text holds in order, at most a few terms apart."""
    wanted = [(a, b) for a, b in zip(question, question[1:]) if a != b]
    if not wanted:
        return 1.0
    where: dict[str, list[int]] = {}
    for i, t in enumerate(text):
        where.setdefault(t, []).append(i)
    held = sum(
        any(0 < j - i <= PAIR_WINDOW for i in where.get(a, ()) for j in where.get(b, ())) for a, b in wanted
    )
    return held / len(wanted)


SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?;])\s+")
WH_WORDS = ("what", "who", "when", "where", "which", "how", "why")
TELLS = {
    "tell_negation": re.compile(r"\b(?:not|never|no|none|without|n't)\b|n't\b", re.I),
    "tell_extreme": re.compile(r"\b(?:least|most|largest|smallest|biggest|highest|lowest|best|worst|only)\b", re.I),
    "tell_order": re.compile(r"\b(?:first|last|before|after|earliest|latest|previous|next|second)\b", re.I),
    "tell_also": re.compile(r"\b(?:also|other|another|besides|except|instead)\b", re.I),
}


def _wh(question: str) -> str:
    words = re.findall(r"[a-z]+", question.lower())
    for w in words[:3]:
        if w in WH_WORDS or w in ("whom", "whose"):
            return "who" if w in ("whom", "whose") else w
    return next((w for w in words if w in WH_WORDS), "other")


def _rare_words(question: str) -> frozenset[str]:
    return frozenset(t for w in RARE_RE.findall(question.strip()) for t in _terms(w))


def _new_names(text: str, asked: frozenset[str]) -> bool:
    return any(not (_terms(w) <= asked) for w in NAME_RE.findall(text))


class _View:
    """What the features of one candidate are computed from, each part computed once, when first needed."""

    def __init__(self, c: Candidate) -> None:
        self.c = c
        self.best = c.sentences[0]
        self.rarity: dict[str, float] = {}
        for t, w in c.rarity or ((t, 1.0) for t in _sequence(c.question)):
            key = _fold(t)
            self.rarity[key] = max(w, self.rarity.get(key, 0.0))
        self.asked = frozenset(self.rarity)
        self.question = _sequence(c.question)

    @cached_property
    def passage(self) -> frozenset[str]:
        return _terms(f"{self.best.section} {self.best.passage}")

    @cached_property
    def sentence(self) -> frozenset[str]:
        return _terms(self.best.placed)

    @cached_property
    def rare(self) -> frozenset[str]:
        return _rare_words(self.c.question)

    def missing(self, present: frozenset[str]) -> list[float]:
        return [w for t, w in self.rarity.items() if t not in present]


def _similarity(v: _View) -> list[float]:
    cosines = [float(np.dot(v.c.qvec, s.vector)) for s in v.c.sentences]
    dense = [s.dense for s in v.c.sentences]
    return [cosines[0], max(cosines), cosines[0] - (cosines[1] if len(cosines) > 1 else 0.0), dense[0], max(dense)]


def _coverage_features(v: _View) -> list[float]:
    retrieved = frozenset().union(*(_terms(f"{s.section} {s.passage}") for s in v.c.sentences))
    q_bigrams = _bigrams(v.question)
    return [
        _coverage(v.rarity, v.sentence),
        _coverage(v.rarity, v.passage),
        len(v.asked & v.passage) / len(v.asked) if v.asked else 0.0,
        _coverage(v.rarity, retrieved),
        len(q_bigrams & _bigrams(_sequence(v.best.passage))) / len(q_bigrams) if q_bigrams else 1.0,
        len(v.sentence - v.asked) / len(v.sentence) if v.sentence else 0.0,
        min(len(v.asked), 20) / 10,
    ]


def _rare(v: _View) -> list[float]:
    retrieved = frozenset().union(*(_terms(f"{s.section} {s.passage}") for s in v.c.sentences))
    missing = v.missing(v.passage)
    return [
        max(missing, default=0.0),
        sum(missing),
        max(v.missing(retrieved), default=0.0),
        float(len(v.rare - v.passage)),
        len(v.rare - v.passage) / len(v.rare) if v.rare else 0.0,
        len(v.rare - v.sentence) / len(v.rare) if v.rare else 0.0,
    ]


def _order(v: _View) -> list[float]:
    sentence = _sequence(v.best.placed)
    return [
        _concordance(v.question, sentence),
        _pairs_held(v.question, sentence),
        _pairs_held(v.question, _sequence(v.best.passage)),
        float(len(v.asked - v.passage)),
        float(len(v.asked - v.sentence)),
    ]


def _focus(v: _View) -> list[float]:
    parts = [_terms(p) for p in SENTENCE_SPLIT_RE.split(v.best.passage) if p.strip()] or [frozenset()]
    covers = sorted((_coverage(v.rarity, p) for p in parts), reverse=True)
    return [
        covers[0],
        _coverage(v.rarity, v.passage) - covers[0],
        max(_pairs_held(v.question, _sequence(s.placed)) for s in v.c.sentences),
        covers[1] if len(covers) > 1 else 0.0,
    ]


def _top(v: _View) -> list[float]:
    """The best of the top sentences on each count: the answer may be in the second."""
    per = []
    for s in v.c.sentences:
        terms_, seq = _terms(s.placed), _sequence(s.placed)
        per.append((
            _coverage(v.rarity, terms_), _pairs_held(v.question, seq), float(len(v.asked - terms_)),
            len(v.rare - terms_) / len(v.rare) if v.rare else 0.0, _concordance(v.question, seq),
        ))
    cover, pairs, missing, rare, order = zip(*per)
    return [max(cover), max(pairs), min(missing), min(rare), max(order)]


def _wh_features(v: _View) -> list[float]:
    wh = _wh(v.c.question)
    return [float(wh == w) for w in (*WH_WORDS, "other")]


def _tells(v: _View) -> list[float]:
    return [float(bool(rx.search(v.c.question))) for rx in TELLS.values()]


def _type(v: _View) -> list[float]:
    q, text = v.c.question, v.best.text
    who, when, count = (bool(rx.search(q)) for rx in (ASKS_WHO_RE, ASKS_WHEN_RE, ASKS_COUNT_RE))
    return [
        float(who), float(when), float(count),
        float(who and not _new_names(text, v.asked)),
        float(when and not YEAR_RE.search(text)),
        float(count and not NUMBER_RE.search(text)),
    ]


def _negation(v: _View) -> list[float]:
    q_neg, s_neg = bool(NEGATION_RE.search(v.c.question)), bool(NEGATION_RE.search(v.best.text))
    return [float(q_neg), float(s_neg), float(q_neg != s_neg)]


COMPUTE = {
    "similarity": _similarity, "coverage": _coverage_features, "rare": _rare, "order": _order, "focus": _focus,
    "top": _top, "wh": _wh_features, "tells": _tells, "type": _type, "negation": _negation,
}


def feature_matrix(cands: Sequence[Candidate], groups: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """One row of features per candidate, and the features' names."""
    hand = [g for g in groups if g != "product"]
    names = tuple(n for g in hand for n in GROUPS[g])
    rows = []
    for c in cands:
        if not c.sentences:  # nothing retrieved: every feature zero
            rows.append(np.zeros(len(names) + (DIM if "product" in groups else 0)))
            continue
        view = _View(c)
        row = [value for g in hand for value in COMPUTE[g](view)]
        if "product" in groups:
            row.extend(c.qvec * c.sentences[0].vector if c.sentences else np.zeros(DIM, dtype=np.float32))
        rows.append(row)
    width = len(names) + (DIM if "product" in groups else 0)
    if "product" in groups:
        names += tuple(f"product_{i}" for i in range(DIM))
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), width), names


# ---------------------------------------------------------------------------------------------- the model


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 30) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (the intercept is not penalised)."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + penalty * w
        hessian = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, grad)
        w -= step
        if float(np.max(np.abs(step))) < 1e-7:
            break
    return w[:-1], float(w[-1])


def threshold_at(probabilities: np.ndarray, answerable: np.ndarray, max_false: float = MAX_FALSE_ABSTENTION) -> float:
    """The highest threshold (declining below it) that loses at most `max_false` of the answerable questions."""
    kept = np.sort(np.asarray(probabilities)[np.asarray(answerable, dtype=bool)])
    if len(kept) == 0:
        return 0.0
    return float(kept[int(math.floor(max_false * len(kept)))])


class Verifier:
    """Whether the best candidate sentences answer the question: `probability`, `accepts`, `threshold`."""

    def __init__(
        self,
        groups: Sequence[str],
        mean: np.ndarray,
        scale: np.ndarray,
        coef: np.ndarray,
        bias: float,
        threshold: float,
        info: dict | None = None,
    ) -> None:
        self.groups = tuple(groups)
        self.mean, self.scale, self.coef = (np.asarray(a, dtype=np.float64) for a in (mean, scale, coef))
        self.bias = float(bias)
        self.threshold = float(threshold)
        self.info = dict(info or {})

    @classmethod
    def fit(
        cls, cands: Sequence[Candidate], answerable: Sequence[bool], groups: Sequence[str], l2: float = 1.0,
        threshold: float = 0.5, info: dict | None = None,
    ) -> Verifier:
        x, _ = feature_matrix(cands, groups)
        y = np.asarray(answerable, dtype=np.float64)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale < 1e-9] = 1.0
        coef, bias = fit_logistic((x - mean) / scale, y, l2)
        return cls(groups, mean, scale, coef, bias, threshold, info)

    def probability(self, cands: Sequence[Candidate]) -> np.ndarray:
        """For each candidate, the probability that its sentences answer its question."""
        if not cands:
            return np.zeros(0)
        x, _ = feature_matrix(cands, self.groups)
        z = ((x - self.mean) / self.scale) @ self.coef + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def accepts(self, candidate: Candidate) -> bool:
        """Whether to answer: the probability is at or above the threshold."""
        return bool(self.probability([candidate])[0] >= self.threshold)

    # ------------------------------------------------------------------ weights on disk

    def to_dict(self) -> dict:
        return {
            "format": "tutor-verifier/1",
            "groups": list(self.groups),
            "features": list(feature_matrix([], self.groups)[1]),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "bias": self.bias,
            "threshold": self.threshold,
            "info": self.info,
        }

    def save(self, path: str | Path) -> None:
        path = Path(path)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), separators=(",", ":")) + "\n", encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Verifier:
        """The verifier whose weights are at `path` (default: the committed tutor/answering/verifier.json)."""
        path = Path(path) if path else WEIGHTS_PATH
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            groups = tuple(data["groups"])
            unknown = [g for g in groups if g != "product" and g not in GROUPS]
            if unknown:
                raise ValueError(f"unknown feature groups {unknown}")
            width = len(feature_matrix([], groups)[1])
            arrays = [np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
            if any(a.shape != (width,) for a in arrays):
                raise ValueError(f"expected {width} values per array")
            return cls(groups, *arrays, float(data["bias"]), float(data["threshold"]), data.get("info"))
        except OSError as exc:
            raise TutorError(f"Cannot read the verifier weights {path}: {exc.strerror or exc}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise TutorError(f"{path} is not a verifier weights file ({exc}); train one with "
                             "bench/train_verifier.py.") from exc


# ---------------------------------------------------------------------------------------------- leave one out


@dataclass(frozen=True)
class Fold:
    held_out: str
    probabilities: np.ndarray  # for the held-out group's candidates, by the model trained without it
    threshold: float  # chosen on the training groups alone


def leave_one_group_out(
    cands: Sequence[Candidate], answerable: Sequence[bool], groups: Sequence[str], feature_groups: Sequence[str],
    l2: float = 1.0,
) -> dict[str, Fold]:
    """For each group (article): a verifier trained on the others scores it, at a threshold chosen on the
    others' own out-of-group probabilities (so no figure rests on what it was trained on)."""
    x, _ = feature_matrix(cands, feature_groups)
    y = np.asarray(answerable, dtype=np.float64)
    g = np.asarray(groups)
    names = list(dict.fromkeys(groups))
    out = {}
    for held in names:
        train = g != held
        inner = np.zeros(int(train.sum()))
        others = g[train]
        for inner_held in dict.fromkeys(others):
            fit_rows = train & (g != inner_held)
            inner[others == inner_held] = _predict(x[fit_rows], y[fit_rows], x[g == inner_held], l2)
        threshold = threshold_at(inner, y[train].astype(bool))
        out[held] = Fold(held, _predict(x[train], y[train], x[~train], l2), threshold)
    return out


def out_of_group(folds: dict[str, Fold], groups: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's held-out probability and its fold's threshold, in the candidates' order."""
    probabilities = np.zeros(len(groups))
    thresholds = np.zeros(len(groups))
    g = np.asarray(groups)
    for name, fold in folds.items():
        probabilities[g == name] = fold.probabilities
        thresholds[g == name] = fold.threshold
    return probabilities, thresholds


def _predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, l2: float) -> np.ndarray:
    mean, scale = x_train.mean(axis=0), x_train.std(axis=0)
    scale[scale < 1e-9] = 1.0
    coef, bias = fit_logistic((x_train - mean) / scale, y_train, l2)
    return 1.0 / (1.0 + np.exp(-np.clip(((x_test - mean) / scale) @ coef + bias, -50, 50)))
