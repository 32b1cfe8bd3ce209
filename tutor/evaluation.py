"""Score the tutor on a question set: retrieval, answers, citations, quotes and abstention.

A question file is JSON lines: {"id", "question", "answerable", "keywords", "evidence"}. `evidence` is
a verbatim span of the course text that answers the question ("" when the material does not).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tutor.answering.rank import ABSTAIN_THRESHOLD, ranked_support
from tutor.errors import TutorError
from tutor.retrieval import MODES, Retriever


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answerable: bool
    keywords: tuple[str, ...]
    evidence: str


def load_questions(path: Path) -> list[EvalQuestion]:
    out = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TutorError(f"Cannot read the question file {path}: {exc.strerror or exc}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                EvalQuestion(
                    id=str(row.get("id", n)),
                    question=row["question"],
                    answerable=bool(row.get("answerable", True)),
                    keywords=tuple(row.get("keywords", ())),
                    evidence=row.get("evidence", ""),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise TutorError(f"{path}, line {n}: not a question record ({exc}).") from exc
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _holds(text: str, evidence: str) -> bool:
    return bool(evidence) and _norm(evidence) in _norm(text)


class _EvidenceLocator:
    """Decides whether a passage holds a piece of evidence, by text or by its span in the source."""

    def __init__(self, tutor) -> None:
        from tutor.ingest import load_corpus

        documents, _ = load_corpus(tutor.corpus_dir)
        self.sources = {d.source: d.text for d in documents}

    def spans(self, evidence: str) -> list[tuple[str, int, int]]:
        out = []
        for source, text in self.sources.items():
            start = text.find(evidence)
            while start >= 0:
                out.append((source, start, start + len(evidence)))
                start = text.find(evidence, start + 1)
        return out

    def holds(self, chunk, evidence: str) -> bool:
        # The heading path is shown with every citation, so evidence in a heading counts as held.
        if _holds(f"{chunk.section}\n{chunk.text}", evidence):
            return True
        return any(s == chunk.source and chunk.start <= a and b <= chunk.end for s, a, b in self.spans(evidence))


def evaluate(tutor, questions: list[EvalQuestion], ks: tuple[int, ...] = (1, 3, 5)) -> dict:
    """The project's answer-quality figures for `questions` (see module docstring)."""
    locator = _EvidenceLocator(tutor)
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    report: dict = {"questions": len(questions), "answerable": len(answerable), "unanswerable": len(unanswerable)}
    report.update(retrieval_scores(tutor.retriever, answerable, locator, ks))

    answers = tutor.ask_many([q.question for q in questions], ids=[q.id for q in questions])
    by_id = {a.id: a for a in answers}
    chunks = {c.chunk_id: c for c in tutor.store.chunks}
    correct = cited = quoted = 0.0
    lengths = []
    false_abstain = 0
    failures = []
    for q in answerable:
        a = by_id[q.id]
        lengths.extend(len(c.text) for c in a.citations)
        if a.abstained:
            false_abstain += 1
            failures.append({"id": q.id, "why": "abstained"})
            continue
        found = sum(k.lower() in a.text.lower() for k in q.keywords) / max(len(q.keywords), 1)
        correct += found
        first = a.citations[0] if a.citations else None
        cite_ok = first is not None and locator.holds(chunks[first.chunk_id], q.evidence)
        cited += cite_ok
        quoted += first is not None and _holds(first.quote, q.evidence)
        if found < 1 or not cite_ok:
            failures.append({"id": q.id, "why": f"keywords {found:.2f}, citation {'ok' if cite_ok else 'wrong'}"})
    abstained_right = sum(by_id[q.id].abstained for q in unanswerable)
    abstained_total = abstained_right + false_abstain
    n = max(len(answerable), 1)
    report.update(
        {
            "answer_correctness": correct / n,
            "citation_correctness": cited / n,
            "quote_correctness": quoted / n,
            "mean_cited_passage_chars": float(np.mean(lengths)) if lengths else 0.0,
            "max_cited_passage_chars": max(lengths) if lengths else 0,
            "abstention_recall": abstained_right / max(len(unanswerable), 1),
            "abstention_precision": abstained_right / abstained_total if abstained_total else 1.0,
            "false_abstention_rate": false_abstain / n,
            "failures": failures + [{"id": q.id, "why": "answered"} for q in unanswerable if not by_id[q.id].abstained],
        }
    )
    return report


def retrieval_scores(retriever: Retriever, questions: list[EvalQuestion], locator, ks=(1, 3, 5)) -> dict:
    depth = max(max(ks), 10)
    hits = retriever.search([q.question for q in questions], depth)
    first_ranks = []
    for q, found in zip(questions, hits):
        rank = next(
            (r for r, h in enumerate(found, 1) if locator.holds(retriever.store.chunks[h.position], q.evidence)), None
        )
        first_ranks.append(rank)
    n = max(len(questions), 1)
    out = {f"recall@{k}": sum(r is not None and r <= k for r in first_ranks) / n for k in ks}
    out["mrr"] = sum(1.0 / r for r in first_ranks if r) / n
    return out


def compare_retrieval(tutor, questions: list[EvalQuestion]) -> dict[str, dict]:
    """Recall and MRR for each retrieval mode, on the same embeddings."""
    locator = _EvidenceLocator(tutor)
    answerable = [q for q in questions if q.answerable]
    out = {}
    for mode in MODES:
        retriever = Retriever(tutor.store, tutor.retriever.embedder, mode=mode)
        out[mode] = retrieval_scores(retriever, answerable, locator)
    return out


def calibrate(tutor, questions: list[EvalQuestion]) -> list[dict]:
    """For candidate abstention thresholds: unanswerable questions caught, answerable ones lost."""
    # Retrieved and ranked exactly as when answering, only not cut at the threshold.
    vectors, evidence = tutor._retrieve([q.question for q in questions], None)
    weights = tutor.retriever.bm25
    scores = []
    for q, v, ev in zip(questions, vectors, evidence):
        _, supported = ranked_support(q.question, v, ev, weights)
        scores.append((supported, q.answerable))
    pos = [s for s, a in scores if not a]
    neg = [s for s, a in scores if a]
    rows = []
    for threshold in sorted({round(s, 3) for s, _ in scores} | {ABSTAIN_THRESHOLD}):
        rows.append(
            {
                "threshold": threshold,
                "abstention_recall": sum(s < threshold for s in pos) / max(len(pos), 1),
                "false_abstention_rate": sum(s < threshold for s in neg) / max(len(neg), 1),
            }
        )
    return rows


def format_report(report: dict) -> str:
    lines = [f"{report['questions']} questions ({report['answerable']} answerable, {report['unanswerable']} not)"]
    for key, value in report.items():
        if key in ("questions", "answerable", "unanswerable", "failures"):
            continue
        lines.append(f"  {key:<26} {value:.3f}" if isinstance(value, float) else f"  {key:<26} {value}")
    return "\n".join(lines)
