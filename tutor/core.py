"""The `Tutor` facade: the one pipeline that the CLI, the batch runner and the chat all call.

    tutor = Tutor.load()                       # project corpus/ and index/, built if needed
    answer = tutor.ask("What is model drift?")
    answers = tutor.ask_many(["...", "..."])   # one batched pass; same answers as ask()
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from tutor import config
from tutor.answering.extractive import smalltalk_reply
from tutor.answering.followup import contextualize
from tutor.answering.forms import is_smalltalk
from tutor.answering.question import parse as parse_question
from tutor.answering.rank import Draft, Evidence, supported_quotes
from tutor.answering.wording import CourseWords
from tutor.embeddings import load_embedder, resolve_device
from tutor.errors import TutorError
from tutor.ingest import course_title
from tutor.models import PATH_SEP, Answer
from tutor.repeats import brief
from tutor.retrieval import Retriever
from tutor.store import Store, open_index
from tutor.validation import (
    check_folder_argument,
    check_history,
    check_ids,
    check_optional_top_k,
    check_questions,
    check_top_k,
)

log = logging.getLogger(__name__)

# Terminal escape sequences (colours, cursor moves) come along when a question is pasted from a terminal;
# removing only the ESC would leave "[31m" in the question.
ANSI_ESCAPE_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
STREAM_WORDS = 3  # words per streamed step when the answerer cannot stream by itself


def clean_question(question: object) -> str:
    """The question with control characters and terminal escapes removed; TutorError if it is empty or too long."""
    if isinstance(question, bytes):
        question = question.decode("utf-8", errors="replace")
    if not isinstance(question, str):
        raise TutorError(f"A question must be text, not {type(question).__name__}.")
    question = ANSI_ESCAPE_RE.sub(" ", question)
    # Bytes that were not UTF-8 reach Python as lone surrogates (a command line, a file read with
    # surrogateescape); they cannot be encoded again (print, JSON, the tokenizer), so they become U+FFFD.
    text = "".join(
        "\ufffd" if "\ud800" <= ch <= "\udfff" else " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
        for ch in question
    )
    text = " ".join(text.split())
    if not text:
        raise TutorError("The question is empty: type a question about the course material.")
    if len(text) > config.MAX_QUESTION_CHARS:
        raise TutorError(
            f"The question is {len(text):,} characters long; the limit is {config.MAX_QUESTION_CHARS:,}. "
            "Ask it in fewer words."
        )
    return text


class Tutor:
    def __init__(
        self,
        store: Store,
        retriever: Retriever,
        answerer,
        *,
        corpus_dir: Path,
        index_dir: Path,
        device: str,
        top_k: int = config.DEFAULT_TOP_K,
        notes: Sequence[str] = (),
    ) -> None:
        self.store = store
        self.retriever = retriever
        self.answerer = answerer
        self.corpus_dir = corpus_dir
        self.index_dir = index_dir
        self.device = device
        self.top_k = top_k
        self.notes = tuple(notes)
        if hasattr(answerer, "weights"):
            answerer.weights = retriever.bm25
        # Overviews read whole sections: the extractive answerer (also inside a seq2seq one) gets the outline,
        # and the embedder, to rank the units for each part of a question by that part.
        for reader in (answerer, getattr(answerer, "_extractive", None)):
            if reader is not None and hasattr(reader, "outline"):
                reader.outline = self.outline
                reader.section_passages = self.section_passages
                reader.embed = retriever.embed
        # Words the course never uses are read as the course writes them ("WWII", "convolutoinal").
        self.words = CourseWords(lambda: (f"{c.section} {c.text}" for c in store.chunks), retriever.bm25.uses)
        # Units are stored in passage order: where each passage's units start and end.
        positions = np.arange(len(store.chunks) + 1)
        self._unit_bounds = np.searchsorted(store.unit_chunk, positions)

    @classmethod
    def load(
        cls,
        corpus_dir: str | Path | None = None,
        index_dir: str | Path | None = None,
        *,
        generator: str | None = None,
        device: str | None = None,
        top_k: int = config.DEFAULT_TOP_K,
        retrieval: str = "hybrid",
        embedding_engine: str = "auto",
        rebuild: bool = False,
        progress: bool = False,
        backend: str = "auto",
    ) -> Tutor:
        """Open (building or refreshing as needed) the index for a course folder and get ready to answer.

        `generator`: "auto" (a local seq2seq model if there is one, else extractive), "extractive",
        or a seq2seq checkpoint folder / model id. `device`: "auto", "cpu" or "cuda".
        """
        corpus_dir = check_folder_argument(corpus_dir, "corpus_dir")
        index_dir = check_folder_argument(index_dir, "index_dir")
        top_k = check_top_k(top_k)
        corpus = Path(corpus_dir) if corpus_dir else config.default_corpus_dir()
        index = Path(index_dir) if index_dir else config.default_index_dir()
        device = resolve_device(device or config.default_device())
        store = open_index(corpus, index, rebuild=rebuild, device=device, progress=progress)
        for warning in brief(store.warnings):
            log.warning("%s", warning)
        embedder = load_embedder(device, engine=embedding_engine)
        answerer, notes = resolve_answerer(generator or config.default_generator(), device, backend, index)
        return cls(
            store,
            Retriever(store, embedder, mode=retrieval),
            answerer,
            corpus_dir=corpus,
            index_dir=index,
            device=device,
            top_k=top_k,
            notes=notes,
        )

    # ------------------------------------------------------------------ asking

    @property
    def generator(self) -> str:
        return self.answerer.name

    @property
    def title(self) -> str:
        return course_title(self.corpus_dir, self.store.titles)

    def ask(self, question: str, history: Sequence | None = None, *, top_k: int | None = None) -> Answer:
        """Answer one question; `history` is the conversation so far (for follow-ups like "And in industry?")."""
        history, top_k = check_history(history), check_optional_top_k(top_k)
        text = clean_question(question)
        if is_smalltalk(text):
            return self._smalltalk(text)
        return self._answer_batch([text], [self._understood(text, history)], top_k)[0]

    def ask_many(
        self, questions: Sequence[str], *, top_k: int | None = None, ids: Sequence[str | None] | None = None
    ) -> list[Answer]:
        """Answer many questions in one batched pass. An invalid question gets an Answer with `error` set."""
        questions = check_questions(questions)
        ids, top_k = check_ids(ids, len(questions)), check_optional_top_k(top_k)
        results: list[Answer | None] = [None] * len(questions)
        valid: list[tuple[int, str]] = []
        for i, q in enumerate(questions):
            try:
                text = clean_question(q)
            except TutorError as exc:
                text = q if isinstance(q, str) else repr(q)
                results[i] = Answer(
                    question=text, text="", abstained=False, generator=self.generator, id=ids[i], error=str(exc)
                )
                continue
            if is_smalltalk(text):
                results[i] = _with_id(self._smalltalk(text), ids[i])
            else:
                valid.append((i, text))
        answers = self._answer_batch([q for _, q in valid], [self._understood(q) for _, q in valid], top_k)
        for (i, _), answer in zip(valid, answers):
            results[i] = answer if ids[i] is None else _with_id(answer, ids[i])
        return [r for r in results if r is not None]

    def stream(
        self, question: str, history: Sequence | None = None, *, top_k: int | None = None
    ) -> Iterator[str | Answer]:
        """Yield the answer text as it grows (each item the whole text so far), then the final Answer."""
        history, top_k = check_history(history), check_optional_top_k(top_k)
        started = time.perf_counter()
        text = clean_question(question)
        if is_smalltalk(text):
            yield self._smalltalk(text)
            return
        query = self._understood(text, history)
        vectors, evidence = self._retrieve([query], top_k)
        streamer = getattr(self.answerer, "stream", None)
        draft = None
        if streamer is None:
            draft = self.answerer.answer(query, vectors[0], evidence[0])
            if not draft.abstained:
                words = draft.text.split(" ")
                for n in range(STREAM_WORDS, len(words), STREAM_WORDS):
                    yield " ".join(words[:n])
        else:
            for item in streamer(query, vectors[0], evidence[0]):
                if isinstance(item, Draft):
                    draft = item
                else:
                    yield item
        yield self._make_answer(text, query, draft, (time.perf_counter() - started) * 1000)

    def practice(self, n: int = 10, seed: int | None = None, section: str | None = None, kinds=None, seen=()):
        """`n` practice questions on the course with their answers and citations (see tutor.practice)."""
        from tutor.practice import practice

        return practice(self, n, seed=seed, section=section, kinds=kinds, seen=seen)

    def grade(self, item, student_answer: str):
        """Grade a student's answer to a practice item: verdict, score, feedback, model answer, citation."""
        from tutor.practice import grade

        return grade(self, item, student_answer)

    def covers(self, questions: Sequence[str]) -> list[bool]:
        """Whether the material supports an answer to each (valid) question: the abstention rule alone,
        without composing or generating an answer."""
        queries = [self._understood(clean_question(q)) for q in questions]
        if not queries:
            return []
        vectors, evidence = self._retrieve(queries, None)
        weights = getattr(self.answerer, "weights", None)
        return [bool(supported_quotes(q, v, ev, weights)) for q, v, ev in zip(queries, vectors, evidence)]

    def _understood(self, text: str, history: Sequence | None = None) -> str:
        """The question as it will be answered: in the course's own words (see `wording`), and rewritten
        to stand alone when it follows up on the conversation (see `followup`)."""
        text = self.words.rewrite(text)[0]
        return contextualize(text, history, self.retriever.embed) if history else text

    def _retrieve(self, queries: list[str], top_k: int | None) -> tuple[np.ndarray, list[list[Evidence]]]:
        """The passages for each query, and the vector its quotable units are ranked against.

        Passages are found with the whole question. Where the question takes something as given
        ("Given their small kitchens, what do home bakers focus on?"), the units are ranked against
        the normalised mean of the whole question and the part that asks, both embedded in one pass."""
        parsed = [parse_question(q) for q in queries]
        extra = [(i, parts.asked) for i, parts in enumerate(parsed) if parts.given or parts.contrast]
        vectors = self.retriever.embed(queries + [asked for _, asked in extra])
        hits = self.retriever.search(queries, top_k or self.top_k, vectors[: len(queries)])
        unit_query = vectors[: len(queries)].copy()
        for row, (i, _) in enumerate(extra, start=len(queries)):
            mean = unit_query[i] + vectors[row]
            unit_query[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        return unit_query, [self._evidence(h) for h in hits]

    def _make_answer(self, question: str, query: str, draft: Draft, latency_ms: float) -> Answer:
        return Answer(
            question=question,
            text=draft.text,
            abstained=draft.abstained,
            generator=self.generator,
            citations=draft.citations,
            latency_ms=latency_ms,
            form=draft.form,
            interpreted_as=query if query != question else None,
            also_retrieved=draft.also_retrieved,
            highlights=draft.highlights,
        )

    def _smalltalk(self, text: str) -> Answer:
        """A greeting or thanks gets a friendly word, not an answer from the course."""
        return Answer(question=text, text=smalltalk_reply(text), abstained=False, generator=self.generator,
                      form="smalltalk")

    # ------------------------------------------------------------------ the outline, for overviews

    def outline(self) -> list[str]:
        """Every heading path of the course, in reading order."""
        return list(dict.fromkeys(c.section for c in self.store.chunks if c.section))

    def section_passages(self, heading: str) -> list[Evidence]:
        """The passages under a heading path (its own and its subsections'), in reading order."""
        prefix = heading + PATH_SEP
        positions = [i for i, c in enumerate(self.store.chunks) if c.section == heading or c.section.startswith(prefix)]
        return self._evidence_at(positions)

    def _answer_batch(self, questions: list[str], queries: list[str], top_k: int | None) -> list[Answer]:
        if not questions:
            return []
        started = time.perf_counter()
        vectors, evidence = self._retrieve(queries, top_k)
        drafts = self._drafts(queries, vectors, evidence)
        per_question_ms = (time.perf_counter() - started) * 1000 / len(questions)
        return [self._make_answer(q, query, d, per_question_ms) for q, query, d in zip(questions, queries, drafts)]

    def _drafts(self, queries: list[str], vectors: np.ndarray, evidence: list[list[Evidence]]) -> list[Draft]:
        answer_many = getattr(self.answerer, "answer_many", None)
        if answer_many is not None:
            return answer_many(queries, vectors, evidence)
        return [self.answerer.answer(q, v, ev) for q, v, ev in zip(queries, vectors, evidence)]

    def _evidence(self, hits) -> list[Evidence]:
        return [self._passage(rank, hit.position, hit.score, hit.dense) for rank, hit in enumerate(hits, start=1)]

    def _evidence_at(self, positions: Sequence[int]) -> list[Evidence]:
        return [self._passage(rank, p, 0.0, 0.0) for rank, p in enumerate(positions, start=1)]

    def _passage(self, rank: int, position: int, score: float, dense: float) -> Evidence:
        lo, hi = self._unit_bounds[position], self._unit_bounds[position + 1]
        return Evidence(
            rank=rank,
            chunk=self.store.chunks[position],
            score=score,
            dense=dense,
            units=tuple(self.store.units[lo:hi]),
            unit_vectors=self.store.unit_vectors[lo:hi],
        )


def _with_id(answer: Answer, id_: str) -> Answer:
    from dataclasses import replace

    return replace(answer, id=id_)


def resolve_answerer(spec: str, device: str, backend: str, index_dir: Path):
    """The answerer for a --generator value, and notes that say once which one answers and why."""
    from tutor.answering.seq2seq import load_answerer

    return load_answerer(spec, device, backend, index_dir)
