"""Read a question for what it asks, as against what it takes as given.

"Given their small kitchens, what do home bakers focus on?" names the kitchens only to point at
the right place; the answer is about the focus. A sentence that repeats the given part ("Home
bakers are limited by small kitchens") matches more words than the answer does, so the answerer
weighs given words less. The rules are about English question syntax, not about any one text:

- given: examples that identify the subject ("bakeries such as Poilane sell"), a leading clause
  before a comma that opens with a subordinator or preposition ("Once the loaf is shaped, ...",
  "In the second recipe, ..."), and a trailing clause that opens with one ("... when they invent
  new dishes", "... compared with bakeries");
- order: "after", "afterwards", "comes next" ask for the item that follows the given one in a list
  of steps, "before" for the one that precedes it; "the last step" for the list's final item;
- the asked-for thing: the noun phrase after "what" or "which" ("what oven temperature").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tutor.chunking import LABEL_RE
from tutor.terms import STOPWORDS, stem, terms

_AUX = r"(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|must|might|may)"
_OPENERS = (
    r"given|once|apart from|aside from|besides|other than|except for|in addition to|beyond|after|before|"
    r"when|while|whereas|since|if|although|though|according to|in|for|within|during|as for|unlike|"
    r"compared (?:with|to)"
)
# A wh-word used as a subordinator is followed by a subject, not an auxiliary ("When a model drifts,"
# and not "When was AlexNet published?").
LEADING_RE = re.compile(rf"^\s*(?:{_OPENERS})\b(?!\s+{_AUX}\b)", re.I)
_WH = r"(?:what|which|who|whom|whose|how|why|where|when)\b"
WH_RE = re.compile(rf"\b{_WH}", re.I)
WH_START_RE = re.compile(rf"(?:(?:in|on|at|for|by|with|to|from)\s+)?{_WH}", re.I)
_TRAILING_OPENERS = (
    r"when|while|once|after|before|since|given|apart from|aside from|besides|according to|compared (?:with|to)|"
    r"unlike|whereas|as opposed to|rather than|instead of"
)
# Where a trailing clause may start: after a comma or a space, at an opener. Each candidate is then
# checked on its own (TRAILING_RE), which keeps the work linear in the question's length.
TRAILING_START_RE = re.compile(rf"(?:,\s*|\s+)(?=(?:{_TRAILING_OPENERS})\b)", re.I)
TRAILING_RE = re.compile(rf"(?:{_TRAILING_OPENERS})\b(?!\s+{_AUX}\b)\s+[^,?]+\??\s*", re.I)
# Examples that identify the subject ("labs such as DeepMind and Google AI do") say which, not what.
# Named examples run over capitalised words and "and"/"or"; others up to the next auxiliary or comma.
_NAMES = r"[A-Z][\w.-]*(?:\s+(?:(?:and|or|&)\s+)?[A-Z][\w.-]*)*"
EXAMPLES_RE = re.compile(
    rf"\s*,?\s*\b(?:(?:such as|including|e\.g\.)\s+(?:{_NAMES}|[^,?]+?(?=\s+(?:{_AUX}|does|do|did)\b|\s*[,?]|\s*$))"
    rf"|like\s+{_NAMES})"  # "like" is a verb too: only before names
)
# "Which breads are given as examples?", "How is it compared with ...?": a participle, not a clause.
PARTICIPLE_RE = re.compile(rf"\b{_AUX}\s+$", re.I)
PARTICIPLE_OPENERS = ("given", "compared")
AFTER_RE = re.compile(
    r"\b(?:after(?:wards)?|then|following|follows?|subsequently|(?:comes?|happens?)\s+next|next\s+(?:step|stage|phase))\b",
    re.I,
)
BEFORE_RE = re.compile(r"\b(?:before(?:hand)?|precedes?|preceding|prior to|previous(?:ly)?)\b", re.I)
# "Which step comes between mixing and shaping?": the two steps the answer sits between. Linear on any
# input: a match starts only at the beginning or after a "?", goes to the first "between" after it, and
# from there no two quantifiers can share a character, so nothing is tried twice.
BETWEEN_RE = re.compile(
    r"(?:^|\?)(?:[^?b]|(?!\bbetween\s)b)*\bbetween\s+(?=[^?\s](?:[^?]*\S)?\s+and\s+[^?\s])"
    r"([^?\s]+(?:\s+[^?\s]+)*)\s*(?:\?\s*)?$",
    re.I,
)
# "What do they do first?", "What happens last?", "What is done first?": a place in a list of steps, said
# with a verb rather than a noun.
DONE_AT_RE = re.compile(
    r"\b(?:do|does|did|doing|happens?|comes?|goes?|(?:is|are)\s+done)\s+(first|last|finally)\b"
    r"|\b(first|last|finally)\s+(?:do|does|did)\b",
    re.I,
)
LAST_RE = re.compile(r"\b(?:last|final)\s+(?:step|stage|phase|item|point|thing)\b", re.I)
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
# "the second thing it does", "the very first step": the n-th item of a list of steps.
ORDINAL_RE = re.compile(
    rf"\b(?:very\s+)?({'|'.join(_ORDINALS)})\s+(?:\w+\s+)?(?:step|stage|phase|item|point|thing)s?\b", re.I
)
STEP_NUMBER_RE = re.compile(r"\b(?:step|stage|phase)\s+(\d{1,3})\b", re.I)


def _position(question: str) -> int:
    """The place in a list of steps a question asks for ("the second step", "step 6"), 0 for none."""
    if ordinal := ORDINAL_RE.search(question):
        return _ORDINALS.index(ordinal.group(1).lower()) + 1
    if (done := DONE_AT_RE.search(question)) and (done.group(1) or done.group(2)).lower() == "first":
        return 1
    return int(numbered.group(1)) if (numbered := STEP_NUMBER_RE.search(question)) else 0


# One to three whole words (a word never ends inside a longer one, so a long token cannot be split
# in many ways), none of them an auxiliary or article.
_PHRASE = rf"((?:(?!{_AUX}\b|the\b|an?\b|of\b|for\b)[a-z][\w-]*(?![\w-])\s*){{1,3}}?)"
_END = r"\s*\??\s*$"
# "what learning rate is ...", "which kinds of flour are ...", "what is the oven temperature for ..."
ASKED_FOR_RE = re.compile(
    rf"^\s*(?:\w+\s+)?(?:what|which)\s+(?:(?:kinds?|types?|sorts?|forms?)\s+of\s+)?{_PHRASE}"
    rf"\s*(?:{_AUX}|does|do|did)\b"
    rf"|^\s*(?:what|which)\s+(?:is|are|was|were)\s+(?:the|an?)\s+{_PHRASE}"
    rf"(?:\s*(?:of|for|in|on|at|by|used|that|which|to|an?|the|this|its|their|you|we|they|it)\b|{_END})",
    re.I,
)
# Words that frame a question ("what kind of", "given ...", "apart from ...") rather than carry its content.
FRAME_TERMS = frozenset(
    terms("kind type sort form given apart aside besides compared unlike opposed rather instead prior")
)
# Words that say where to look or how to answer rather than what is asked for.
SEQUENCE_TERMS = frozenset(
    terms(
        "step steps stage phase happen happens come comes follow follows next afterwards say says must workflow "
        "process done right immediately directly sit sits lie lies"
    )
)
# "Besides accuracy and recall, which measures ...?": the named things are not the answer.
EXCLUDING_RE = re.compile(
    r"^\s*(?:besides|apart from|aside from|other than|except(?: for)?|in addition to|beyond)\b", re.I
)
# The end of a sentence: a semicolon, or a full stop or "!" before a capital (not "e.g. Google").
SENTENCE_END_RE = re.compile(r";\s*|(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)[.!]\s+(?=[\"'(]?[A-Z])")
# "What does industry do instead?": the statement before it is what the answer is set against.
INSTEAD_RE = re.compile(r"\b(?:instead|by contrast|in contrast|on the other hand)\b", re.I)
CONTRAST_RE = re.compile(
    r"^\s*(?:compared (?:with|to)|unlike|whereas|as opposed to|rather than|instead of)\b", re.I
)


@dataclass(frozen=True)
class QuestionParts:
    """A question read by `parse`: each part is taken from its text."""

    asked: str  # what the answer must be about
    given: str  # what the question takes as known: it points at the place, not at the answer
    order: int  # +1: the item after the given one; -1: the item before it; 0: neither
    last: bool  # asks for the final item of a list ("the last step")
    asked_for: str  # the noun phrase after "what"/"which", if any ("learning rate")
    contrast: str = ""  # what the answer is set against ("compared with bakeries"): not the answer
    excluded: str = ""  # what a "besides X" or "apart from X" clause rules out (also given)
    between: str = ""  # "which step comes between X and Y": "X and Y" (still part of what is asked)
    position: int = 0  # "the second step", "step 2": 2; the n-th item of a list of steps (0: none asked)


def _leading_clause(text: str) -> int | None:
    """Where the question proper starts after a leading given clause ("Once the loaf is shaped, what
    ...", "Besides flour, salt and water, which ..."), or None. The clause may hold commas of its own:
    it ends at the first comma followed by a wh-word, else at the first comma with one later on."""
    if not LEADING_RE.match(text):
        return None
    commas = [m.end() for m in re.finditer(r",\s*", text)]
    starts = [c for c in commas if WH_START_RE.match(text, c)]
    return starts[0] if starts else next((c for c in commas if WH_RE.search(text, c)), None)


def _statement_end(text: str) -> int | None:
    """Where the question proper starts after statements that set the scene ("Academics publish
    papers. What does industry do instead?"), or None: the start of the last sentence that holds a
    wh-word, when no question mark comes before it."""
    for boundary in reversed(list(SENTENCE_END_RE.finditer(text))):
        if "?" in text[: boundary.start()]:
            return None
        if WH_RE.search(text, boundary.end()):
            return boundary.end()
    return None


def _trailing_clause(text: str) -> int | None:
    """Where a trailing given clause starts ("... when they invent new dishes"), or None."""
    for start in TRAILING_START_RE.finditer(text):
        head, tail = text[: start.start()], text[start.end() :]
        if not re.search(r"\w", head) or not TRAILING_RE.fullmatch(tail):
            continue
        if tail.lower().startswith(PARTICIPLE_OPENERS) and PARTICIPLE_RE.search(head + " "):
            continue
        return start.end()
    return None


def body_start(question: str) -> int:
    """Where the question proper starts, after statements or a leading given clause (0 when none)."""
    text = question.strip()
    cut = _statement_end(text) or 0
    lead = _leading_clause(text[cut:])
    return cut + (lead or 0)


@lru_cache(maxsize=4096)
def parse(question: str) -> QuestionParts:
    """Split a question into what it asks and what it takes as given, and read its order words and
    asked-for noun phrase."""
    asked, given, contrast, excluded = question.strip(), [], [], []
    # "The project aimed for a 0.5% gain; what did it report?" or "... gain. What did it report?": a
    # statement, then the question. With "instead" the statement is what the answer is set against.
    cut = _statement_end(asked)
    if cut is not None:
        statement, asked = asked[:cut].strip(" ;"), asked[cut:].strip()
        (contrast if INSTEAD_RE.search(asked) else given).append(statement)

    def file_clause(clause: str) -> None:  # given, or set against the answer; "besides X" rules X out
        (contrast if CONTRAST_RE.match(clause) else given).append(clause)
        if EXCLUDING_RE.match(clause):
            excluded.append(EXCLUDING_RE.sub("", clause).strip())

    cut = _leading_clause(asked)
    if cut is not None:
        file_clause(asked[:cut].rstrip(" ,"))
        asked = asked[cut:]
    trail = _trailing_clause(asked)
    if trail is not None:
        file_clause(asked[trail:].strip(" ?"))
        asked = asked[:trail].rstrip(" ,")
    examples = EXAMPLES_RE.search(asked)
    if examples:
        given.append(examples.group(0).strip(" ,"))
        asked = (asked[: examples.start()] + asked[examples.end() :]).replace(" ,", ",")
    between = BETWEEN_RE.search(asked)
    given_text = " ".join(given)
    order = 0
    if given_text and AFTER_RE.search(question):
        order = 1
    elif given_text and BEFORE_RE.search(question):
        order = -1
    found = ASKED_FOR_RE.search(asked)
    return QuestionParts(
        asked=asked.strip(),
        given=given_text.strip(),
        order=order,
        last=bool(LAST_RE.search(question))
        or bool((done := DONE_AT_RE.search(question)) and (done.group(1) or done.group(2)).lower() != "first"),
        asked_for=(found.group(1) or found.group(2) or "").strip() if found else "",
        contrast=" ".join(contrast),
        excluded=" ".join(excluded),
        between=between.group(1) if between else "",
        position=_position(question),
    )


WHICH_RE = re.compile(r"^\s*(?:\w+\s+)?which\s+((?:[\w-]+\s+){0,2}[\w-]+)", re.I)


@lru_cache(maxsize=4096)
def which_kinds(question: str) -> tuple[frozenset[str], ...]:
    """What a "which X ...?" question may ask for an instance of, as term sets: "Which industry challenge
    concerns ...?" gives the terms of "industry challenge concerns", "industry challenge" and "industry"
    (where the noun phrase ends is not known, so each is tried)."""
    match = WHICH_RE.match(parse(question).asked)
    words = match.group(1).split() if match else []
    if not words or words[0].lower() in STOPWORDS:
        return ()
    kinds = (frozenset(terms(" ".join(words[:n]))) - FRAME_TERMS for n in range(len(words), 0, -1))
    return tuple(kind for kind in kinds if kind)


# A given clause that says where to look ("In the key takeaways, ...", "... according to the
# comparison of publication versus deployment"); the words that name a kind of place do not count.
PLACE_RE = re.compile(r"^\s*(?:in|according to|under|within|from)\b", re.I)
PLACE_WORDS = frozenset(terms("section part chapter list example examples described"))
TABLE_TERMS = frozenset(terms("table tables"))


@dataclass(frozen=True)
class Place:
    """Where a question says to look: words of a heading path, and whether the place is a table."""

    words: frozenset[str] = frozenset()
    table: bool = False

    def holds(self, heading: frozenset[str], has_table: bool) -> bool:
        """Whether a passage with these heading terms (and a table or not) is the place. "According to the
        comparison table" is a table: a passage under "Detailed Comparison" without one is not it."""
        return bool(self.words) and self.words <= heading and (has_table or not self.table)


@lru_cache(maxsize=4096)
def named_place(question: str) -> Place:
    """The place a question says to look in; empty when it names none."""
    given = parse(question).given
    if not PLACE_RE.match(given):
        return Place()
    words = frozenset(terms(given))
    return Place(words - PLACE_WORDS - TABLE_TERMS, bool(words & TABLE_TERMS))


# ---------------------------------------------------------------- the kind of answer asked for

WHO_RE = re.compile(
    r"^\s*(?:who|whom|whose)\b|\bwhich\s+(?:person|people|researchers?|scientists?|universit(?:y|ies)|compan(?:y|ies))\b",
    re.I,
)
# "When was it proposed?" asks for a date; "When does industry call a project a success?" for a condition.
WHEN_RE = re.compile(r"^\s*when\s+(?:was|were|did|will)\b|\b(?:what|which)\s+year\b", re.I)
COUNT_RE = re.compile(r"\bhow\s+(?:many|much)\b|\bwhat\s+(?:percentage|number|amount)\b", re.I)
DURATION_QUESTION_RE = re.compile(r"\bhow\s+long\b|\bhow\s+much\s+time\b", re.I)
# Asked-for things whose answer is a measured value ("what learning rate", "what accuracy"): the
# numeric classes of the usual question-type taxonomies, less those a phrase can answer ("budget").
QUANTITY_RE = re.compile(
    r"\b(?:rate|size|accuracy|percentage|percent|ratio|temperature|latency|score|epochs?|dimensions?|"
    r"parameters?|precision|recall|throughput|probability|frequency|fine|fee|price|salary)$"
    r"|^(?:maximum|minimum|max|min|average|mean|median|total)\b",
    re.I,
)
FORMULA_RE = re.compile(r"\b(?:formula|equation)s?$", re.I)

# A year: 1500-2099 alone (a bare 1200 is as likely a count), any year after "in", "by", "since" … ("in 911"),
# or of an era ("44 BC"). "What year" asks for one.
YEAR_RE = re.compile(
    r"\b(?:1[5-9]|20)\d\d\b|"
    r"\b(?i:in|by|from|until|till|since|after|before|around|circa|c\.)\s+(?:the\s+)?(?i:year\s+)?\d{3,4}\b|"
    r"\b\d{1,4}\s*(?:BC|BCE|AD|CE)\b|\bAD\s*\d{1,4}\b"
)
# A point in time, which is what "when" asks for: a year, a decade ("the 1050s", "the '60s"), a century or
# millennium ("the 10th and 11th centuries"), a day ("June 5", "5 June").
_CENTURY_ORDINALS = (
    r"\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
    r"thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty-first"
)
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
TIME_RE = re.compile(
    YEAR_RE.pattern + r"|\b\d{2,3}0s\b|['’]\d0s\b|"
    rf"\b(?i:(?:(?:{_CENTURY_ORDINALS})\s*(?:and|or|to|-|–)\s*)?(?:{_CENTURY_ORDINALS})[\s-]+(?:century|centuries|millennium|millennia))\b|"
    rf"\b(?:{_MONTHS})\s+\d{{1,2}}\b|\b\d{{1,2}}\s+(?:{_MONTHS})\b"
)
ASKS_YEAR_RE = re.compile(r"\b(?:what|which)\s+year\b", re.I)
# A number, not the 10 of "CIFAR-10"; in words too ("millions of users").
_NUMBER_WORDS = (
    r"hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|twice|thrice|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
)
NUMBER_RE = re.compile(rf"(?<![\w-])\d|\b(?:{_NUMBER_WORDS})\b", re.I)
DURATION_RE = re.compile(
    r"\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|\d+\s?(?:ms|s|h|min))\b", re.I
)
# "Who built it?" - "academics": people named by what they are, not by name.
PEOPLE_RE = re.compile(
    r"\b(?:academics|researchers|scientists|engineers|students|professors|developers|practitioners|people|"
    r"teams|inventors|founders|authors)\b",
    re.I,
)
PATTERNS = {"year": TIME_RE, "number": NUMBER_RE, "duration": DURATION_RE, "formula": re.compile("=")}
# Without one of these, a quote does not answer the question; a duration can be an event ("until
# deployment"), so it only counts in a passage's favour.
REQUIRED_TYPES = frozenset({"year", "number", "formula", "name"})


@lru_cache(maxsize=4096)
def answer_type(question: str) -> str | None:
    """The kind of answer a question asks for: "year", "number", "duration", "formula", "name" or None.
    Read from the asked part: "When the dough is kneaded, what comes next?" asks for no year."""
    parts = parse(question)
    asked, asked_for = parts.asked, parts.asked_for
    if WHEN_RE.search(asked):
        return "year"
    if DURATION_QUESTION_RE.search(asked):  # before "how much": "how much time" asks for a duration
        return "duration"
    if COUNT_RE.search(asked) or QUANTITY_RE.search(asked_for):
        return "number"
    if FORMULA_RE.search(asked_for):
        return "formula"
    if WHO_RE.search(asked):
        return "name"
    return None


PLURAL_ACRONYM_RE = re.compile(r"^[A-Z]{2,}s$")
TWICE_RE = re.compile(r"\b(?:twice|thrice)\b", re.I)
EXAMPLES_GROUP_RE = re.compile(r"\([^()]*,[^()]*\)")
COUNTED_RE = re.compile(r"\bhow\s+many\s+((?:[\w-]+\s*){1,3})", re.I)


def counted(question: str) -> frozenset[str]:
    """What "how many" counts, as content terms ("How many handwritten digit images are ..." gives
    handwritten, digit, image): the words after it, up to the first function word."""
    match = COUNTED_RE.search(question)
    if not match:
        return frozenset()
    words = []
    for word in match.group(1).split():
        if word.lower() in STOPWORDS:
            break
        words.append(word)
    return frozenset(terms(" ".join(words)))


def measured(question: str) -> frozenset[str]:
    """What a question for a measured value asks to be measured, as a term: "What batch size was
    used?" gives {"size"}; none when it asks for no such value."""
    words = parse(question).asked_for.split()
    return frozenset(terms(words[-1])) if words and QUANTITY_RE.search(words[-1]) else frozenset()


# A number and the word after it, if any: what it counts or measures ("200 epochs", "0.6% improvement").
MEASURE_RE = re.compile(
    rf"(?:(?<![\w.-])\d[\d.,]*|\b(?:{_NUMBER_WORDS})\b)\s*(?:%|percent\b)?(?=\s*([A-Za-z][\w-]*)|)", re.I
)
UNITS = frozenset(terms("degrees percent ms seconds minutes hours days weeks months years kb mb gb tb"))


def _measures_other(text: str, things: frozenset[str]) -> bool:
    """Whether every number in `text` counts or measures something other than `things`: "Train for
    200 epochs" gives no batch size, while "Bake at 230 degrees" may be the temperature."""
    for match in MEASURE_RE.finditer(text):
        word = (match.group(1) or "").lower()
        if NUMBER_RE.fullmatch(word):
            continue  # "two hundred degrees": the last number word says what is measured
        if not word or word in STOPWORDS or stem(word) in UNITS or stem(word) in things:
            return False
    return True


# A capitalised word that does not start a sentence (or follow a label's colon): a name.
NAME_RE = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-zA-Z]+")


@lru_cache(maxsize=4096)
def named_in(question: str) -> frozenset[str]:
    """The terms of the names a question uses ("When was the Transformer proposed?" gives
    {"transformer"})."""
    return frozenset(t for word in NAME_RE.findall(question.strip()) for t in terms(word))


def has_answer_type(kind: str, text: str, question: str) -> bool:
    """Whether `text` holds an answer of the kind; a name must be one the question does not already use,
    and a number must count or measure what the question asks about ("200 epochs" does not say how
    many images, nor "0.6% improvement" what the acceptance rate is)."""
    if kind == "name":
        text = LABEL_RE.sub("", text)  # "Academic Origin: ..." - a field's label names nobody
        asked = set(terms(question))
        # "Frameworks (PyTorch, TensorFlow, Keras)" does not say who made Keras: examples listed with
        # the one the question names are its siblings, not an answer about it.
        text = EXAMPLES_GROUP_RE.sub(lambda m: "" if asked & set(terms(m.group(0))) else m.group(0), text)
        # "GPUs", "CNNs": a plural is a kind of thing, not somebody's name.
        names = [w for w in NAME_RE.findall(text) if not PLURAL_ACRONYM_RE.match(w)]
        return any(stem(w.lower()) not in asked for w in names + PEOPLE_RE.findall(text))
    if kind == "number" and (things := counted(question)) and not things & set(terms(text)):
        # "How many times …?" and "… won the cup twice": the word counts the times itself.
        if not ("time" in things and TWICE_RE.search(text)):
            return False
    if kind == "number" and (things := measured(question)) and not things & set(terms(text)):
        if _measures_other(text, things):
            return False
    if kind == "year" and ASKS_YEAR_RE.search(question):
        return bool(YEAR_RE.search(text))  # "in the 1950s" does not say what year
    return bool(PATTERNS[kind].search(text))
