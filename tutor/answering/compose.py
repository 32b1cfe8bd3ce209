"""Compose the answer of each form from ranked units, with exactly the citations it quotes.

Every answer is made of `Piece`s: a run of units of one passage, shown as one line or one sentence
group and marked [n]. The shapes:

- factoid, definition: the best unit (a lead-in brings its items, a table cell its row, a later
  sentence of a labelled paragraph its field), the span that answers marked for bold;
- list, procedure: the whole list that answers (lead-in, then its items in order, at most
  MAX_ITEMS and "and N more"), one line an item;
- comparison: one line a side, each from the unit that best speaks of that side (a table row gives
  its cells; labelled paragraphs give each label's sentence);
- explanation, overview: two to four units that say different things (maximal marginal relevance
  over their vectors), in reading order;
- multipart: each part answered in its own form, one after the other.

Citations are the passages the pieces quote, numbered by first appearance; each citation's quote is
the verbatim span of its passage from the first to the last unit the answer uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tutor.answering.question import STEP_NUMBER_RE, TIME_RE, answer_type, named_in, parse
from tutor.answering.rank import Evidence, Quote, quote_text
from tutor.chunking import LABEL_RE, ROW_SEP, Unit
from tutor.models import PATH_SEP, Citation
from tutor.terms import terms

MAX_ITEMS = 8  # a longer list ends with "and N more"
SENTENCE_END_RE = re.compile(r"""[.!?:;)\]"'”’]\s*(?:\[\d+\])?$""")
FOLLOW_RATIO = 0.7  # the next sentence of the paragraph joins a quote when it scores this fraction of it
NEAR_RATIO = 0.85  # a unit scoring this fraction of the best may stand in for it (a list, a side)
EXPLAIN_RATIO = 0.7  # units at this fraction of the best may join an explanation
SAME_PASSAGE_RATIO = 0.55  # … or at this fraction, from the best unit's own passage
MAX_EXPLAIN_UNITS = 3
MMR_LAMBDA = 0.7  # relevance against novelty when choosing an explanation's units
REDUNDANT = 0.85  # a unit this similar to one already chosen adds nothing


@dataclass(frozen=True)
class Piece:
    """Units `lo`..`hi` of one passage, shown as `text` (a line, or sentences of a paragraph)."""

    evidence: Evidence
    lo: int
    hi: int
    text: str
    bullet: str = ""  # "- " or "1. " for a line of a list


@dataclass(frozen=True)
class Composed:
    text: str
    citations: tuple[Citation, ...]
    highlights: tuple[str, ...] = ()
    used: tuple[Evidence, ...] = ()


# ----------------------------------------------------------------------------- units and spans


def _is_lead_in(unit: Unit) -> bool:
    return unit.text.rstrip().endswith(":")


def _parents(units: tuple[Unit, ...]) -> list[int]:
    """For each unit, the position of the item it sits under (its `context`), or -1."""
    out, last_at = [], {}
    for j, unit in enumerate(units):
        out.append(last_at.get(unit.context, -1) if unit.context else -1)
        last_at[unit.text] = j
    return out


def _under(parents: list[int], j: int, i: int) -> bool:
    """Whether unit j sits, at any depth, under unit i."""
    while j >= 0:
        j = parents[j]
        if j == i:
            return True
    return False


def _run(units: tuple[Unit, ...], parents: list[int], first: int, owner: int) -> list[int]:
    """The list items from `first` on that sit directly under `owner` (-1: a top-level list), stopping at
    the first unit that is neither one of them nor nested under one of them."""
    run: list[int] = []
    for j in range(first, len(units)):
        if parents[j] == owner and units[j].item:
            run.append(j)
        elif not (run and _under(parents, j, run[-1])):
            break
    return run


def _items_of(units: tuple[Unit, ...], i: int, as_member: bool = False) -> tuple[int, int, list[int]] | None:
    """The list that unit i introduces or belongs to: (its head, its last unit, its items), or None.

    A lead-in ("Researchers aim to:") or a parent item ("Speech Recognition") heads the items after it;
    an item belongs to the items beside it under the same parent."""
    parents = _parents(units)
    if _introduces(units, i) and not as_member:
        owner = i if i + 1 < len(units) and parents[i + 1] == i else -1
        items = _run(units, parents, i + 1, owner)
        head = i
    elif units[i].item:
        owner = parents[i]
        first = i
        while first > 0 and (
            (parents[first - 1] == owner and units[first - 1].item)
            or (_under(parents, first - 1, owner) and parents[first - 1] != owner)
        ):
            first -= 1
        items = _run(units, parents, first, owner)
        before = items[0] - 1 if items else -1
        if owner >= 0:
            head = owner
        elif before >= 0 and _is_lead_in(units[before]):
            head = before
        else:
            head = items[0] if items else i
    else:
        return None
    if len(items) < 2 or ((as_member or not _introduces(units, i)) and i not in items):
        return None
    last = items[-1]
    while last + 1 < len(units) and _under(parents, last + 1, items[-1]):
        last += 1
    return head, last, items


ENUMERATION_RE = re.compile(r"\(([^()]*,[^()]*)\)|(?:\w+,\s+){2,}(?:and|or)\s+\w+")


def has_enumeration(text: str) -> bool:
    """A sentence that lists things itself: "(NeurIPS, ICML, CVPR)", "A, B, and C"."""
    return bool(ENUMERATION_RE.search(text))


def unit_span(text: str, unit: Unit, start: int = 0) -> tuple[int, int] | None:
    """Where a unit stands in its passage text. A table cell stands for its whole row line."""
    at = text.find(unit.text, start)
    if at < 0:
        at = text.find(unit.text)
    if at >= 0:
        return at, at + len(unit.text)
    probe = unit.text.split(ROW_SEP, 1)[0] if ROW_SEP in unit.text else unit.text[:40]
    at = text.find(probe)
    if at < 0:
        return None
    line_start = text.rfind("\n", 0, at) + 1
    line_end = text.find("\n", at)
    line_end = len(text) if line_end < 0 else line_end
    while line_start < line_end and text[line_start] in " \t":
        line_start += 1
    return line_start, line_end


def quote_span(ev: Evidence, lo: int, hi: int) -> str:
    """The verbatim text of the passage from unit lo to unit hi."""
    text = ev.chunk.text
    first = unit_span(text, ev.units[lo])
    if first is None:
        return ""
    last = unit_span(text, ev.units[hi], first[0]) if hi != lo else first
    end = last[1] if last and last[1] > first[0] else first[1]
    return text[first[0] : end]


def _row_text(units: tuple[Unit, ...], i: int) -> tuple[int, int, str]:
    """A table cell's whole row, as "Label — A: …; B: …", with the units it spans."""
    label = units[i].text.split(ROW_SEP, 1)[0] + ROW_SEP
    lo = hi = i
    while lo > 0 and units[lo - 1].text.startswith(label):
        lo -= 1
    while hi + 1 < len(units) and units[hi + 1].text.startswith(label):
        hi += 1
    return lo, hi, label + "; ".join(u.text[len(label) :] for u in units[lo : hi + 1])


def _introduces(units: tuple[Unit, ...], i: int) -> bool:
    """A lead-in ("Researchers aim to:") or a parent item ("Speech Recognition" over its examples)."""
    return _is_lead_in(units[i]) or (i + 1 < len(units) and units[i + 1].context == units[i].text)


def single(quote: Quote, scores: dict | None = None) -> Piece:
    """One unit as an answer: a table cell brings its row, a lead-in or parent item its items, a later
    sentence of a labelled paragraph the field from its start, a nested item names its parent."""
    ev, i = quote.evidence, quote.unit
    units = ev.units
    unit = units[i]
    if ROW_SEP in unit.text:
        lo, hi, text = _row_text(units, i)
        return Piece(ev, lo, hi, text)
    if _introduces(units, i):
        found = _items_of(units, i)
        if found:
            head, last, items = found
            listed = "; ".join(units[j].text.rstrip(".") for j in items[:MAX_ITEMS])
            return Piece(ev, head, last, f"{unit.text.rstrip().rstrip(':')}: {listed}.")
    if unit.context and not unit.item:  # a later sentence of a labelled paragraph
        lead = i
        while lead > 0 and units[lead - 1].context == unit.context and not units[lead - 1].item:
            lead -= 1
        if lead > 0 and units[lead - 1].text.startswith(f"{unit.context}:"):
            return Piece(ev, lead - 1, i, " ".join(u.text for u in units[lead - 1 : i + 1]))
    if unit.context and unit.item and not LABEL_RE.match(unit.text):
        parent = unit.context.rstrip(":")
        return Piece(ev, i, i, f"{parent}: {unit.text}" if len(parent) <= 60 else unit.text)
    if scores is not None and i + 1 < len(units) and not unit.item and not unit.context:
        nxt = units[i + 1]
        same_paragraph = f"{unit.text} {nxt.text}" in ev.chunk.text
        # A lead-in ("Companies aim to:") never joins as the next sentence: it would end the answer on a colon.
        follows = scores.get((id(ev), i + 1), 0.0) >= FOLLOW_RATIO * quote.score
        if same_paragraph and not nxt.item and not _introduces(units, i + 1) and follows:
            return Piece(ev, i, i + 1, f"{unit.text} {nxt.text}")
    return Piece(ev, i, i, unit.text)


# ----------------------------------------------------------------------------- the forms


def list_pieces(
    quotes: list[Quote], numbered: bool, asked_for: frozenset[str] = frozenset(), question: str = ""
) -> list[Piece] | None:
    """The items of the best-ranked list near the top, one piece an item, or None when no list answers.

    A sentence near the top that lists the asked-for things itself ("top conferences (NeurIPS, ICML,
    CVPR)") answers instead, with its own words."""
    if not quotes:
        return None
    best = quotes[0].score
    for q in quotes[:12]:
        if q.score < EXPLAIN_RATIO * best:
            break
        text = quote_text(q)
        if has_enumeration(text) and (q is quotes[0] or (asked_for and asked_for <= set(terms(text)))):
            piece = single(q)
            return [Piece(piece.evidence, piece.lo, piece.hi, piece.text)]
    # The list that answers: the best-ranked one near the top, or a little lower down, one whose head (its
    # lead-in, parent item or heading) names the things asked for ("challenges" and "Industry Challenges").
    chosen = None
    for q in quotes[:12]:
        own = numbered and q.evidence is quotes[0].evidence
        if q.score < (SAME_PASSAGE_RATIO if own else EXPLAIN_RATIO) * best:
            if q.score < SAME_PASSAGE_RATIO * best:
                break
            continue
        found = _best_level(q, question)
        if not found:
            continue
        if any(_prefix_match(t, _head_terms(q, found)) for t in asked_for):
            chosen = (q, found)
            break
        # Steps in the best unit's own passage answer at a lower score: the best unit is often what they
        # are the steps of ("Objective: Build a product image classifier" over its "Method:" steps).
        if chosen is None and (q.score >= NEAR_RATIO * best or own):
            chosen = (q, found)
    if chosen is not None:
        q, (head, _, items) = chosen
        units = q.evidence.units
        pieces = []
        if head not in items:
            pieces.append(Piece(q.evidence, head, head, _lead_line(units[head].text)))
        for n, j in enumerate(items[:MAX_ITEMS], start=1):
            # "Step 3: …" carries its own number
            bullet = f"{n}. " if numbered and not STEP_NUMBER_RE.match(units[j].text.lstrip()) else "- "
            pieces.append(Piece(q.evidence, j, j, units[j].text, bullet))
        if len(items) > MAX_ITEMS:
            pieces.append(Piece(q.evidence, items[MAX_ITEMS], items[-1], f"… and {len(items) - MAX_ITEMS} more", "- "))
        return pieces
    return None


def _head_terms(quote: Quote, level: tuple[int, int, list[int]]) -> set[str]:
    """The words a list is headed by: its lead-in or parent item, and the heading it sits under."""
    head, _, items = level
    text = quote.evidence.units[head].text if head not in items else ""
    return set(terms(f"{text} {quote.evidence.chunk.section.split(PATH_SEP)[-1]}"))


def _best_level(quote: Quote, question: str) -> tuple[int, int, list[int]] | None:
    """A parent item heads a list and sits in one: of the two, the list whose head (the parent, or the
    lead-in or heading over the outer list) speaks more of what the question asks ("What are the research
    focus areas?" wants the areas under that heading, not the points under the first area)."""
    units = quote.evidence.units
    inner = _items_of(units, quote.unit)
    outer = _items_of(units, quote.unit, as_member=True) if units[quote.unit].item else None
    if not inner or not outer or inner == outer:
        return inner or outer
    asked = set(terms(parse(question).asked_for or question))

    def overlap(level: tuple[int, int, list[int]]) -> int:
        head = level[0]
        text = units[head].text if head not in level[2] else quote.evidence.chunk.section.split(PATH_SEP)[-1]
        return sum(_prefix_match(t, set(terms(text))) for t in asked)

    return outer if overlap(outer) > overlap(inner) else inner


def _lead_line(text: str) -> str:
    text = text.rstrip()
    return text if text.endswith(":") else f"{text}:"


_SCOPE = r"(?:\s+(?:in|on|for|when|regarding|with respect to)\s+.*)?\s*\??$"  # "… in risk tolerance?"
SIDE_SPLIT_RE = re.compile(
    r"\b(?:compare|comparing|contrast|between|differ(?:ence|ences)?\s+between)\s+(.+?)\s+"
    rf"(?:and|with|to|versus|vs\.?)\s+(.+?){_SCOPE}"
    r"|^\s*(?:how|in what ways?|what)\s+(?:\w+\s+){0,3}?(?:does|do|is|are)\s+(.+?)\s+"
    rf"(?:differ|compare|contrast)\w*\s+(?:from|with|to)\s+(.+?){_SCOPE}"
    r"|(?:^|\s)([\w-]+(?:\s+[\w-]+)?)\s+(?:versus|vs\.?)\s+([\w-]+(?:\s+[\w-]+)?)"
    r"|\b(?:in|for|at|by)\s+([\w-]+)\s+(?:and|versus|vs\.?|compared\s+(?:with|to))\s+(?:in\s+|for\s+|at\s+|by\s+)?([\w-]+)"
    r"|^(.+?)\s+(?:compared\s+(?:with|to)|as\s+opposed\s+to|rather\s+than|than)\s+(.+?)\s*\??$"
    r"|\b(?:to|for|by|between)\s+([\w-]+)\s+and\s+(?:to\s+|for\s+|by\s+)?([\w-]+)",
    re.I,
)


def sides(question: str) -> list[frozenset[str]]:
    """The things a comparison sets side by side, as term sets ("in academia and in industry")."""
    found = SIDE_SPLIT_RE.search(question)
    if not found:
        return []
    groups = [g for g in found.groups() if g]
    out = [frozenset(terms(g)) for g in groups[:2]]
    if len(out) < 2:
        return []
    shared = out[0] & out[1]  # "the focus of academia" and "the focus of industry": only the sides differ
    out = [side - shared for side in out]
    return out if all(out) else []


def _unit_label(unit: Unit) -> str:
    """The label a unit speaks under: its own ("Academia: …"), a table cell's column ("Industry
    Perspective: …"), or its paragraph's."""
    head = unit.text.split(ROW_SEP, 1)[1] if ROW_SEP in unit.text else unit.text
    label = LABEL_RE.match(head)
    return label.group(1) if label else (unit.context if LABEL_RE.match(f"{unit.context}: x") else "")


def named_labels(question: str, quotes: list[Quote]) -> list[frozenset[str]]:
    """The sides of a comparison as the material labels them ("Academia:", "Industry Perspective"), when
    the question names two or more of them: parallel labels are how a text sets things side by side."""
    asked = set(terms(question))
    found: list[frozenset[str]] = []
    for q in quotes:
        label = frozenset(terms(_unit_label(q.evidence.units[q.unit])))
        named = frozenset(t for t in label if _prefix_match(t, asked))
        if named and all(not (named & f) for f in found):
            found.append(named)
    return found if len(found) >= 2 else []


def _mentions(side: frozenset[str], ev: Evidence, i: int) -> bool:
    unit = ev.units[i]
    head = unit.text.split(ROW_SEP, 1)[1] if ROW_SEP in unit.text else unit.text
    label = LABEL_RE.match(head)
    where = f"{label.group(1) if label else ''} {unit.context} {head[:80]}"
    here = set(terms(where))
    return any(_prefix_match(t, here) for t in side)


def _prefix_match(term: str, present: set[str]) -> bool:
    """"academia" and "academic", "industry" and "industrial": the same side in two word forms."""
    stem = term[:6] if len(term) > 6 else term
    return any(p == term or (len(stem) >= 5 and p.startswith(stem)) for p in present)


def comparison_pieces(question: str, quotes: list[Quote]) -> list[Piece] | None:
    """One piece a side: the best unit that speaks of each side; a table row gives its cells."""
    if not quotes:
        return None
    best = quotes[0]
    top = [q for q in quotes[:30] if q.score >= 0.7 * best.score]
    wanted = named_labels(question, top) or sides(question)
    row_quote = next((q for q in top[:3] if ROW_SEP in quote_text(q)), None)
    if wanted and (row_quote is None or not _row_has_sides(row_quote, wanted)):
        # a table row that holds both sides answers a comparison best, even a little lower down
        row_quote = next((q for q in top[:10] if ROW_SEP in quote_text(q) and _row_has_sides(q, wanted)), row_quote)
    if row_quote is not None and (not wanted or row_quote is best or _row_has_sides(row_quote, wanted)):
        ev = row_quote.evidence
        lo, hi, _ = _row_text(ev.units, row_quote.unit)
        label = ev.units[lo].text.split(ROW_SEP, 1)[0]
        cells = [Piece(ev, j, j, ev.units[j].text.split(ROW_SEP, 1)[1], "- ") for j in range(lo, hi + 1)]
        return [Piece(ev, lo, lo, f"{label}:"), *cells] if len(cells) >= 2 else None
    if not wanted:
        return None
    if all(_mentions(side, best.evidence, best.unit) for side in wanted) and ROW_SEP not in quote_text(best):
        return [single(best)]  # the best unit compares the sides itself
    # Each side's candidates: units that speak of it and of no other side ("The relationship between
    # academia and industry …" speaks of both and is neither side's answer).
    own = [[q for q in top if _mentions(side, q.evidence, q.unit) and not dangles(q)
            and not any(_mentions(other, q.evidence, q.unit) for other in wanted if other is not side)]
           for side in wanted]
    if not all(own):
        return None
    # Parallel structure: the sides are usually told in one place, so after the strongest side is
    # chosen, the others come from its passage when it speaks of them.
    lead = max(range(len(wanted)), key=lambda k: own[k][0].score)
    picks: dict[int, Quote] = {lead: own[lead][0]}
    for k in range(len(wanted)):
        if k != lead:
            same = [q for q in own[k] if q.evidence is picks[lead].evidence]
            picks[k] = same[0] if same else own[k][0]
    pieces = []
    for k in range(len(wanted)):
        piece = _field(picks[k]) or single(picks[k])
        if any(p.evidence is piece.evidence and p.lo <= piece.lo <= p.hi for p in pieces):
            return None
        pieces.append(Piece(piece.evidence, piece.lo, piece.hi, piece.text, "- "))
    return pieces


MAX_FIELD_CHARS = 300


def _field(quote: Quote) -> Piece | None:
    """A labelled paragraph whole ("Academia: Limited by budgets. May train for weeks. …"), from the
    unit that opens it, when it is short enough to stand as one side of a comparison."""
    ev, i = quote.evidence, quote.unit
    label = LABEL_RE.match(ev.units[i].text)
    if not label or ev.units[i].item:
        return None
    hi = i
    while hi + 1 < len(ev.units) and ev.units[hi + 1].context == label.group(1) and not ev.units[hi + 1].item:
        hi += 1
    text = " ".join(u.text for u in ev.units[i : hi + 1])
    return Piece(ev, i, hi, text) if hi > i and len(text) <= MAX_FIELD_CHARS else None


def dangles(quote: Quote) -> bool:
    """A lead-in whose items cannot be brought along ("Let's see how …:"): it says nothing by itself."""
    return single(quote).text.rstrip().endswith(":")


def _row_has_sides(quote: Quote, wanted: list[frozenset[str]]) -> bool:
    ev = quote.evidence
    lo, hi, _ = _row_text(ev.units, quote.unit)
    return all(any(_mentions(side, ev, j) for j in range(lo, hi + 1)) for side in wanted)


def explanation_pieces(quotes: list[Quote], limit: int = MAX_EXPLAIN_UNITS) -> list[Piece]:
    """Up to `limit` units that say different things (maximal marginal relevance), in reading order."""
    if not quotes:
        return []
    best = quotes[0].score
    # An explanation is mostly told in one paragraph: the best unit's passage may give more of it.
    home = quotes[0].evidence
    pool = [q for q in quotes[:15]
            if q.score >= (SAME_PASSAGE_RATIO if q.evidence is home else EXPLAIN_RATIO) * best]
    scores = {(id(q.evidence), q.unit): q.score for q in quotes}
    chosen: list[Piece] = [_field(pool[0]) or single(pool[0], scores)]
    vectors = [pool[0].evidence.unit_vectors[pool[0].unit]]
    covered = {(id(chosen[0].evidence), j) for j in range(chosen[0].lo, chosen[0].hi + 1)}
    candidates = pool[1:]
    while candidates and len(chosen) < limit:
        def mmr(q: Quote) -> float:
            sim = max(float(v @ q.evidence.unit_vectors[q.unit]) for v in vectors)
            return MMR_LAMBDA * q.score / best - (1 - MMR_LAMBDA) * sim

        pick = max(candidates, key=mmr)
        candidates.remove(pick)
        sim = max(float(v @ pick.evidence.unit_vectors[pick.unit]) for v in vectors)
        if (id(pick.evidence), pick.unit) in covered or sim >= REDUNDANT or dangles(pick):
            continue
        piece = single(pick, scores)
        span = {(id(piece.evidence), j) for j in range(piece.lo, piece.hi + 1)}
        if span & covered:
            continue
        covered |= span
        chosen.append(piece)
        vectors.append(pick.evidence.unit_vectors[pick.unit])
    return sorted(chosen, key=lambda p: (p.evidence.chunk.source, p.evidence.chunk.start, p.lo))


# ----------------------------------------------------------------------------- assembling


def assemble(pieces: list[Piece]) -> tuple[str, tuple[Citation, ...], tuple[Evidence, ...]]:
    """The answer text with [n] markers, and one citation a quoted passage, numbered by first use."""
    order: list[Evidence] = []
    spans: dict[int, tuple[int, int]] = {}
    for p in pieces:
        key = id(p.evidence)
        if key not in spans:
            order.append(p.evidence)
            spans[key] = (p.lo, p.hi)
        else:
            lo, hi = spans[key]
            spans[key] = (min(lo, p.lo), max(hi, p.hi))
    number = {id(ev): n for n, ev in enumerate(order, start=1)}
    lines: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        # Units run on as prose; one that is no sentence (a list item, a table cell) is set off by "; "
        # so that two items do not read as one ("… language models; Used in Google Search").
        text = prose[0]
        for previous, part in zip(prose, prose[1:]):
            text += (" " if SENTENCE_END_RE.search(previous) else "; ") + part
        lines.append(text)
        prose.clear()

    for k, p in enumerate(pieces):
        nxt = pieces[k + 1] if k + 1 < len(pieces) else None
        marker = f" [{number[id(p.evidence)]}]"
        # Sentences of one passage share one marker, placed after the last of them.
        shared = nxt is not None and not p.bullet and not nxt.bullet and nxt.evidence is p.evidence
        text = p.text if shared else f"{p.text}{marker}"
        if p.bullet or (nxt is not None and nxt.bullet):
            if prose:
                flush()
            lead_in = not p.bullet and p.text.endswith(":")  # its items carry the markers
            lines.append(f"{p.bullet}{p.text}{'' if lead_in else marker}")
        else:
            prose.append(text)
    if prose:
        flush()
    citations = tuple(
        Citation(
            rank=number[id(ev)],
            chunk_id=ev.chunk.chunk_id,
            source=ev.chunk.source,
            section=ev.chunk.section,
            text=ev.chunk.text,
            quote=quote_span(ev, *spans[id(ev)]),
            score=round(ev.score, 4),
            page=ev.chunk.page,
        )
        for ev in order
    )
    return "\n".join(lines), citations, tuple(order)


def also_retrieved(evidence: list[Evidence], used: tuple[Evidence, ...]) -> tuple[Citation, ...]:
    """The passages retrieved but not quoted, by retrieval rank, without quotes."""
    quoted = {ev.chunk.chunk_id for ev in used}
    return tuple(
        Citation(
            rank=n,
            chunk_id=ev.chunk.chunk_id,
            source=ev.chunk.source,
            section=ev.chunk.section,
            text=ev.chunk.text,
            quote="",
            score=round(ev.score, 4),
            page=ev.chunk.page,
        )
        for n, ev in enumerate((ev for ev in evidence if ev.chunk.chunk_id not in quoted), start=1)
    )


NUMBER_SPAN_RE = re.compile(r"(?<![\w.])\$?\d[\d,.]*(?:\s?(?:%|percent|ms|x|×|[kKmMbB]\b|million|billion))?")
NAME_SPAN_RE = re.compile(r"\b[A-Z][\w-]*(?:\s+(?:[A-Z][\w-]*|of|and|de|von))*\b")


def highlights(question: str, form: str, text: str) -> tuple[str, ...]:
    """The span of the answer that answers: a year, a number, a name, or the term defined."""
    kind = answer_type(question)
    body = re.sub(r"\s*\[\d+\]", "", text)
    if kind == "year":
        found = TIME_RE.search(body)
        # "in 911": the year, without the word that marked it as one
        return (re.sub(r"^\w+\.?\s+(?:the\s+)?(?=\d)", "", found.group(0)),) if found else ()
    if kind in ("number", "duration"):
        found = NUMBER_SPAN_RE.search(body)
        return (found.group(0).strip(),) if found else ()
    if kind == "name":
        asked = named_in(question)
        names = [m for m in NAME_SPAN_RE.finditer(body) if m.start() > 0 and not set(terms(m.group(0))) & asked]
        # The name that answers follows the question's own words in the sentence ("founded in 1987 by
        # Maria Lopez" for "Who founded …?"), not a name that comes before them.
        wanted = set(terms(question))
        anchors = [m.end() for m in re.finditer(r"[\w-]+", body) if set(terms(m.group(0))) & wanted]
        after = [m for m in names if anchors and m.start() > max(anchors)]
        after = after or [m for m in names if anchors and m.start() > min(anchors)]
        chosen = (after or names)[:1]
        return tuple(m.group(0) for m in chosen)
    if form == "definition":
        label = LABEL_RE.match(body)
        if label and set(terms(label.group(1))) & set(terms(question)):
            return (label.group(1),)
    return ()
