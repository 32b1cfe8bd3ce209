"""Make a follow-up question stand on its own, using the conversation before it.

A complete question is taken as it stands, however short ("What is drift?", "Define ROI"). Only two
kinds of turn are read against the previous question:

- elliptical: it opens with "and", "but", "what about", "how about" … and is not a full question of its
  own, or it is a bare phrase with no question word ("In industry?"). The new phrase takes the place of
  the previous question's phrase after the same preposition, or of its last prepositional phrase:
  "And in industry?" after "What is the primary goal in academia?" is "What is the primary goal in
  industry?". A bare "Why?" or "How so?" asks it of the previous question.
- referring: it points back with a pronoun ("How do academics deal with it?", "Why does that
  matter?"). The pronoun is replaced by the previous question's subject where the previous question
  names one plainly ("What is model drift?" gives "model drift"); otherwise the previous question is
  added as what the new one is about.

Greetings and thanks are never a topic: a follow-up after "Thanks!" refers to the last real question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from tutor.answering.forms import is_smalltalk
from tutor.terms import STOPWORDS

# Embeds short texts as normalised vectors (the Tutor's embedding model); used to find which word of the
# previous question a bare phrase replaces ("What are the academic challenges?" + "What about industry?").
Embed = Callable[[list[str]], np.ndarray]
SWAP_SIMILARITY = 0.2  # below this no word of the previous question is the new phrase's counterpart
# Each word a run has past its first: a longer run nearly as similar is the fuller counterpart. Chosen on
# the conversations/, conversations2/ and conversations3/ sets together (0.05: 112 of 134 follow-ups, 0.08:
# 114, 0.1: 114, 0.15: 107); on conversations4/, held out, 0.08 gives 25 of 30 against 23 at 0.05.
LONGER_SPAN_BONUS = 0.08

LEAD_RE = re.compile(r"^\s*(?:and|but|also|so|ok(?:ay)?|what about|how about|what of|and what about)\b[\s,]*", re.I)
PREPOSITIONS = ("in", "for", "at", "on", "of", "about", "with", "from", "to", "among", "between", "by", "during",
                "before", "after", "under", "without", "within", "across", "into", "through", "via", "against")
# Words that ask how much, never a thing a follow-up swaps ("How much memory …?" + "And a TPU?").
AMOUNT_WORDS = frozenset({"much", "many", "lot", "lots", "often", "far"})
_AUX = r"(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|must|might|may)"
QUESTION_START_RE = re.compile(
    rf"^\s*(?:(?:what|why|how|who|whom|whose|which|when|where)\b|{_AUX}\b|(?:define|explain|describe|list|name|"
    r"give|summari[sz]e|compare|tell|show)\b)",
    re.I,
)
BARE_WH_RE = re.compile(
    rf"^\s*(?:why|how|how\s+so|how\s+come|why\s+not|in\s+what\s+way|what\s+for)"
    rf"(?:\s+{_AUX}\s+(?:that|this|it|so))?\s*\??\s*$",
    re.I,
)
# A pronoun that points back out of the question ("deal with it", "why does that matter").
# "that" or "this" before a noun is a determiner ("that model"), and "that" after a noun a relative
# ("the model that drifts"): only the pronoun uses count.
REFERRING_RE = re.compile(
    r"\b(?:it|its|they|them|their|theirs|these|those|he|she|him|her|his)\b"
    rf"|(?:^|\b(?:{_AUX}|about|with|of|for|on|by|from|to|does|do|did|why|how|what|explain|describe)\s+)(?:that|this)"
    r"(?=\s*(?:[?.!,]|$|\s+(?:matter|mean|work|happen|help|differ|affect|compare|change|lead|cause)s?\b"
    r"|\s+(?:a|an|the|so|such|really|still|always|ever|not|true|bad|good|hard|important|necessary|possible|"
    r"[a-z]+(?:ful|ant|ent|ible|able|ary|ic|ous|ive))\b))",
    re.I,
)
# "What is X?", "Define X", "What does X mean?", "Explain X": where a question names its subject plainly.
SUBJECT_RES = (
    re.compile(rf"^\s*(?:what|who)\s+{_AUX}\s+(?:an?\s+|the\s+)?(?P<s>[^?,]+?)\s*\??\s*$", re.I),
    re.compile(r"^\s*(?:define|explain|describe)\s+(?:an?\s+|the\s+)?(?P<s>[^?,]+?)\s*[?.!]?\s*$", re.I),
    re.compile(rf"^\s*(?:what|how)\s+{_AUX}\s+(?P<s>[^?,]+?)\s+(?:mean|work|do)\s*\??\s*$", re.I),
    re.compile(r"^\s*tell\s+me\s+about\s+(?:an?\s+|the\s+)?(?P<s>[^?,]+?)\s*[?.!]?\s*$", re.I),
)
MAX_TURNS = 8  # a follow-up refers to the last few questions; older turns cannot change its meaning
MAX_TURN_CHARS = 2000


def previous_questions(history: Sequence | None) -> list[str]:
    """User turns from a history given as strings, (user, assistant) pairs, or role/content messages.

    Only the last MAX_TURNS are kept, each cut to MAX_TURN_CHARS and made encodable (a lone surrogate
    from undecodable input becomes "?"), since a history arrives from outside, unchecked. Greetings and
    thanks are left out: they are never what a follow-up refers to."""
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
    return [q for q in out if q.strip() and not is_smalltalk(q)]


def subject(question: str) -> str | None:
    """The thing a question is plainly about ("What is model drift?" gives "model drift"), if it says."""
    for pattern in SUBJECT_RES:
        if found := pattern.match(question):
            return found.group("s").strip()
    return None


REVERSE_RE = re.compile(
    r"^(?:the\s+)?(?:other\s+way\s+a?round|vice\s+versa|reverse|opposite(?:\s+direction)?|converse(?:ly)?)$", re.I
)


def _reverse(base: str, embed: Embed | None) -> str | None:
    """"And the other way around?": the previous question with its two most alike words swapped
    ("What does industry contribute to academia?" becomes "What does academia contribute to industry?")."""
    head = base.split("?")[0]
    words = [m for m in re.finditer(r"[A-Za-z][\w-]*", head)
             if m.group(0).lower() not in STOPWORDS and not QUESTION_START_RE.match(m.group(0)) and m.start() > 0]
    if embed is None or len(words) < 2:
        return None
    vectors = embed([m.group(0) for m in words])
    similarity = vectors @ vectors.T - 2 * np.eye(len(words))
    i, j = sorted(np.unravel_index(int(np.argmax(similarity)), similarity.shape))
    a, b = words[i], words[j]
    return f"{head[: a.start()]}{b.group(0)}{head[a.end() : b.start()]}{a.group(0)}{head[b.end():]}?"


def _swap(base: str, rest: str, embed: Embed | None = None) -> str:
    """The previous question with the new phrase in place of its counterpart: the phrase after the same
    preposition, else the word of the previous question most like it in meaning, else its last
    prepositional phrase."""
    if REVERSE_RE.match(rest) and (reversed_ := _reverse(base, embed)):
        return reversed_
    first = rest.split()[0].lower()
    same = re.search(rf"\b{re.escape(first)}\s+[^,;?.!]+$", base, re.I) if first in PREPOSITIONS else None
    if same:
        return f"{base[: same.start()]}{rest}?"
    if embed is not None and first not in PREPOSITIONS:
        swapped = _swap_counterpart(base, rest, embed)
        if swapped:
            return swapped
    last = re.search(rf"\b({'|'.join(PREPOSITIONS)})\s+[^,;?.!]+$", base, re.I)
    if last:
        phrase = rest if first in PREPOSITIONS else f"{last.group(1)} {rest}"
        return f"{base[: last.start()]}{phrase}?"
    return f"{base} {rest}?"


def _spans(text: str) -> list[tuple[int, int]]:
    """Runs of one to three content words of a question (no stop words or words of amount inside), as
    character spans."""
    words = [m for m in re.finditer(r"[A-Za-z0-9][\w-]*", text)
             if m.group(0).lower() not in STOPWORDS | AMOUNT_WORDS and not QUESTION_START_RE.match(m.group(0))
             and m.start() > 0]
    spans = []
    for i, first in enumerate(words):
        for j in range(i, min(i + 3, len(words))):
            if j > i and not re.fullmatch(r"\s+", text[words[j - 1].end() : words[j].start()]):
                break
            spans.append((first.start(), words[j].end()))
    return spans


def _swap_counterpart(base: str, rest: str, embed: Embed) -> str | None:
    """`base` with its run of words most similar to `rest` replaced by `rest`, when one is similar enough
    ("the academic approach" for "the industry approach", "misconception 2" for "misconception 3")."""
    head = base.split("?")[0]  # "Who proposed X? When": the question proper, not what was asked of it
    phrase = re.sub(r"^(?:the|a|an)\s+", "", rest, flags=re.I)
    if len(phrase.split()) > 4:
        return None
    # Words the phrase shares with the question stay ("the industry approach" after "the academic
    # approach" changes only "academic"); the rest of the phrase replaces its counterpart.
    kept = {w.lower() for w in re.findall(r"[\w-]+", head)}
    new = " ".join(w for w in phrase.split() if w.lower() not in kept) or phrase
    spans = [(a, b) for a, b in _spans(head) if not {w.lower() for w in head[a:b].split()} & set(new.lower().split())
             and not (new != phrase and {w.lower() for w in head[a:b].split()} & {w.lower() for w in phrase.split()})]
    if not spans:
        return None
    vectors = embed([new] + [head[a:b] for a, b in spans])
    # A longer run that is nearly as similar is the fuller counterpart ("research focus areas").
    longer = np.array([LONGER_SPAN_BONUS * (len(head[a:b].split()) - 1) for a, b in spans])
    similarity = vectors[1:] @ vectors[0] + longer
    best = int(np.argmax(similarity))
    if similarity[best] < SWAP_SIMILARITY:
        return None
    a, b = spans[best]
    return f"{head[:a]}{new}{head[b:]}?"


def _refer(question: str, base: str) -> str:
    """The question with its pronoun replaced by the previous question's subject, or with the previous
    question added as what it is about."""
    topic = subject(base)
    if topic:
        def replace(m: re.Match) -> str:
            word = m.group(0).strip()
            head = m.group(0)[: len(m.group(0)) - len(m.group(0).lstrip())]
            pronoun = word.split()[-1].lower()
            lead = word[: len(word) - len(pronoun)] if word.lower().endswith(pronoun) else ""
            owner = pronoun in ("its", "their", "theirs", "his", "her")
            return f"{head}{lead}{topic}{chr(39) + 's' if owner else ''}"

        rewritten, n = REFERRING_RE.subn(replace, question, count=1)
        if n:
            return rewritten
    return f"{question.rstrip(' ?.!')} (about: {base.rstrip(' ?.!')})?"


def contextualize(question: str, history: Sequence | None, embed: Embed | None = None) -> str:
    """The question rewritten to stand alone, or unchanged when it already does (or there is no history).
    `embed` lets a bare phrase replace its counterpart in meaning ("academic" for "industry")."""
    previous = previous_questions(history)
    if not previous or is_smalltalk(question):
        return question
    lead = LEAD_RE.match(question)
    rest = (question[lead.end() :] if lead else question).strip().rstrip("?.! ").strip()
    if not rest:
        return question
    base = contextualize(previous[-1], previous[:-1], embed).strip().rstrip("?.! ")
    if BARE_WH_RE.match(rest) or (re.match(r"^\s*(?:why|how)\s+(?!" + _AUX + r"\b)", rest, re.I)
                                  and len(rest.split()) <= 3):
        return f"{base}? {rest[0].upper()}{rest[1:]}?"  # "Why?": asked of the previous question
    complete = bool(QUESTION_START_RE.match(rest)) and len(rest.split()) >= 2
    if not complete and (lead or len(rest.split()) <= 4):
        return _swap(base, rest, embed)
    if REFERRING_RE.search(question) and not re.search(r",|\band\b", question[: REFERRING_RE.search(question).start()]):
        return _refer(question, base)
    if lead and not complete:
        return _swap(base, rest, embed)
    return question
