"""Rank the quotable units of the retrieved passages against a question, and the abstention rule both answerers share.

Every quotable unit (sentence, list item, step, table cell) is scored by its cosine with the question,
the rarity-weighted share of the question's terms it and its headings hold, its passage's similarity,
and small bonuses for what the question's reading asks for (a defined term, a cause for "why", a
labelled field, the step a question counts to, the section it names). The best units are what the
composer builds answers from; the best one's support decides whether to answer at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from tutor.answering.acronyms import asked_acronym, expansion
from tutor.answering.question import (
    DONE_AT_RE,
    FRAME_TERMS,
    ORDINAL_RE,
    REQUIRED_TYPES,
    SEQUENCE_TERMS,
    QuestionParts,
    answer_type,
    has_answer_type,
    named_in,
    named_place,
    parse,
    which_kinds,
)
from tutor.answering.wording import NUMBER_WORDS
from tutor.chunking import LABEL_NAME_RE, LABEL_RE, ROW_SEP, Unit
from tutor.models import PATH_SEP, Chunk, Citation
from tutor.terms import terms

ABSTAIN_TEXT = "The course material does not cover this question."

# Calibrated with `tutor eval --calibrate` on eval/questions/questions.jsonl (see README, "Evaluation").
ABSTAIN_THRESHOLD = 0.40
LEXICAL_WEIGHT = 0.6  # how much word overlap with the question adds to a unit's cosine similarity
PASSAGE_WEIGHT = 0.3  # how much the passage's own similarity adds to each of its units
# A quote that scores at least this fraction of the best is nearly as good: it may join the answer as a
# second quote, and it is preferred when it holds the kind of answer asked for (a year, a count) and the
# best does not.
SECOND_QUOTE_RATIO = 0.93


@dataclass(frozen=True)
class Evidence:
    """A retrieved passage with its quotable units and their vectors."""

    rank: int
    chunk: Chunk
    score: float
    dense: float
    units: tuple[Unit, ...]
    unit_vectors: np.ndarray


@dataclass(frozen=True)
class Quote:
    evidence: Evidence
    unit: int
    score: float


@dataclass(frozen=True)
class Draft:
    """What an answerer returns: the answer text and exactly the passages it quotes."""

    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    form: str | None = None
    highlights: tuple[str, ...] = ()
    also_retrieved: tuple[Citation, ...] = ()


class TermWeights(Protocol):
    def weight(self, term: str) -> float: ...

    def knows(self, term: str) -> bool: ...

    def uses(self, term: str) -> bool: ...

    def share(self, term: str) -> float: ...


# Words of a question that name something specific: an acronym ("SOTA"), a capitalised name that does
# not open the question ("Keras"), a number or year ("2019").
KEY_TERM_RE = re.compile(r"(?<![\w-])(?:[A-Z][A-Za-z0-9]*[A-Z0-9][A-Za-z0-9]*|[A-Z][a-z][\w-]*|\d[\d.,]*)(?![\w-])")


def unknown_key_terms(question: str, weights: TermWeights | None) -> list[str]:
    """The question's acronyms, names and numbers that the course never uses: a question built on one of
    them asks about something the material does not cover ("What does SOTA mean?")."""
    if weights is None or not hasattr(weights, "knows"):
        return []
    out = []
    for m in KEY_TERM_RE.finditer(question):
        word = m.group(0)
        before = question[: m.start()].rstrip()
        if not re.search(r"\w", before) or before.endswith((".", "?", "!", ":", ";")):
            continue  # a capital that only opens a sentence names nothing
        found = terms(word)
        if found and not any(weights.knows(t) for t in found):
            out.append(word)
    # "What is reinforcement learning?": a term the course never uses cannot be defined from it. Only a
    # term (up to three words, none of them a stop word), not a description in the student's own words
    # ("the primary goal in academia").
    definition = DEFINITION_RE.match(question)
    subject = re.findall(r"[\w'-]+", definition.group(1)) if definition else []
    if 0 < len(subject) <= 3 and all(terms(w) for w in subject):
        for word in subject:
            found = terms(word)
            if word not in out and found and not any(weights.knows(t) for t in found):
                out.append(word)
    return out


TOPIC_SHARE = 0.1  # a name used by this share of the passages or more is a subject of the whole course
NAME_RUN_RE = re.compile(r"(?<![\w-])[A-Z][\w-]*(?:\s+(?:of\s+|and\s+|the\s+)?[A-Z][\w-]*)+")
DIGIT_WORDS = {digits: word for word, digits in NUMBER_WORDS.items()}  # "7": "seven"
WH_RE = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b", re.I)


def _derived(term: str, present: frozenset[str]) -> bool:
    """Whether `present` holds the term, or a word made from it or it from one ("West" and "Western",
    "Germany" and "German"): the shorter a prefix of the longer, four letters or more."""
    if term in present:
        return True
    return len(term) >= 4 and any(len(p) >= 4 and (p.startswith(term) or term.startswith(p)) for p in present)


def names_elsewhere(question: str, passages: list[Chunk], weights: TermWeights | None) -> list[str]:
    """The names, acronyms and numbers of what the question asks (from its wh-word on, not what it gives
    or sets aside) that the course uses as written, but none of `passages` (nor their headings) does: an
    answer from there is about something else ("Which Google researchers proposed ResNet?" and "Proposed
    by Google researchers in 2017" under "Example 2: Transformers"). A name of several words is there as
    its initials too ("Global Positioning System", "GPS"), a number as its word ("7", "seven"), a name as a
    word made from it ("Western" for "West")."""
    if weights is None or not hasattr(weights, "share"):
        return []
    asked = parse(question).asked
    wh = WH_RE.search(asked)
    asked = asked[wh.start() :] if wh else asked
    # A document's name counts as said: an article's subject is rarely named in each of its passages.
    # (Not remembered by `term_set`: passages are many and long, and each is read here only now and then.)
    present = frozenset(
        t for c in passages for t in terms(f"{Path(c.source).stem.replace('_', ' ')} {c.section} {c.text}")
    )
    initials = {"".join(w[0] for w in run.group(0).split() if w[0].isupper()).lower(): run.span()
                for run in NAME_RUN_RE.finditer(asked)}
    out = []
    for m in KEY_TERM_RE.finditer(asked):
        before = asked[: m.start()].rstrip()
        if not re.search(r"\w", before) or before.endswith((".", "?", "!", ":", ";", ",")):
            continue  # a capital that only opens a sentence or clause names nothing
        if any(a <= m.start() < b and name in present for name, (a, b) in initials.items()):
            continue
        found = terms(m.group(0))
        if DIGIT_WORDS.get(m.group(0)) in present:
            continue
        # A name many passages use is what the course is about, not what singles out one passage.
        if (found and all(weights.uses(t) for t in found) and not any(_derived(t, present) for t in found)
                and not any(weights.share(t) >= TOPIC_SHARE for t in found)):
            out.append(m.group(0))
    return out


@lru_cache(maxsize=16384)
def term_set(text: str) -> frozenset[str]:
    """`terms(text)` as a set, remembered: every question is scored against the same few hundred units."""
    return frozenset(terms(text))


def coverage(question: str, text: str, weights: TermWeights | None = None) -> float:
    """Share of the question's content terms that `text` contains, each term weighted by its rarity
    in the corpus when `weights` are given (a term the corpus never uses weighs the most)."""
    q = term_set(question)
    if not q:
        return 0.0
    present = term_set(text)
    weight = weights.weight if weights is not None else (lambda term: 1.0)
    total = sum(weight(t) for t in q)
    return sum(weight(t) for t in q & present) / total if total else 0.0


DEFINITION_RE = re.compile(r"^\s*what\s+(?:is|are)\s+(?:an?\s+|the\s+)?(.+?)\s*\??\s*$", re.I)
DEFINITION_BONUS = 0.15


def defines(subject: str, text: str) -> bool:
    """Whether `text` reads as a definition of `subject` ("Model Drift: ...", "Deep learning is ...")."""
    head = re.sub(r"^(?:an?|the)\s+", "", text.strip().lower())
    subject = subject.lower()
    return head.startswith(subject) and head[len(subject) : len(subject) + 1] in (":", " ") and bool(
        re.match(r"\s*(?::|is\b|are\b|refers\b|means\b)", head[len(subject) :])
    )


NUMBER_BONUS = 0.3
# A unit that holds a duration is more likely the one that answers "how long". (A year, a count or a
# name is required of the best quote instead: see `typed_first` and `answer_type_found`.)
TYPE_BONUS = 0.15
WHY_BONUS = 0.1
# Causal connectives and verbs: a sentence that answers "why" usually gives a cause or an effect.
REASON_RE = re.compile(
    r"\b(?:because|since|so that|in order to|due to|as a result|therefore|thus|hence|leads? to|causes?|"
    r"affects?|enables?|allows?|ensures?|prevents?|results? in)\b",
    re.I,
)

# A labelled field ("Success: 95% accuracy") whose label the question names is what it asks for,
# unless it asks why.
LABEL_BONUS = 0.1


def _label(text: str) -> frozenset[str]:
    """The content terms of a field's label ("Success: ..." gives {"success"}), or none."""
    label = LABEL_RE.match(text)
    return term_set(label.group(1)) if label else frozenset()


def _label_asked(asked: frozenset[str], text: str) -> bool:
    label = _label(text)
    return bool(label) and label <= asked


def _field_asked(asked: frozenset[str], unit: Unit, kinds: tuple[frozenset[str], ...], section: str) -> bool:
    """Whether the question names the unit's label ("Success: ..."), or the label it sits under: its
    paragraph's ("Industry: ... Focuses on wall-clock time."), a short parent item's ("Training
    Techniques" over "Adam optimizer"), or, for a list item, the heading of its list when the question
    asks "which" of them ("Which industry challenge ...?" and the list under "Industry Challenges")."""
    if _label_asked(asked, unit.text):
        return True
    under = term_set(unit.context) if LABEL_NAME_RE.fullmatch(unit.context) else frozenset()
    if under:
        return under <= asked
    return unit.item and any(kind <= term_set(section) for kind in kinds)


def _numbers(text: str) -> set[str]:
    return {t for t in terms(text) if t.isdigit()}


GIVEN_WEIGHT = 0.3  # a word of the question's given part counts this much toward a unit's coverage
# "Besides flour and salt, what goes into bread?": a unit that is mostly flour and salt is not the answer.
EXCLUDED_PENALTY = 0.3
EXCLUDED_SHARE = 0.6  # of a unit's own content terms
ORDER_BONUS = 0.3
POSITION_RATIO = 0.75  # the step at the asked place answers when it scores this fraction of the best unit
MAX_ORDER_LEFTOVER = 1  # the step after, before or between the ones the question names, when that is what it asks
# "In the key takeaways, ...": a question that names a passage's heading says where the answer is.
PLACE_BONUS = 0.3


def _term_weights(text: str, weights: TermWeights | None) -> dict[str, float]:
    """Each content term of `text` with its rarity weight."""
    weight = weights.weight if weights is not None else (lambda term: 1.0)
    return {t: weight(t) for t in term_set(text) - FRAME_TERMS}


def _asked_weights(parts: QuestionParts, weights: TermWeights | None) -> dict[str, float]:
    """Each content term of the question with its rarity weight: less for terms only in the given
    part, and none for those only in what the answer is compared with."""
    asked = term_set(parts.asked)
    return {
        t: w * (1.0 if t in asked else GIVEN_WEIGHT)
        for t, w in _term_weights(f"{parts.asked} {parts.given}", weights).items()
    }


def _weighted_coverage(asked: dict[str, float], text: str) -> float:
    total = sum(asked.values())
    present = term_set(text)
    return sum(w for t, w in asked.items() if t in present) / total if total else 0.0


def _anchor(named: str, ev: Evidence, weights: TermWeights | None) -> int | None:
    """The list item of a passage that best matches what a question names, if any matches at all."""
    named_terms = _term_weights(named, weights)
    anchors = [(_weighted_coverage(named_terms, u.text), i) for i, u in enumerate(ev.units) if u.item]
    best, anchor = max(anchors, default=(0.0, None))
    return anchor if best > 0 else None


def _same_list(ev: Evidence, *positions: int) -> bool:
    if not all(0 <= i < len(ev.units) and ev.units[i].item for i in positions):
        return False
    return len({ev.units[i].context for i in positions}) == 1


def _order_target(
    parts: QuestionParts, ev: Evidence, weights: TermWeights | None
) -> tuple[tuple[int, ...], int] | None:
    """For "what comes after X?", "before X?" or "between X and Y?": the list items the question
    names, and the one it asks for, if the question asks for nothing more than that (its other words
    are about order, or name the passage's section)."""
    left = term_set(parts.asked) - term_set(parts.between) - SEQUENCE_TERMS - term_set(ev.chunk.section)
    if len(left) > MAX_ORDER_LEFTOVER:  # one word more ("what does the team do after X?") still asks the order
        return None
    if parts.order:
        anchor = _anchor(parts.given, ev, weights)
        if anchor is not None and _same_list(ev, anchor, anchor + parts.order):
            return (anchor,), anchor + parts.order
    # "between A and B and C and D": try each "and" until the two sides name items one apart.
    for joint in re.finditer(r"\s+and\s+", parts.between):
        first = _anchor(parts.between[: joint.start()], ev, weights)
        second = _anchor(parts.between[joint.end() :], ev, weights)
        if first is not None and second is not None and abs(first - second) == 2:
            middle = (first + second) // 2
            if _same_list(ev, first, middle, second):
                return (first, second), middle
    return None


def _mostly(excluded: frozenset[str], text: str) -> bool:
    """Whether `text` is mostly the thing a "besides X" clause rules out (not merely mentions it)."""
    if _label_asked(excluded, text):
        return True  # the field the clause names ("besides the goal" and "Goal: ...")
    own = term_set(text)
    return bool(own) and len(own & excluded) >= EXCLUDED_SHARE * len(own)


ORDERED_LINE_RE = re.compile(r"^\s*(?:\d{1,3}[.)]|step\s+\d+\b)", re.I)


def _is_last_item(chunk: Chunk, units: tuple[Unit, ...], i: int) -> bool:
    """Whether unit i ends a list of steps, numbered ("5.", "Step 8:"): "the last step" is not the last
    bullet of some other list."""
    nxt = units[i + 1] if i + 1 < len(units) else None
    if not units[i].item or units[i].context or (nxt is not None and nxt.item):
        return False
    return any(units[i].text in line for line in chunk.text.split("\n") if ORDERED_LINE_RE.match(line))


def _item_number(chunk: Chunk, units: tuple[Unit, ...], i: int) -> int:
    """The position (1, 2, …) of unit i in its list of steps, numbered ("5.", "Step 8:"); 0 if it is none.
    The number is the one the line carries: a list may run on into the next passage."""
    if not units[i].item or units[i].context:
        return 0
    for line in chunk.text.split("\n"):
        if units[i].text in line and (found := ORDERED_LINE_RE.match(line)):
            return int(re.search(r"\d+", found.group(0)).group(0))
    return 0


def rank_quotes(
    question: str, qvec: np.ndarray, evidence: list[Evidence], weights: TermWeights | None = None
) -> list[Quote]:
    parts = parse(question)
    asked = _asked_weights(parts, weights)
    definition = DEFINITION_RE.match(question)
    # "step 3", "the second example": a number in the question points at the unit that carries it. A
    # step asked by position ("the first step") is found by its place in the list, not by a "1" in its text.
    asked_numbers = _numbers(DONE_AT_RE.sub(" ", ORDINAL_RE.sub(" ", parts.asked)))
    # The label must name what is asked for, where the question says ("what kind of efficiency does
    # academia ...?" is not about the field "Academia: ...").
    label_terms = term_set(parts.asked_for) or term_set(parts.asked)
    why = bool(re.match(r"\s*why\b", parts.asked, re.I))
    excluded = term_set(parts.excluded)
    place = named_place(question)
    kinds = which_kinds(question)
    kind = answer_type(question)
    quotes = []
    for ev in evidence:
        if not ev.units:
            continue
        cosines = ev.unit_vectors @ qvec
        has_table = any(ROW_SEP in u.text for u in ev.units)
        # The steps the question names are where to count from, never the answer.
        ordered = _order_target(parts, ev, weights) if parts.order or parts.between else None
        anchors, target = ordered or ((), None)
        for i, unit in enumerate(ev.units):
            score = (
                float(cosines[i])
                + LEXICAL_WEIGHT * _weighted_coverage(asked, f"{ev.chunk.section} {unit.context} {unit.text}")
                + PASSAGE_WEIGHT * ev.dense
            )
            if excluded and _mostly(excluded, unit.text):
                score -= EXCLUDED_PENALTY
            if definition and defines(definition.group(1), unit.text):
                score += DEFINITION_BONUS
            if not why and _field_asked(label_terms, unit, kinds, ev.chunk.section):
                score += LABEL_BONUS
            if why and REASON_RE.search(unit.text):
                score += WHY_BONUS
            if asked_numbers and asked_numbers <= _numbers(unit.text):
                score += NUMBER_BONUS
            if kind == "duration" and has_answer_type(kind, unit.text, question):
                score += TYPE_BONUS
            if i == target or (parts.last and _is_last_item(ev.chunk, ev.units, i)) or (
                parts.position and _item_number(ev.chunk, ev.units, i) == parts.position
            ):
                score += ORDER_BONUS
            if i in anchors:
                score -= ORDER_BONUS
            if place.holds(term_set(ev.chunk.section), has_table):
                score += PLACE_BONUS
            quotes.append(Quote(ev, i, score))
    quotes.sort(key=lambda q: -q.score)
    return quotes


def quote_text(quote: Quote) -> str:
    return quote.evidence.units[quote.unit].text


def shown_text(quote: Quote) -> str:
    """What a quote shows when it answers: its unit, and for a lead-in ("Major companies have research
    divisions:") the items it introduces, as the answer brings them along."""
    units, i = quote.evidence.units, quote.unit
    text = units[i].text
    if not text.rstrip().endswith(":"):
        return text
    items = []
    for unit in units[i + 1 :]:
        if not unit.item:
            break
        items.append(unit.text)
    return f"{text} {'; '.join(items)}" if items else text


def answer_type_found(question: str, quote: str) -> bool:
    """A question for a name, a year, a number or a formula needs one in its quote; others pass."""
    kind = answer_type(question)
    return kind not in REQUIRED_TYPES or has_answer_type(kind, quote, question)


def support(question: str, best: Quote | None, weights: TermWeights | None = None) -> float:
    """How well the material supports an answer: the best quote's score, its passage's similarity, and
    how much of the question (by term rarity) the passage covers. Below ABSTAIN_THRESHOLD the tutor
    abstains; so it does when the question asks for a name, year or number that the quote lacks."""
    if best is None:
        return 0.0
    if not answer_type_found(question, shown_text(best)):
        return 0.0
    text = f"{best.evidence.chunk.section} {best.evidence.chunk.text}"
    # Holding the kind of answer asked for helps choose among quotes, but is checked on its own above:
    # it is not evidence that the quote is about what is asked.
    kind = answer_type(question)
    typed = kind == "duration" and has_answer_type(kind, quote_text(best), question)
    score = best.score - (TYPE_BONUS if typed else 0.0)
    return 0.5 * score + 0.5 * best.evidence.dense + 0.5 * coverage(question, text, weights)


def typed_first(question: str, quotes: list[Quote]) -> list[Quote]:
    """`quotes` with the first that holds the year or count asked for moved to the front, if it scores
    nearly as well as the best (a quote that lacks it cannot answer; one far behind answers something
    else). A year further behind still answers when the quote and its heading name everything the
    question names: "When was the Transformer proposed?" and "... Transformers: Proposed in 2017"."""
    kind = answer_type(question)
    if not quotes or kind not in REQUIRED_TYPES:
        return quotes
    near = (i for i, q in enumerate(quotes) if q.score >= SECOND_QUOTE_RATIO * quotes[0].score)
    typed = next((i for i in near if answer_type_found(question, shown_text(quotes[i]))), None)
    names = named_in(question) if kind == "year" else frozenset()
    if typed is None and names:
        typed = next(
            (
                i
                for i, q in enumerate(quotes)
                if names <= term_set(f"{q.evidence.chunk.section} {quote_text(q)}")
                and answer_type_found(question, shown_text(q))
            ),
            None,
        )
    typed = typed or 0
    return [quotes[typed], *quotes[:typed], *quotes[typed + 1 :]]


def at_position_first(question: str, quotes: list[Quote], weights: TermWeights | None = None) -> list[Quote]:
    """For a step asked by its place ("the second step", "the last step", "what comes after X?"):
    `quotes` with the step at that place moved to the front, if it scores at least POSITION_RATIO of the
    best. The words of another step may match the question better ("the first step in locating an
    epicentre" and "that point is the epicentre"), but the place in the list is what was asked. Of several
    lists with a step at that place, the one whose named step matches the question best answers ("after
    proposing a novel attention mechanism": "Propose novel attention mechanism" over "Creating novel
    attention mechanisms"), then the one under the heading that names most of the question's words ("step
    6 of the industry workflow")."""
    parts = parse(question)
    if not quotes or not (parts.position or parts.last or parts.order or parts.between):
        return quotes
    targets: dict[int, tuple[tuple[int, ...], int] | None] = {}  # id(evidence) -> its named and asked steps
    given = _term_weights(f"{parts.given} {parts.between}", weights)

    def named_match(q: Quote) -> float:
        """How well the steps an order question names match the ones it counts from here."""
        found = targets.get(id(q.evidence))
        return sum(_weighted_coverage(given, q.evidence.units[a].text) for a in found[0]) if found else 0.0

    def asked_step(q: Quote) -> bool:
        chunk, units = q.evidence.chunk, q.evidence.units
        if parts.order or parts.between:
            if id(q.evidence) not in targets:
                targets[id(q.evidence)] = _order_target(parts, q.evidence, weights)
            found = targets[id(q.evidence)]
            return found is not None and found[1] == q.unit
        if parts.last:
            return _is_last_item(chunk, units, q.unit)
        return _item_number(chunk, units, q.unit) == parts.position

    near = [(i, q) for i, q in enumerate(quotes) if q.score >= POSITION_RATIO * quotes[0].score]
    steps = [(i, q) for i, q in near if asked_step(q)]
    if not steps:
        return quotes
    named = term_set(question)

    def heading_words(q: Quote) -> int:
        return len(named & term_set(f"{q.evidence.chunk.section} {q.evidence.units[q.unit].context}"))

    i, q = max(steps, key=lambda found: (named_match(found[1]), heading_words(found[1]), -found[0]))
    return [q, *quotes[:i], *quotes[i + 1 :]]


def spelled_out(acronym: str, evidence: list[Evidence]) -> tuple[Evidence, int, str, str] | None:
    """Where the retrieved passages spell out `acronym`, best-ranked passage first: the passage, the unit
    (or -1 for its heading), the text that does, and the words."""
    for ev in evidence:
        for i, unit in enumerate(ev.units):
            if words := expansion(acronym, unit.text):
                return ev, i, unit.text, words
        for heading in reversed(ev.chunk.section.split(PATH_SEP)):
            if words := expansion(acronym, heading):
                return ev, -1, heading, words
    return None


def ordered_quotes(
    question: str, qvec: np.ndarray, evidence: list[Evidence], weights: TermWeights | None = None
) -> list[Quote]:
    """The ranked quotes, with one that holds the kind of answer asked for, or the step at the place asked
    for, moved to the front (see `typed_first`, `at_position_first`)."""
    return at_position_first(question, typed_first(question, rank_quotes(question, qvec, evidence, weights)), weights)


def ranked_support(
    question: str, qvec: np.ndarray, evidence: list[Evidence], weights: TermWeights | None = None
) -> tuple[list[Quote], float]:
    """The ranked quotes, and how well the material supports an answer (`support`). What an acronym
    stands for is supported exactly when a retrieved passage spells it out."""
    quotes = ordered_quotes(question, qvec, evidence, weights)
    if unknown_key_terms(question, weights):
        return quotes, 0.0
    if acronym := asked_acronym(question):
        return quotes, 1.0 if spelled_out(acronym, evidence) else 0.0
    return quotes, support(question, quotes[0] if quotes else None, weights)


def supported(support_score: float) -> bool:
    """Whether a `support` score is enough to answer (ABSTAIN_THRESHOLD, calibrated)."""
    return support_score >= ABSTAIN_THRESHOLD


def supported_quotes(
    question: str, qvec: np.ndarray, evidence: list[Evidence], weights: TermWeights | None = None
) -> list[Quote]:
    """The ranked quotes, or [] when the material does not support an answer: the abstention rule
    that every answerer shares."""
    quotes, score = ranked_support(question, qvec, evidence, weights)
    return quotes if quotes and supported(score) else []
