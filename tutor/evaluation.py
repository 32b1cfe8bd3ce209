"""Score the tutor on a question set: retrieval, answers, citations, quotes, answer length and abstention.

Two kinds of set, told apart by their files:

- the project's sets, `eval/<set>/questions.jsonl`: {"id", "question", "answerable", "keywords", "evidence",
  optional "form"}. `evidence` is a verbatim span of the course text that answers the question ("" when the
  material does not); an answer is correct in proportion to the expected keywords it holds.
- SQuAD-style sets (a folder with `qa.jsonl` and `corpus/`, such as shared/bench/squad6): {"id", "q",
  "answerable", "answers", "context", "title"}, scored by that set's rule: a passage holds the answer when a
  gold answer, with up to 40 characters either side as found in the passage, is text of the gold `context`;
  an answer is correct when it does not abstain and holds a gold answer (both compared normalised).

A set folder with a `corpus/` of its own is scored on that course.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tutor.answering.rank import ABSTAIN_THRESHOLD, ranked_support
from tutor.errors import TutorError
from tutor.retrieval import MODES, Retriever

SQUAD_FILE = "qa.jsonl"
PROJECT_FILE = "questions.jsonl"
SQUAD_WINDOW = 40  # characters of the passage either side of a gold answer that must be its own paragraph's


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answerable: bool
    keywords: tuple[str, ...] = ()
    evidence: str = ""
    form: str | None = None
    answers: tuple[str, ...] = ()  # gold answer strings (SQuAD-style sets)
    context: str = ""  # the paragraph that holds them (SQuAD-style sets)
    title: str = ""  # the article the question is about (SQuAD-style sets)


@dataclass(frozen=True)
class QuestionSet:
    path: Path  # the questions file
    style: str  # "project" or "squad"
    questions: tuple[EvalQuestion, ...]
    corpus_dir: Path | None = None  # the set's own course folder, if it has one
    notes: tuple[str, ...] = field(default=())  # how the set was cut down (--limit, --articles)


# ---------------------------------------------------------------------------------------------- loading


def open_set(path: str | Path, *, limit: int | None = None, articles: Sequence[str] = ()) -> QuestionSet:
    """The question set at `path` (a questions file, or a set folder holding one), its style and its course.

    `articles` keeps the questions about those titles (SQuAD-style sets); `limit` keeps the first N."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if path.is_dir():
        found = [path / name for name in (SQUAD_FILE, PROJECT_FILE) if (path / name).is_file()]
        if not found:
            raise TutorError(f"{path} holds neither {SQUAD_FILE} nor {PROJECT_FILE}: give a question set.")
        path = found[0]
    elif not path.exists():
        raise TutorError(f"No question set at {path}: give a questions.jsonl file or a set folder.")
    rows = _read_rows(path)
    style = "squad" if rows and "q" in rows[0][1] and "question" not in rows[0][1] else "project"
    questions = [(_squad_question if style == "squad" else _project_question)(path, n, row) for n, row in rows]
    notes = []
    if articles:
        wanted = {a.strip().lower(): a.strip() for a in articles if a.strip()}
        titles = {q.title.lower() for q in questions}
        if unknown := sorted(name for key, name in wanted.items() if key not in titles):
            known = ", ".join(sorted({q.title for q in questions})) or "none: the set names no articles"
            raise TutorError(f"No questions about {', '.join(unknown)} in {path}; its articles: {known}.")
        questions = [q for q in questions if q.title.lower() in wanted]
        notes.append(f"articles: {', '.join(sorted({q.title for q in questions}))}")
    if limit is not None:
        if limit < 1:
            raise TutorError("--limit must be at least 1.")
        if limit < len(questions):
            notes.append(f"the first {limit} of {len(questions)} questions")
        questions = questions[:limit]
    corpus = folder / "corpus"
    return QuestionSet(path, style, tuple(questions), corpus if corpus.is_dir() else None, tuple(notes))


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """The questions of the set at `path` (either style)."""
    return list(open_set(path).questions)


def _read_rows(path: Path) -> list[tuple[int, dict]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TutorError(f"Cannot read the question file {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    rows = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise TutorError(f"{path}, line {n}: not a JSON line ({exc}).") from exc
        if not isinstance(row, dict):
            raise TutorError(f"{path}, line {n}: a question must be a JSON object, not {type(row).__name__}.")
        rows.append((n, row))
    if not rows:
        raise TutorError(f"{path} holds no questions: write one JSON object a line.")
    ids = [str(row.get("id", n)) for n, row in rows]
    if len(set(ids)) < len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise TutorError(f"{path}: the id {twice[0]} is used more than once; give each question its own id.")
    return rows


def _text(path: Path, n: int, row: dict, key: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TutorError(f"{path}, line {n}: {key!r} must be non-empty text.")
    return value


def _strings(path: Path, n: int, row: dict, key: str) -> tuple[str, ...]:
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TutorError(f"{path}, line {n}: {key!r} must be a list of strings.")
    return tuple(value)


def _answerable(path: Path, n: int, row: dict) -> bool:
    value = row.get("answerable", True)
    if not isinstance(value, bool):
        raise TutorError(f"{path}, line {n}: 'answerable' must be true or false.")
    return value


def _project_question(path: Path, n: int, row: dict) -> EvalQuestion:
    form = row.get("form")
    if form is not None and not isinstance(form, str):
        raise TutorError(f"{path}, line {n}: 'form' must be text.")
    evidence = row.get("evidence", "")
    if not isinstance(evidence, str):
        raise TutorError(f"{path}, line {n}: 'evidence' must be text.")
    return EvalQuestion(
        id=str(row.get("id", n)),
        question=_text(path, n, row, "question"),
        answerable=_answerable(path, n, row),
        keywords=_strings(path, n, row, "keywords"),
        evidence=evidence,
        form=form,
    )


def _squad_question(path: Path, n: int, row: dict) -> EvalQuestion:
    answerable = _answerable(path, n, row)
    answers = _strings(path, n, row, "answers")
    if answerable and not answers:
        raise TutorError(f"{path}, line {n}: an answerable question needs its gold 'answers'.")
    return EvalQuestion(
        id=str(row.get("id", n)),
        question=_text(path, n, row, "q"),
        answerable=answerable,
        answers=answers,
        context=_text(path, n, row, "context") if answerable else str(row.get("context") or ""),
        title=str(row.get("title") or ""),
        form=row.get("form") if isinstance(row.get("form"), str) else None,
    )


# ---------------------------------------------------------------------------------------------- matching


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _holds(text: str, evidence: str) -> bool:
    return bool(evidence) and _norm(evidence) in _norm(text)


STRAIGHT = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    }
)


def squad_norm(text: str) -> str:
    """Lower-cased, runs of whitespace as one space, curly quotes and dashes as straight ones."""
    return re.sub(r"\s+", " ", text.translate(STRAIGHT)).strip().lower()


def squad_holds(passage: str, answers: Sequence[str], context: str) -> bool:
    """Whether `passage` holds a gold answer within its own paragraph: the answer plus up to 40
    characters either side, as found in the passage, is text of the gold `context`."""
    text, gold = squad_norm(passage), squad_norm(context)
    for answer in {squad_norm(a) for a in answers} - {""}:
        at = text.find(answer)
        while at >= 0:
            if text[max(0, at - SQUAD_WINDOW) : at + len(answer) + SQUAD_WINDOW] in gold:
                return True
            at = text.find(answer, at + 1)
    return False


def squad_correct(answer, answers: Sequence[str]) -> bool:
    """Not an abstention, and a gold answer occurs in the answer's text."""
    text = squad_norm(answer.text)
    return not answer.abstained and any(a and a in text for a in map(squad_norm, answers))


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


# ---------------------------------------------------------------------------------------------- scoring


def evaluate(
    tutor, questions: Sequence[EvalQuestion], ks: tuple[int, ...] = (1, 3, 5), answers: dict | None = None
) -> dict:
    """The project's answer-quality figures for `questions` (see module docstring); `answers` (by id), when
    the questions were already answered."""
    questions = list(questions)
    if not questions:
        raise TutorError("The question set is empty.")
    locator = _EvidenceLocator(tutor)
    answerable = [q for q in questions if q.answerable]
    report: dict = _counts(questions)
    report.update(retrieval_scores(tutor.retriever, answerable, locator, ks))

    answers = answers or answer_all(tutor, questions)
    chunks = {c.chunk_id: c for c in tutor.store.chunks}
    cited = quoted = 0.0
    lengths = []
    failures = []
    for q in answerable:
        a = answers[q.id]
        lengths.extend(len(c.text) for c in a.citations)
        if a.abstained:
            failures.append({"id": q.id, "why": "abstained"})
            continue
        found = keyword_share(q, a)
        first = a.citations[0] if a.citations else None
        cite_ok = first is not None and locator.holds(chunks[first.chunk_id], q.evidence)
        cited += cite_ok
        quoted += first is not None and _holds(first.quote, q.evidence)
        if found < 1 or not cite_ok:
            failures.append({"id": q.id, "why": f"keywords {found:.2f}, citation {'ok' if cite_ok else 'wrong'}"})
    n = max(len(answerable), 1)
    report.update(answer_scores(questions, answers, keyword_share))
    report.update(
        {
            "citation_correctness": cited / n,
            "quote_correctness": quoted / n,
            "mean_cited_passage_chars": float(np.mean(lengths)) if lengths else 0.0,
            "max_cited_passage_chars": max(lengths) if lengths else 0,
            "failures": failures + [{"id": q.id, "why": "answered"} for q in questions
                                    if not q.answerable and not answers[q.id].abstained],
        }
    )
    by_form = form_breakdown(questions, answers, keyword_share)
    if by_form:
        report["by_form"] = by_form
    return report


def evaluate_squad(
    tutor, questions: Sequence[EvalQuestion], ks: tuple[int, ...] = (1, 3), answers: dict | None = None
) -> dict:
    """Figures for a SQuAD-style set, by its rule (see module docstring)."""
    questions = list(questions)
    if not questions:
        raise TutorError("The question set is empty.")
    answerable = [q for q in questions if q.answerable]
    report: dict = _counts(questions)
    hits = tutor.retriever.search([q.question for q in answerable], max(ks)) if answerable else []
    first = []
    for q, found in zip(answerable, hits):
        texts = [tutor.store.chunks[h.position].text for h in found]
        first.append(next((r for r, t in enumerate(texts, 1) if squad_holds(t, q.answers, q.context)), None))
    for k in ks:
        report[f"recall@{k}"] = sum(r is not None and r <= k for r in first) / max(len(answerable), 1)
    answers = answers or answer_all(tutor, questions)
    report.update(answer_scores(questions, answers, squad_score))
    by_form = form_breakdown(questions, answers, squad_score)
    if by_form:
        report["by_form"] = by_form
    return report


def keyword_share(q: EvalQuestion, answer) -> float:
    """The share of the expected keywords the answer holds (0 for an abstention)."""
    if answer.abstained:
        return 0.0
    return sum(k.lower() in answer.text.lower() for k in q.keywords) / max(len(q.keywords), 1)


def _counts(questions: Sequence[EvalQuestion]) -> dict:
    answerable = sum(q.answerable for q in questions)
    return {"questions": len(questions), "answerable": answerable, "unanswerable": len(questions) - answerable}


def squad_score(q: EvalQuestion, answer) -> float:
    return float(squad_correct(answer, q.answers))


def answer_all(tutor, questions: Sequence[EvalQuestion]) -> dict:
    """The tutor's answer to each question, by id (one batched pass)."""
    answers = tutor.ask_many([q.question for q in questions], ids=[q.id for q in questions])
    return {a.id: a for a in answers}


Scorer = Callable[[EvalQuestion, object], float]


def answer_scores(questions: Sequence[EvalQuestion], answers: dict, correct: Scorer) -> dict:
    """Correctness over the answerable questions, how long the answers given to them are (characters of
    answer text), and abstention on both kinds."""
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    given = [answers[q.id] for q in answerable if not answers[q.id].abstained]
    lengths = [len(a.text) for a in given]
    declined = sum(answers[q.id].abstained for q in unanswerable)
    lost = len(answerable) - len(given)
    return {
        "answer_correctness": sum(correct(q, answers[q.id]) for q in answerable) / max(len(answerable), 1),
        "mean_answer_chars": float(np.mean(lengths)) if lengths else 0.0,
        "p90_answer_chars": float(np.percentile(lengths, 90)) if lengths else 0.0,
        "abstention_recall": declined / max(len(unanswerable), 1),
        "abstention_precision": declined / (declined + lost) if declined + lost else 1.0,
        "false_abstention_rate": lost / max(len(answerable), 1),
    }


def form_breakdown(questions: Sequence[EvalQuestion], answers: dict, correct: Scorer) -> dict[str, dict]:
    """Per question form (when the set gives one): how many, answer correctness and abstention, and how
    often the tutor read the question as that form."""
    forms = sorted({q.form for q in questions if q.form})
    out = {}
    for form in forms:
        group = [q for q in questions if q.form == form]
        scores = answer_scores(group, answers, correct)
        read = [answers[q.id].form for q in group]
        out[form] = {
            "n": len(group),
            "answerable": sum(q.answerable for q in group),
            "answer_correctness": scores["answer_correctness"],
            "mean_answer_chars": scores["mean_answer_chars"],
            "abstention_recall": scores["abstention_recall"],
            "false_abstention_rate": scores["false_abstention_rate"],
            "read_as_form": sum(r == form for r in read) / len(group) if any(read) else None,
        }
    return out


def retrieval_scores(retriever: Retriever, questions: list[EvalQuestion], locator, ks=(1, 3, 5)) -> dict:
    depth = max(max(ks), 10)
    hits = retriever.search([q.question for q in questions], depth) if questions else []
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


# ---------------------------------------------------------------------------------------------- abstention


def trade_off(scores: Sequence[float], answerable: Sequence[bool], thresholds: Sequence[float]) -> list[dict]:
    """For each threshold (declining below it): the share of unanswerable questions declined, and of
    answerable ones lost."""
    scores = np.asarray(scores, dtype=float)
    answerable = np.asarray(answerable, dtype=bool)
    pos, neg = scores[~answerable], scores[answerable]
    return [
        {
            "threshold": float(t),
            "abstention_recall": float(np.mean(pos < t)) if len(pos) else 0.0,
            "false_abstention_rate": float(np.mean(neg < t)) if len(neg) else 0.0,
        }
        for t in thresholds
    ]


def calibrate(tutor, questions: list[EvalQuestion]) -> list[dict]:
    """The rule's trade-off: for candidate support thresholds, unanswerable questions caught, answerable lost."""
    # Retrieved and ranked exactly as when answering, only not cut at the threshold.
    vectors, evidence = tutor._retrieve([q.question for q in questions], None)
    weights = tutor.retriever.bm25
    scores = [ranked_support(q.question, v, ev, weights)[1] for q, v, ev in zip(questions, vectors, evidence)]
    thresholds = {round(s, 3) for s in scores}
    if len(thresholds) > 40:  # a large set: quantiles of its support, not every value
        thresholds = {round(float(t), 3) for t in np.quantile(scores, np.linspace(0, 1, 21))}
    thresholds = sorted(thresholds | {ABSTAIN_THRESHOLD})
    return trade_off(scores, [q.answerable for q in questions], thresholds)


CURVE_THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.05, 1.0, 0.05))


@dataclass(frozen=True)
class VerifierScores:
    """The learned verifier's probability that each question is answerable, and the threshold each is judged at."""

    probabilities: np.ndarray
    thresholds: np.ndarray
    how: str  # which weights scored the set, and whether any of it was trained on


def verifier_scores(tutor, qset: QuestionSet, verifier=None) -> VerifierScores:
    """The verifier's view of every question of `qset`. A SQuAD-style set of several articles is scored
    leave one article out (each article by a verifier trained on the others, at a threshold chosen on
    them), so no figure rests on what was trained on; any other set by the given (default: committed)
    weights."""
    from tutor.answering.verify import DEFAULT_L2, Verifier, candidates, leave_one_group_out, out_of_group

    verifier = verifier or Verifier.load()
    questions = list(qset.questions)
    full = list(open_set(qset.path).questions) if qset.style == "squad" else questions
    titles = [q.title for q in full]
    if qset.style == "squad" and len(set(titles)) > 1:
        cands = candidates(tutor, [q.question for q in full])
        answerable = np.array([q.answerable for q in full])
        folds = leave_one_group_out(cands, answerable, titles, verifier.groups, verifier.info.get("l2", DEFAULT_L2))
        probabilities, thresholds = out_of_group(folds, titles)
        at = {q.id: i for i, q in enumerate(full)}
        rows = [at[q.id] for q in questions]
        how = (f"leave one article out: each of the {len(folds)} articles scored by a verifier "
               f"({'+'.join(verifier.groups)}) trained on the others, at a threshold chosen on them")
        return VerifierScores(probabilities[rows], thresholds[rows], how)
    probabilities = verifier.probability(candidates(tutor, [q.question for q in questions]))
    trained = verifier.info.get("trained_on", "another set")
    return VerifierScores(probabilities, np.full(len(questions), verifier.threshold),
                          f"the given weights, trained on {trained}; threshold {verifier.threshold:.3f}")


def verifier_report(
    questions: Sequence[EvalQuestion], answers: dict, scores: VerifierScores, correct: Scorer, curve: bool = False
) -> dict:
    """Abstention by the verifier alone, and by the tutor's own rule and the verifier together (declining
    when either does), with the answer correctness that leaves."""
    answerable = np.array([q.answerable for q in questions])
    declined = scores.probabilities < scores.thresholds
    abstained = np.array([answers[q.id].abstained for q in questions])
    either = declined | abstained
    right = np.array([q.answerable and correct(q, answers[q.id]) for q in questions], dtype=float)

    def rates(mask: np.ndarray) -> dict:
        return {
            "abstention_recall": float(mask[~answerable].mean()) if (~answerable).any() else 0.0,
            "false_abstention_rate": float(mask[answerable].mean()) if answerable.any() else 0.0,
        }

    report = {
        "how": scores.how,
        "threshold": float(np.mean(scores.thresholds)) if len(scores.thresholds) else 0.0,
        "alone": rates(declined),
        "with_rule": {
            **rates(either),
            "answer_correctness": float((right * ~either)[answerable].mean()) if answerable.any() else 0.0,
        },
    }
    if curve:
        report["curve"] = trade_off(scores.probabilities, answerable, CURVE_THRESHOLDS)
    return report


# ---------------------------------------------------------------------------------------------- printing

SKIP = ("questions", "answerable", "unanswerable", "failures", "by_form", "verifier")


def format_verifier(report: dict) -> str:
    alone, both = report["alone"], report["with_rule"]
    lines = [
        f"learned verifier ({report['how']}):",
        f"  alone, at threshold {report['threshold']:.3f}: unanswerable declined {alone['abstention_recall']:.3f},"
        f" answerable lost {alone['false_abstention_rate']:.3f}",
        f"  with the tutor's own rule (declining when either does): unanswerable declined"
        f" {both['abstention_recall']:.3f}, answerable lost {both['false_abstention_rate']:.3f},"
        f" answer correctness {both['answer_correctness']:.3f}",
    ]
    if report.get("curve"):
        lines.append("  verifier threshold → unanswerable declined, answerable lost:")
        lines.extend(
            f"    {r['threshold']:.2f}  {r['abstention_recall']:.3f}  {r['false_abstention_rate']:.3f}"
            for r in report["curve"]
        )
    return "\n".join(lines)


def format_report(report: dict) -> str:
    lines = [f"{report['questions']} questions ({report['answerable']} answerable, {report['unanswerable']} not)"]
    for key, value in report.items():
        if key in SKIP:
            continue
        lines.append(f"  {key:<26} {value:.3f}" if isinstance(value, float) else f"  {key:<26} {value}")
    if report.get("by_form"):
        lines.append("by question form:")
        lines.append(
            f"  {'form':<13} {'n':>4} {'correct':>8} {'chars':>6} {'abstain':>8} {'false abst.':>11} {'read as':>8}"
        )
        for form, row in report["by_form"].items():
            read = "—" if row["read_as_form"] is None else f"{row['read_as_form']:.2f}"
            lines.append(
                f"  {form:<13} {row['n']:>4} {row['answer_correctness']:>8.3f} {row['mean_answer_chars']:>6.0f}"
                f" {row['abstention_recall']:>8.3f} {row['false_abstention_rate']:>11.3f} {read:>8}"
            )
    return "\n".join(lines)
