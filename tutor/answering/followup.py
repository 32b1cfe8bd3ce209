"""Make a follow-up question stand on its own, using the conversation before it.

"And in industry?" after "What is the primary goal in academia?" means "What is the primary goal
in industry?". An elliptical follow-up (it starts with "and", "what about", "how about", or is a
bare phrase of a few words) takes the previous question and swaps in the new phrase: in place of
the previous question's phrase after the same preposition, or of its last prepositional phrase.
Anything else is a full question and is used as it stands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

LEAD_RE = re.compile(r"^\s*(?:and|but|also|so|ok(?:ay)?|what about|how about|what of|and what about)\b[\s,]*", re.I)
PREPOSITIONS = ("in", "for", "at", "on", "of", "about", "with", "from", "to", "among", "between", "by")
QUESTION_WORDS = re.compile(r"^\s*(what|why|how|who|whom|which|when|where|is|are|do|does|did|can|could|should)\b", re.I)


MAX_TURNS = 8  # a follow-up refers to the last few questions; older turns cannot change its meaning
MAX_TURN_CHARS = 2000


def previous_questions(history: Sequence | None) -> list[str]:
    """User turns from a history given as strings, (user, assistant) pairs, or role/content messages.

    Only the last MAX_TURNS are kept, each cut to MAX_TURN_CHARS and made encodable (a lone surrogate
    from undecodable input becomes "?"), since a history arrives from outside, unchecked."""
    out: list[str] = []
    for turn in history or ():
        if isinstance(turn, str):
            out.append(turn)
        elif isinstance(turn, dict):
            if turn.get("role") == "user" and isinstance(turn.get("content"), str):
                out.append(turn["content"])
        elif isinstance(turn, (list, tuple)) and turn and isinstance(turn[0], str):
            out.append(turn[0])
    out = [q[:MAX_TURN_CHARS].encode("utf-8", "replace").decode("utf-8") for q in out[-MAX_TURNS:]]
    return [q for q in out if q.strip()]


def contextualize(question: str, history: Sequence | None) -> str:
    """The question rewritten to stand alone, or unchanged when it already does (or there is no history)."""
    previous = previous_questions(history)
    if not previous:
        return question
    lead = LEAD_RE.match(question)
    rest = (question[lead.end() :] if lead else question).strip().rstrip("?.! ").strip()
    if not rest:
        return question
    full_question = QUESTION_WORDS.match(rest) and len(rest.split()) > 3
    elliptical = (lead or len(rest.split()) <= 3) and not full_question
    if not elliptical:
        return question
    base = contextualize(previous[-1], previous[:-1]).strip().rstrip("?.! ")
    if QUESTION_WORDS.match(rest):
        return f"{base}? {question}"  # "Why?", "How so?": ask it about the previous question
    first = rest.split()[0].lower()
    # Swap the phrase after the same preposition ("in academia" -> "in industry"), else the last one.
    same = re.search(rf"\b{first}\s+[^,;?.!]+$", base, re.I) if first in PREPOSITIONS else None
    if same:
        return f"{base[: same.start()]}{rest}?"
    last = re.search(rf"\b({'|'.join(PREPOSITIONS)})\s+[^,;?.!]+$", base, re.I)
    if last and first not in PREPOSITIONS:
        return f"{base[: last.start()]}{last.group(1)} {rest}?"
    return f"{base} {rest}?"
