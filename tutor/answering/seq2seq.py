"""Seq2seq answers (Flan-T5 and other encoder-decoder checkpoints), grounded in the retrieved passages.

The model reads the question and the numbered passages (best evidence first, cut to its input limit)
and writes an answer; the answer is then traced back to the passages' sentences by word overlap, and
[n] markers point at the citations that support it. An answer that cannot be traced is not shown as
fact: the tutor quotes the material instead and says so. Abstention is decided before generating,
by the rule the extractive answerer uses. Two engines generate the same greedy tokens: transformers
(CPU or CUDA) and CTranslate2 (a converted copy cached next to the index; int8 on CPU is the fast path).
Nothing here touches the network: checkpoints come from a folder or the local Hugging Face cache
(`checkpoints`), and the engines that run them are in `engines`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from tutor.answering.checkpoints import (
    Checkpoint,
    choose_backend,
    find_cached_flan_t5,
    hub_cache_dirs,
    resolve_checkpoint,
)
from tutor.answering.compose import Piece, also_retrieved, assemble, highlights
from tutor.answering.engines import MAX_NEW_TOKENS, CTranslate2Engine, TransformersEngine, load_tokenizer
from tutor.answering.extractive import ExtractiveAnswerer
from tutor.answering.rank import Draft, Evidence, Quote, rank_quotes
from tutor.errors import TutorError
from tutor.models import PATH_SEP, Citation
from tutor.terms import terms

log = logging.getLogger(__name__)

DEFAULT_INPUT_TOKENS = 512  # T5's training length, used when the tokenizer does not say
BATCH_SIZE = 8
MIN_PASSAGE_TOKENS = 24  # a passage cut shorter than this is dropped rather than kept as a fragment
PROMPT_HEAD = "Answer the question using only the numbered passages.\n\n"
# What each form of question asks of the model (the same forms the extractive answer is shaped by).
FORM_HINTS = {
    "definition": "Say what it is, in one sentence.",
    "factoid": "Answer briefly, with the fact asked for.",
    "list": "List every item the passages give.",
    "procedure": "Give the steps in order.",
    "comparison": "Say how each side compared differs.",
    "explanation": "Explain why or how, in two or three sentences.",
    "multipart": "Answer each part of the question.",
    "overview": "Summarise the main points.",
}
TRACE_THRESHOLD = 0.6  # share of the answer's content words that the passages must contain
MAX_SUPPORTING = 3  # passages cited as support for one answer
UNTRACED_NOTE = "(The generated answer could not be traced to the material; quoting it instead.)"
MARKER_RE = re.compile(r"\s*\[\d+\]")
MARKER_NUMBER_RE = re.compile(r"\[(\d+)\]")
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+")


# --------------------------------------------------------------------------- the answerer


@dataclass(frozen=True)
class Prompt:
    ids: list[int]
    passages: tuple[Evidence, ...]  # what the model read, best first
    cut: bool  # True when a passage was shortened or dropped to fit


class Seq2SeqAnswerer:
    """Answers written by a seq2seq model from the retrieved passages, traced back to them for citations.

        answerer = Seq2SeqAnswerer.load(resolve_checkpoint("google/flan-t5-base"), device="cpu")
        draft = answerer.answer(question, qvec, evidence)
    """

    def __init__(self, checkpoint: Checkpoint, tokenizer, engine, *, max_input_tokens: int | None = None,
                 max_new_tokens: int = MAX_NEW_TOKENS) -> None:
        self.checkpoint = checkpoint
        self.tokenizer = tokenizer
        self.engine = engine
        self.name = f"seq2seq:{checkpoint.name}"
        self.max_input_tokens = max_input_tokens or input_limit(tokenizer)
        self.max_new_tokens = max_new_tokens
        self._extractive = ExtractiveAnswerer()

    @property
    def weights(self):
        """Corpus term weights (the Tutor hands them over): abstention and quotes match extractive mode."""
        return self._extractive.weights

    @weights.setter
    def weights(self, value) -> None:
        self._extractive.weights = value

    @classmethod
    def load(cls, checkpoint: Checkpoint, *, device: str = "cpu", backend: str = "auto",
             index_dir: Path | None = None, compute_type: str | None = None, **kwargs) -> Seq2SeqAnswerer:
        """Load tokenizer and model through AutoTokenizer / AutoModelForSeq2SeqLM (or their CTranslate2 copy)."""
        backend = choose_backend(backend, device)
        tokenizer = load_tokenizer(checkpoint.path)
        if backend == "ctranslate2":
            if index_dir is None:
                raise TutorError("The CTranslate2 backend needs an index folder to keep its converted model in.")
            engine = CTranslate2Engine(checkpoint.path, tokenizer, device, index_dir, compute_type)
        else:
            engine = TransformersEngine(checkpoint.path, tokenizer, device)
        return cls(checkpoint, tokenizer, engine, **kwargs)

    @property
    def description(self) -> str:
        engine = "CTranslate2" if self.engine.backend == "ctranslate2" else "transformers"
        return f"{engine}, {self.engine.precision}"

    # ----------------------------------------------------------------- prompt

    def _encode(self, text: str, limit: int | None = None) -> list[int]:
        if limit is None:
            return list(self.tokenizer.encode(text, add_special_tokens=False))
        return list(self.tokenizer.encode(text, add_special_tokens=False, truncation=True, max_length=limit))

    def build_prompt(self, question: str, evidence: list[Evidence], quotes: list[Quote] | None = None,
                     form: str | None = None) -> Prompt:
        """The question and the numbered passages, best evidence first, cut to the model's input limit.

        Passages are ordered by their best quote (the rule that picks the extractive answer; retrieval rank
        without `quotes`); when they do not all fit, the lowest-ranked go first, and the last one that fits
        in part is shortened.
        """
        best: dict[int, float] = {}
        for q in quotes or []:
            best.setdefault(id(q.evidence), q.score)
        ordered = sorted(evidence, key=lambda ev: (-best.get(id(ev), float("-inf")), ev.rank))
        head, suffix = self._encode(PROMPT_HEAD), self._encode("\nAnswer:")
        eos = [self.tokenizer.eos_token_id] if self.tokenizer.eos_token_id is not None else []
        # A very long question keeps its start, and at most half the input: the passages need room too.
        room = min(self.max_input_tokens // 2, self.max_input_tokens - len(head) - len(suffix) - len(eos))
        hint = f" {FORM_HINTS[form]}" if form in FORM_HINTS else ""
        tail = self._encode(f"Question: {question}{hint}", max(room, 0)) + suffix
        budget = self.max_input_tokens - len(head) - len(tail) - len(eos)
        body: list[int] = []
        kept: list[Evidence] = []
        cut = False
        for ev in ordered:
            heading = ev.chunk.section.split(PATH_SEP)[-1] if ev.chunk.section else ""
            label = f"[{len(kept) + 1}] " + (f"({heading}) " if heading else "")
            ids = self._encode(f"{label}{ev.chunk.text}\n\n")
            room = budget - len(body)
            if len(ids) > room:
                cut = True
                if room >= MIN_PASSAGE_TOKENS:
                    body += ids[:room]
                    kept.append(ev)
                break
            body += ids
            kept.append(ev)
        return Prompt(head + body + tail + eos, tuple(kept), cut)

    # ----------------------------------------------------------------- answering

    def answer(self, question: str, qvec: np.ndarray, evidence: list[Evidence]) -> Draft:
        return self.answer_many([question], [qvec], [evidence])[0]

    def answer_many(self, questions: Sequence[str], qvecs, evidences: Sequence[list[Evidence]]) -> list[Draft]:
        """Drafts for many questions; the model runs in padded batches of similar-length prompts.

        The extractive answer comes first: it decides abstention (the rule both answerers share), its
        passages lead the prompt, and it is what the tutor shows when the model's answer cannot be
        traced to the material."""
        drafts: list[Draft | None] = [None] * len(questions)
        pending: list[tuple[int, Draft, Prompt]] = []
        for i, (question, qvec, evidence) in enumerate(zip(questions, qvecs, evidences)):
            quoted = self._extractive.answer(question, qvec, evidence)
            if quoted.abstained:
                drafts[i] = quoted
            else:
                pending.append((i, quoted, self._prompt(question, qvec, evidence, quoted)))
        texts = self.generate([p.ids for _, _, p in pending]) if pending else []
        for (i, quoted, prompt), text in zip(pending, texts):
            drafts[i] = self.finish(questions[i], evidences[i], quoted, prompt, text)
        return [d for d in drafts if d is not None]

    def _prompt(self, question: str, qvec, evidence: list[Evidence], quoted: Draft) -> Prompt:
        """The prompt: the passages the extractive answer quotes first, then the rest by their best unit."""
        cited = {c.chunk_id: c.rank for c in quoted.citations}
        first = sorted((ev for ev in evidence if ev.chunk.chunk_id in cited), key=lambda ev: cited[ev.chunk.chunk_id])
        ranked = [Quote(ev, 0, float(len(first) - n) + 1e6) for n, ev in enumerate(first)]
        ranked += rank_quotes(question, qvec, evidence, self.weights)
        return self.build_prompt(question, evidence, ranked, quoted.form)

    def generate(self, prompts: Sequence[list[int]]) -> list[str]:
        """Greedy answers for prompt ids, batched by length; the same as generating them one by one."""
        out: list[str] = [""] * len(prompts)
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            for i, ids in zip(batch, self.engine.generate([prompts[i] for i in batch], self.max_new_tokens)):
                out[i] = self._decode(ids)
        return out

    def _decode(self, ids: list[int]) -> str:
        return " ".join(self.tokenizer.decode(ids, skip_special_tokens=True).split())

    def stream(self, question: str, qvec: np.ndarray, evidence: list[Evidence]) -> Iterator[str | Draft]:
        """The generated text as it grows, then the final Draft (with markers, or the quoted fallback)."""
        quoted = self._extractive.answer(question, qvec, evidence)
        if quoted.abstained:
            yield quoted
            return
        prompt = self._prompt(question, qvec, evidence, quoted)
        text, shown = "", ""
        for ids in self.engine.stream(prompt.ids, self.max_new_tokens):
            text = self._decode(ids)
            if text and text != shown:
                shown = text
                yield text
        yield self.finish(question, evidence, quoted, prompt, text)

    # ----------------------------------------------------------------- attribution

    def finish(self, question: str, evidence: list[Evidence], quoted: Draft, prompt: Prompt, generated: str) -> Draft:
        """The generated answer with [n] markers and exactly the citations it uses, or the extractive
        answer when it cannot be traced."""
        generated = MARKER_RE.sub("", generated).strip()
        used = trace(generated, prompt.passages)
        if not used:
            return replace(quoted, text=f"{UNTRACED_NOTE} {quoted.text}")
        _, citations, cited = assemble([Piece(q.evidence, q.unit, q.unit, "") for q in used])
        number = {id(q.evidence): n for n, q in enumerate(used, start=1)}
        text, citations = renumber(mark_sentences(generated, used, number), citations)
        form = quoted.form or ""
        return Draft(text, False, citations, quoted.form, highlights(question, form, text),
                     also_retrieved(evidence, cited))


def input_limit(tokenizer) -> int:
    limit = getattr(tokenizer, "model_max_length", None)
    return int(limit) if isinstance(limit, int) and 0 < limit <= 100_000 else DEFAULT_INPUT_TOKENS


def _unit_terms(ev: Evidence, i: int) -> set[str]:
    unit = ev.units[i]
    return set(terms(f"{unit.context} {unit.text}"))


def trace(answer: str, passages: Sequence[Evidence]) -> list[Quote]:
    """The passage sentences that support `answer`, most supporting first; [] when it cannot be traced.

    The answer is traced when TRACE_THRESHOLD of its content words occur in the passages; the supporting
    sentences are then chosen greedily, each covering the most answer words not yet covered.
    """
    wanted = set(terms(answer))
    if not wanted:
        return []
    seen: set[str] = set()
    for ev in passages:
        seen |= set(terms(ev.chunk.text)) | set(terms(ev.chunk.section))
    if len(wanted & seen) / len(wanted) < TRACE_THRESHOLD:
        return []
    candidates = [(ev, i, _unit_terms(ev, i)) for ev in passages for i in range(len(ev.units))]
    remaining = set(wanted)
    used: list[Quote] = []
    while remaining and len(used) < MAX_SUPPORTING and candidates:
        ev, i, unit_terms = max(candidates, key=lambda c: len(c[2] & remaining))
        gain = unit_terms & remaining
        if not gain or (used and len(gain) < 2):  # a further citation must add more than one word
            break
        used.append(Quote(ev, i, len(wanted & unit_terms) / len(wanted)))
        remaining -= unit_terms
        candidates = [c for c in candidates if c[0] is not ev]  # one sentence per passage
    return used


def mark_sentences(answer: str, used: list[Quote], number: dict[int, int] | None = None) -> str:
    """`answer` with [n] after each sentence, n the citations whose sentence shares its words
    (`number` maps a passage to its citation number; by default used[0] is 1, used[1] is 2, …)."""
    unit_terms = [_unit_terms(q.evidence, q.unit) for q in used]
    numbers = [number[id(q.evidence)] if number else n for n, q in enumerate(used, start=1)]
    out = []
    for sentence in SENTENCE_RE.split(answer):
        words = set(terms(sentence))
        marks = list(dict.fromkeys(n for n, ut in zip(numbers, unit_terms) if words & ut))
        if words and not marks:
            marks = [numbers[0]]
        out.append(sentence + "".join(f" [{n}]" for n in marks))
    return " ".join(out)


def renumber(text: str, citations: tuple[Citation, ...]) -> tuple[str, tuple[Citation, ...]]:
    """Markers renumbered in the order they first appear, with their citations; a citation the text
    never marks is dropped (citations are exactly what the answer uses)."""
    seen: dict[int, int] = {}
    for m in MARKER_NUMBER_RE.finditer(text):
        seen.setdefault(int(m.group(1)), len(seen) + 1)
    text = MARKER_NUMBER_RE.sub(lambda m: f"[{seen[int(m.group(1))]}]", text)
    kept = sorted((c for c in citations if c.rank in seen), key=lambda c: seen[c.rank])
    return text, tuple(replace(c, rank=seen[c.rank]) for c in kept)


# --------------------------------------------------------------------------- choosing the answerer


def load_answerer(spec: str, device: str, backend: str, index_dir: Path) -> tuple[object, tuple[str, ...]]:
    """The answerer for a --generator value, and a note that says which one answers and why."""
    spec = (spec or "auto").strip()
    if spec == "extractive":
        return ExtractiveAnswerer(), ("Answering extractively (quoting the course material), as asked.",)
    if spec == "auto":
        checkpoint = find_cached_flan_t5()
        if checkpoint is None:
            looked = ", ".join(str(c) for c in hub_cache_dirs())
            return ExtractiveAnswerer(), (
                f"No local seq2seq model was found (looked for google/flan-t5-* in {looked}), so answers quote "
                "the course material (extractive). Pass --generator FOLDER to use a checkpoint.",
            )
    else:
        checkpoint = resolve_checkpoint(spec)
    chosen = choose_backend(backend, device)
    notes: list[str] = []
    try:
        answerer = Seq2SeqAnswerer.load(checkpoint, device=device, backend=chosen, index_dir=index_dir)
    except TutorError as exc:
        if backend != "auto" or chosen != "ctranslate2":
            raise
        # e.g. an architecture CTranslate2 cannot convert, or an index folder that cannot be written
        notes.append(f"{exc} Using transformers instead.")
        answerer = Seq2SeqAnswerer.load(checkpoint, device=device, backend="transformers", index_dir=index_dir)
    why = "found " + checkpoint.where if spec == "auto" else "as asked"
    notes.insert(0, f"Answering with the seq2seq model {checkpoint.name} ({why}) on {device} via "
                    f"{answerer.description}; answers are traced back to the course material and cited.")
    return answerer, tuple(notes)
