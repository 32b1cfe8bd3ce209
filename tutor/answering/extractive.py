"""The extractive answerer: the answer is composed of the course's own sentences, by the question's form.

It reads the question's form, ranks the retrieved passages' units, decides whether the material
supports an answer (the shared abstention rule), and composes the answer of that form (see
`compose`). When it declines, it may say what the course does say nearby, marked as not an answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from tutor.answering.acronyms import asked_acronym, stands_for
from tutor.answering.compose import (
    NEAR_RATIO,
    Piece,
    also_retrieved,
    assemble,
    comparison_pieces,
    dangles,
    explanation_pieces,
    highlights,
    list_pieces,
    single,
)
from tutor.answering.followup import contextualize
from tutor.answering.forms import read
from tutor.answering.question import answer_type, has_answer_type, parse
from tutor.answering.rank import (
    SECOND_QUOTE_RATIO,
    Draft,
    Evidence,
    Quote,
    TermWeights,
    coverage,
    defines,
    names_elsewhere,
    ordered_quotes,
    quote_text,
    ranked_support,
    shown_text,
    spelled_out,
    support,
    supported,
    term_set,
    unknown_key_terms,
)
from tutor.models import PATH_SEP, Citation

ABSTAIN_TEXT = "The course material does not cover this question."
NEARBY_MIN_SUPPORT = 0.25  # below this the nearest sentence is not worth showing beside a refusal
NEARBY_COVERAGE = 0.5  # share of the question's terms (by rarity) the nearest sentence and its headings hold
OVERVIEW_SECTIONS = 6
DANGLING_CHECKED = 20  # the best units looked at for a lead-in that would dangle
SMALLTALK_REPLY = "You're welcome! Ask me anything about the course whenever you like."
GREETING_REPLY = "Hello! Ask me a question about the course, and I will answer from its material."


def smalltalk_reply(text: str) -> str:
    lowered = text.lower()
    return SMALLTALK_REPLY if any(w in lowered for w in ("thank", "thx", "cheers", "ty")) else GREETING_REPLY


def abstention(question: str, quotes: list[Quote], support: float, form: str | None,
               weights: TermWeights | None = None, why: str = "") -> Draft:
    """The refusal (with `why`, if given), and the nearest sentence of the course when it is close enough
    to help: it must speak of most of what the question names (a question in another language, or about
    something else, gets the refusal alone)."""
    refusal = f"{ABSTAIN_TEXT} {why}".strip()
    if quotes and support >= NEARBY_MIN_SUPPORT and _speaks_of(question, quotes[0], weights):
        best = quotes[0]
        piece = single(best)
        text, citations, _ = assemble([Piece(piece.evidence, piece.lo, piece.hi, piece.text)])
        return Draft(f"{refusal} Nearby, the course says: {text}", True, citations, form)
    return Draft(refusal, True, (), form)


# "What is differential privacy?": a thing's name of two to four words, no article, no "of" or "in".
TERM_ASKED_RE = re.compile(
    r"^\s*what\s+(?:is|are)\s+(?!the\b|an?\b)((?:(?!of\b|in\b|for\b)[\w-]+\s*){2,4})\??\s*$", re.I
)


def only_listed(question: str, quotes: list[Quote]) -> str | None:
    """For "What is X?": X, when the course only names X among other things and nowhere near the top
    says what it is ("Privacy: Federated learning and differential privacy" for "What is differential
    privacy?"). X is a name for a thing: two words or more (a word of a label, "Model Drift: …", is no
    mention), without an article or a description ("What is the largest city of Poland?" asks which thing
    is meant, and "… is the capital and largest city of Poland" answers it)."""
    found = TERM_ASKED_RE.match(question)
    term = found.group(1).strip() if found else ""
    if len(term.split()) < 2 or not quotes:
        return None
    near = [q for q in quotes[:DANGLING_CHECKED] if q.score >= NEAR_RATIO * quotes[0].score]
    if any(defines(term, quote_text(q)) or defines(term, q.evidence.units[q.unit].context) for q in near):
        return None
    listed = re.compile(rf"(?:,|\band|\bor|:)\s+{re.escape(term)}\b|\b{re.escape(term)}\s*(?:,|\band\b|\bor\b)", re.I)
    return term if listed.search(quote_text(quotes[0])) else None


def mentioned_only(term: str, best: Quote, form: str | None) -> Draft:
    """The refusal for a term the course names but does not explain, with where it names it."""
    piece = single(best)
    text, citations, _ = assemble([Piece(piece.evidence, piece.lo, piece.hi, piece.text)])
    return Draft(f"The course names {term} but does not say what it is. It says: {text}", True, citations, form)


def _speaks_of(question: str, quote: Quote, weights: TermWeights | None) -> bool:
    unit = quote.evidence.units[quote.unit]
    return coverage(question, f"{quote.evidence.chunk.section} {unit.context} {unit.text}", weights) >= NEARBY_COVERAGE


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self) -> None:
        self.weights: TermWeights | None = None  # the Tutor hands over its corpus term weights
        # The Tutor hands over a way to read whole sections, for overviews: headings in reading order,
        # and the passages (as Evidence) under one heading path.
        self.outline: Callable[[], list[str]] | None = None
        self.section_passages: Callable[[str], list[Evidence]] | None = None
        self.embed: Callable[[list[str]], np.ndarray] | None = None  # texts -> normalised vectors

    def answer(self, question: str, qvec: np.ndarray, evidence: list[Evidence]) -> Draft:
        reading = read(question)
        acronym = asked_acronym(question)
        if acronym:
            return self._acronym(question, acronym, qvec, evidence, reading.form)
        if reading.form == "overview" and (outline := self._overview(question)):
            # The course's own outline answers "what is it about?": nothing to decline.
            text, citations, used = assemble(outline)
            return Draft(text, False, citations, "overview", (), also_retrieved(evidence, used))
        quotes, support = ranked_support(question, qvec, evidence, self.weights)
        if unknown := unknown_key_terms(question, self.weights):
            # Name what the course lacks only in reply to a question: an instruction's words are not echoed.
            asks = question.rstrip().endswith("?")
            named = f" It never mentions {', '.join(dict.fromkeys(unknown))}." if asks else ""
            return Draft(f"{ABSTAIN_TEXT}{named}", True, (), reading.form)
        if not quotes or not supported(support):
            return abstention(question, quotes, support, reading.form, self.weights)
        # What the question names must be in the best sentence's passage; the sides of a comparison and the
        # parts of a two-part question each may be in a retrieved passage of their own.
        several = reading.form in ("comparison", "multipart")
        passages = [ev.chunk for ev in evidence] if several else [quotes[0].evidence.chunk]
        if elsewhere := names_elsewhere(question, passages, self.weights):
            why = f"The passage nearest to it does not mention {' or '.join(dict.fromkeys(elsewhere))}."
            return abstention(question, quotes, support, reading.form, self.weights, why)
        if reading.form == "definition" and (term := only_listed(question, quotes)):
            return mentioned_only(term, quotes[0], reading.form)
        pieces = self.compose(question, reading.form, reading.parts, qvec, quotes, evidence)
        text, citations, used = assemble(pieces)
        return Draft(
            text,
            False,
            citations,
            reading.form,
            highlights(question, reading.form, text),
            also_retrieved(evidence, used),
        )

    def compose(self, question, form, parts, qvec, quotes, evidence) -> list[Piece]:
        """The pieces of the answer for a question of `form` (see `compose`)."""
        # A lead-in whose items cannot come along ("Let's see how …:") answers nothing by itself.
        quotes = [q for q in quotes[:DANGLING_CHECKED] if not dangles(q)] + quotes[DANGLING_CHECKED:] or quotes
        if form == "multipart":
            pieces: list[Piece] = []
            texts: list[str] = []
            for part, _ in parts:
                # "What is X, and why does it matter?": the later part's "it" is the earlier part's X.
                texts.append(contextualize(part, texts[-1:]) if texts else part)
            # Each part is ranked by its own vector: the whole question's would find one part's answer for both.
            vectors = self.embed(texts) if self.embed is not None else [qvec] * len(parts)
            for (_, part_form), part, part_vec in zip(parts, texts, vectors):
                # Each part adds what the earlier parts have not quoted yet, unless what they quote holds the
                # year, name or number it asks for ("When was the garden founded, and who founded it?").
                ordered = ordered_quotes(part, part_vec, evidence, self.weights)

                def quoted(q: Quote) -> bool:
                    return any(p.evidence is q.evidence and p.lo <= q.unit <= p.hi for p in pieces)

                kind = answer_type(part)
                if ordered and quoted(ordered[0]) and (not kind or has_answer_type(kind, shown_text(ordered[0]), part)):
                    continue
                ranked = [q for q in ordered if not quoted(q)]
                if pieces and ranked and not supported(support(part, ranked[0], self.weights)):
                    continue  # a later part the material does not answer adds nothing
                for p in self.compose(part, part_form, (), part_vec, ranked, evidence) if ranked else ():
                    if not any(q.evidence is p.evidence and q.lo <= p.lo <= q.hi for q in pieces):
                        pieces.append(p)
            return pieces or [single(quotes[0])]
        if form in ("list", "procedure"):
            if _asks_position(question):
                return [single(quotes[0])]  # one step: the one at the place asked, ranked first
            asked_for = term_set(parse(question).asked_for)
            found = list_pieces(quotes, numbered=form == "procedure", asked_for=asked_for, question=question)
            if found:
                return found
        if form == "comparison":
            found = comparison_pieces(question, quotes)
            if found:
                return found
            return explanation_pieces(quotes, limit=2)
        if form == "overview":
            found = self._overview(question)
            if found:
                return found
            return explanation_pieces(quotes, limit=4)
        if form == "explanation":
            return explanation_pieces(quotes)
        return self._best(quotes)

    @staticmethod
    def _best(quotes: list[Quote]) -> list[Piece]:
        """The best unit, and a second from another passage when it is nearly as good."""
        scores = {(id(q.evidence), q.unit): q.score for q in quotes}
        pieces = [single(quotes[0], scores)]
        for q in quotes[1:]:
            if q.score < SECOND_QUOTE_RATIO * quotes[0].score:
                break
            if q.evidence is not quotes[0].evidence:
                pieces.append(single(q, scores))
                break
        return pieces

    def _overview(self, question: str) -> list[Piece] | None:
        """The lead sentence of each section: of the sections under the one the question names, or of the
        whole course; a named section without subsections gives its own first units."""
        if self.outline is None or self.section_passages is None:
            return None
        headings = _with_parents(self.outline())
        # A heading the question names, in words that may ask for an overview themselves ("Summarise the
        # key takeaways" names the section "Key Takeaways"); only the words of the request never count.
        asked = term_set(question) - REQUEST_TERMS
        named = [h for h in headings if asked and term_set(h.split(PATH_SEP)[-1]) and
                 term_set(h.split(PATH_SEP)[-1]) <= asked]
        root = max(named, key=len) if named else None
        # … or names it in part: every word the question asks about besides the overview is in one
        # heading ("an overview of the industry perspective", "Industry Perspective on Deep Learning"), the
        # most general such section.
        topic = asked - OVERVIEW_WORDS
        if root is None and topic:
            covering = [h for h in headings if topic <= term_set(h.split(PATH_SEP)[-1])]
            root = min(covering, key=lambda h: (h.count(PATH_SEP), headings.index(h))) if covering else None
        if root is None:
            chosen = [h for h in headings if PATH_SEP not in h]
        else:
            depth = root.count(PATH_SEP) + 1
            chosen = [h for h in headings if h.startswith(root + PATH_SEP) and h.count(PATH_SEP) == depth]
            if len(chosen) < 2:  # no subsections to outline: the section's own units
                passages = [ev for ev in self.section_passages(root) if ev.units]
                if not passages:
                    return None
                ranked = [Quote(ev, i, 1.0 - 0.01 * n) for n, (ev, i) in
                          enumerate((ev, i) for ev in passages for i in range(len(ev.units)))]
                return list_pieces(ranked[:1], numbered=False) or explanation_pieces(ranked, limit=4)
            chosen = [root, *chosen]  # what the section says before its first subsection, if anything
        pieces = []
        for heading in chosen[: OVERVIEW_SECTIONS + 1]:
            passages = self.section_passages(heading)
            # a heading's own lead: a passage under exactly it, else (for the whole course's top level) the first
            lead = next((ev for ev in passages if ev.units and (ev.chunk.section == heading or root is None)), None)
            if lead is None:
                continue
            first = next((i for i, u in enumerate(lead.units) if len(u.text) > 25 and not u.text.endswith(":")), 0)
            name = heading.split(PATH_SEP)[-1]
            pieces.append(Piece(lead, first, first, f"{name}: {lead.units[first].text}", "- "))
            if len(pieces) == OVERVIEW_SECTIONS:
                break
        return pieces if len(pieces) >= 2 else None

    def _acronym(self, question: str, acronym: str, qvec, evidence, form) -> Draft:
        """"What does YOLO stand for?", answered where a passage spells it out, or declined."""
        found = spelled_out(acronym, evidence)
        if not found:
            return Draft(f"{ABSTAIN_TEXT} It does not spell out {acronym}.", True, (), form)
        ev, unit, text, words = found
        if unit < 0:  # spelled out in the passage's heading
            citation = Citation(1, ev.chunk.chunk_id, ev.chunk.source, ev.chunk.section, ev.chunk.text,
                                ev.units[0].text if ev.units else "", round(ev.score, 4),
                                ev.chunk.page)
            answer = f"{stands_for(acronym, words)} [1]"
            return Draft(answer, False, (citation,), form, (words,), also_retrieved(evidence, (ev,)))
        _, citations, used = assemble([Piece(ev, unit, unit, text)])
        answer = f"{stands_for(acronym, words)} [1]"
        return Draft(answer, False, citations, form, (words,), also_retrieved(evidence, used))


def _with_parents(headings: list[str]) -> list[str]:
    """Heading paths in reading order, each preceded by its parents that hold no passage of their own
    ("Common Misconceptions" before "Common Misconceptions › Misconception 1")."""
    out: dict[str, None] = {}
    for heading in headings:
        parts = heading.split(PATH_SEP)
        for n in range(1, len(parts) + 1):
            out.setdefault(PATH_SEP.join(parts[:n]), None)
    return list(out)


OVERVIEW_WORDS = term_set(
    "summary overview outline main points ideas topics key takeaways gist article course document text material "
    "chapter section lesson"
)
REQUEST_TERMS = term_set(
    "summarise summarize give me please can you tell about say says discuss cover covers whole what the this"
)


POSITION_RE = re.compile(
    r"\b(?:step|stage|phase|item|point|part)\s+\d+\b|\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|"
    r"ninth|tenth|last|final|next)\s+(?:step|stage|phase|item|point|thing|part)\b",
    re.I,
)


def _asks_position(question: str) -> bool:
    """"What comes after X?", "the last step", "What is step 6?": one step, not the whole list."""
    parts = parse(question)
    return bool(parts.order or parts.between or parts.last or parts.position or POSITION_RE.search(question))

