"""Find the passages for a question: dense (FAISS) and lexical (BM25) search, fused.

A passage's dense score is the better of its own cosine and that of its closest unit (sentence, list
item, table cell); the hybrid score adds BM25, scaled to the best passage, with weight LEXICAL_WEIGHT.
A passage that holds the kind of answer asked for (a year, a number, a duration) gets TYPE_BONUS.
`tutor eval` prints recall for each mode on the project's question set: hybrid is the default because
it wins there, and this weighted sum beat reciprocal-rank fusion on it when the fusion was chosen.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from tutor import vectorindex
from tutor.answering.question import Place, answer_type, has_answer_type, named_place
from tutor.chunking import ROW_SEP
from tutor.errors import TutorError
from tutor.store import Store, passage_text
from tutor.terms import terms

MODES = ("hybrid", "dense", "bm25")
# Chosen on eleven question sets at once (questions, heldout ... heldout10; 284 answerable): the top
# three passages hold the evidence for 275 at 0.2, 274 at 0.25, 272 at 0.1 and at 0.3, 269 at 0.45.
# With Snowball stems: 274 at 0.2, 275 at 0.25, 274 at 0.3, 272 at 0.15 - too close to move it.
LEXICAL_WEIGHT = 0.2
# Added to a passage that holds the kind of answer the question asks for (a year for "when", a
# number for "how many", a duration for "how long"): the usual answer-type filter of QA systems,
# kept small, as the question's words still decide.
TYPE_BONUS = 0.05
# Added for passages under a heading the question names as the place to look ("In the key takeaways, ...").
PLACE_WEIGHT = 0.05


class BM25:
    """Okapi BM25 over a fixed list of texts, held as a sparse term × passage matrix (CSR): memory grows
    with the text, not with vocabulary × passages."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        docs = [Counter(terms(t)) for t in texts]
        self.n = len(docs)
        lengths = np.array([sum(d.values()) for d in docs], dtype=np.float32)
        avg = float(lengths.mean()) if self.n else 1.0
        df = Counter(term for d in docs for term in d)
        self.idf = {t: math.log(1 + (self.n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.df = dict(df)  # how many passages use each term
        self.max_idf = math.log(1 + (self.n + 0.5) / 0.5)
        self._folded: set[str] | None = None  # the vocabulary without accents or digit groups, made on first use
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        self.rows = {t: r for r, t in enumerate(df)}  # term → its row of the matrix
        cells = [(self.rows[t], i, self.idf[t] * tf * (k1 + 1) / (tf + norm[i])) for i, d in enumerate(docs)
                 for t, tf in d.items()]
        rows, cols, values = zip(*cells) if cells else ((), (), ())
        self.matrix = csr_matrix((np.array(values, dtype=np.float32), (rows, cols)), shape=(len(self.rows), self.n))

    def knows(self, term: str) -> bool:
        """Whether the corpus uses the (stemmed) term, or one spelled nearly like it: accents aside
        ("Schrodinger"), digit groups aside ("10000"), or one slip of the keyboard ("Counil")."""
        if self.uses(term):
            return True
        folded = _fold(term)
        return len(folded) >= 4 and bool(difflib.get_close_matches(folded, self._folded, n=1, cutoff=NEAR_SPELLING))

    def uses(self, term: str) -> bool:
        """Whether the corpus uses the (stemmed) term as written, accents and digit groups aside."""
        if term in self.idf:
            return True
        if self._folded is None:
            self._folded = {_fold(t) for t in self.idf}
        return _fold(term) in self._folded

    def share(self, term: str) -> float:
        """The share of passages that use the (stemmed) term."""
        return self.df.get(term, 0) / max(self.n, 1)

    def weight(self, term: str) -> float:
        """How telling a (stemmed) term is: its IDF, or the highest IDF for a term the corpus never uses."""
        return self.idf.get(term, self.max_idf)

    def scores(self, query: str) -> np.ndarray:
        """Each passage's BM25 score for `query` (a repeated query term counts again, as it always has)."""
        out = np.zeros(self.n, dtype=np.float32)
        m = self.matrix
        for t in terms(query):
            r = self.rows.get(t)
            if r is not None:
                lo, hi = m.indptr[r], m.indptr[r + 1]
                out[m.indices[lo:hi]] += m.data[lo:hi]
        return out


NEAR_SPELLING = 0.8  # difflib ratio at which an unknown word is taken for a misspelt known one


def _fold(term: str) -> str:
    """A term without digit-group commas ("10,000" → "10000"); terms carry no accents already."""
    return term.replace(",", "")


@dataclass(frozen=True)
class Hit:
    position: int  # index into Store.chunks
    score: float  # the fused score used for ranking
    dense: float  # cosine similarity of question and passage


class Retriever:
    def __init__(self, store: Store, embedder, mode: str = "hybrid") -> None:
        if mode not in MODES:
            raise TutorError(f"Unknown retrieval mode {mode!r}; choose one of {', '.join(MODES)}.")
        self.store = store
        self.embedder = embedder
        self.mode = mode
        self.bm25 = BM25([passage_text(c) for c in store.chunks])
        self._typed: dict[str, np.ndarray] = {}  # answer type -> which passages hold one
        self._headings = [frozenset(terms(c.section)) for c in store.chunks]
        self._tables = {int(store.unit_chunk[i]) for i, u in enumerate(store.units) if ROW_SEP in u.text}
        self.unit_index = store.unit_index
        if self.unit_index is None:  # a Store made by hand: search its unit vectors exactly
            self.unit_index = vectorindex.make_index(store.unit_vectors, exact_below=len(store.unit_vectors) + 1)

    def embed(self, questions: list[str]) -> np.ndarray:
        return self.embedder.encode(questions, batch_size=64)

    def search(self, questions: list[str], k: int, vectors: np.ndarray | None = None) -> list[list[Hit]]:
        """The top `k` passages for each question (one batched embedding call for all of them)."""
        if vectors is None:
            vectors = self.embed(questions)
        n = len(self.store.chunks)
        if n == 0:
            return [[] for _ in questions]
        dense_scores, dense_ids = vectorindex.search(self.store.chunk_index, vectors)
        unit_best = self._best_unit_scores(vectors)
        results = []
        for q, scores, ids, units in zip(questions, dense_scores, dense_ids, unit_best):
            dense = np.zeros(n, dtype=np.float32)
            found = ids >= 0
            dense[ids[found]] = scores[found]
            # A passage is as close as its closest sentence or list item: one table row or bullet
            # among many would otherwise be drowned out by its neighbours.
            results.append(self._rank(q, np.maximum(dense, units), k))
        return results

    def _best_unit_scores(self, vectors: np.ndarray) -> np.ndarray:
        """For each question, the best cosine of any unit in each passage (-1 for passages with no units,
        and, from an approximate index, for passages none of whose units is among the nearest found)."""
        n = len(self.store.chunks)
        out = np.full((len(vectors), n), -1.0, dtype=np.float32)
        if len(self.store.units) == 0:
            return out
        scores, ids = vectorindex.search(self.unit_index, vectors)
        for row, (s, i) in enumerate(zip(scores, ids)):
            found = i >= 0
            np.maximum.at(out[row], self.store.unit_chunk[i[found]], s[found])
        return out

    def _holding(self, kind: str) -> np.ndarray:
        if kind not in self._typed:
            self._typed[kind] = np.array(
                [has_answer_type(kind, c.text, "") for c in self.store.chunks], dtype=np.float32
            )
        return self._typed[kind]

    def _in(self, place: Place) -> np.ndarray:
        """Which passages are the place a question names."""
        return np.array([place.holds(h, i in self._tables) for i, h in enumerate(self._headings)], dtype=np.float32)

    def _rank(self, question: str, dense: np.ndarray, k: int) -> list[Hit]:
        if self.mode == "dense":
            fused = dense
        else:
            lexical = self.bm25.scores(question)
            if self.mode == "bm25":
                fused = lexical + 1e-6 * dense  # dense only breaks ties
            else:
                fused = dense + LEXICAL_WEIGHT * lexical / max(float(lexical.max()), 1e-9)
        place = named_place(question)
        if place.words and self.mode != "bm25":
            fused = fused + PLACE_WEIGHT * self._in(place)
        kind = answer_type(question)
        if kind is not None and kind != "name" and self.mode != "bm25":  # most passages have a capital
            fused = fused + TYPE_BONUS * self._holding(kind)
        order = np.argsort(-fused, kind="stable")[:k]
        return [Hit(int(i), float(fused[i]), float(dense[i])) for i in order]
