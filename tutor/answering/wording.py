"""Read a question in the course's own words: a word the course never uses is replaced by the course's
way of writing the same thing, when there is exactly one plain candidate.

Students rarely write a term as the material does. Before a question is answered, each of its words that
no passage uses is looked up, in this order:

- an acronym whose words the course writes, capitalised, without it ("WWII" and "World War II");
- a number in words or digits ("three" and "3"), a unit in short or in full ("km" and "kilometres", "%" and
  "percent");
- British and American spelling ("optimise" and "optimize", "colour" and "color");
- a word run together or split ("finetuning" and "fine-tuning", "dataset" and "data set");
- a typing slip: a word of five letters or more, one or two edits from exactly one word of the course
  ("convolutoinal"), or a four-letter word with two letters swapped ("zoen"). A real word ("deceleration",
  "unimportant", "Gordon": one of pyspellchecker's English word list or of the embedding model's vocabulary)
  is never "corrected": a question about something the course does not mention must still be declined.

The question as rewritten is what gets answered, and what the answer reports as `interpreted_as`, so the
student sees how it was read. Nothing is looked up while every word of the question is known, so most
questions cost nothing; the course's word list is built on the first question that needs it.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from tutor.terms import STOPWORDS, fold, terms

# A decimal ("0.5%", "1,000") is one word: its "0" is no number to spell out.
WORD_RE = re.compile(r"\d+(?:[.,]\d+)+%?|[^\W_]+(?:[-'][^\W_]+)*%?")
COURSE_WORD_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
ACRONYM_RE = re.compile(r"^[A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*s?$")
# A run of capitalised words (with "of", "and"… between them, and Roman numerals) whose initials may be
# an acronym's letters: "World War II", "Bank of England".
CAPITALISED_RUN_RE = re.compile(
    r"\b[A-Z][a-z]+(?:\s+(?:(?:of|and|for|the|on|in)\s+)?(?:[A-Z][a-z]+|[IVX]{1,4}\b))+"
)
MINOR = frozenset({"of", "and", "for", "the", "on", "in"})
ROMAN = {"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"}

NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13",
    "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
    "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
    "seventy": "70", "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000",
}
# Units written in short and in full; the first full form the course uses is the one taken.
UNITS = {
    "km": ("kilometres", "kilometers", "kilometre", "kilometer"),
    "m": ("metres", "meters", "metre", "meter"),
    "cm": ("centimetres", "centimeters", "centimetre", "centimeter"),
    "mm": ("millimetres", "millimeters", "millimetre", "millimeter"),
    "kg": ("kilograms", "kilogram", "kilos"),
    "g": ("grams", "gram"),
    "mi": ("miles", "mile"),
    "ft": ("feet", "foot"),
    "lb": ("pounds", "pound"),
    "lbs": ("pounds",),
    "mph": ("miles per hour",),
    "kph": ("kilometres per hour", "kilometers per hour"),
    "%": ("percent", "per cent"),
    "yr": ("years", "year"),
    "yrs": ("years",),
    "hr": ("hours", "hour"),
    "hrs": ("hours",),
    "min": ("minutes", "minute"),
    "mins": ("minutes",),
    "sec": ("seconds", "second"),
    "secs": ("seconds",),
    "ms": ("milliseconds", "millisecond"),
    "gb": ("gigabytes", "gigabyte"),
    "mb": ("megabytes", "megabyte"),
    "tb": ("terabytes", "terabyte"),
    "c": ("celsius", "degrees celsius"),
    "f": ("fahrenheit", "degrees fahrenheit"),
}
FULL_UNITS = {full: short for short, fulls in UNITS.items() for full in fulls}
# British and American spellings, as pairs of endings that turn one into the other.
SPELLINGS = (
    ("isation", "ization"), ("ising", "izing"), ("ised", "ized"), ("ises", "izes"), ("ise", "ize"),
    ("yse", "yze"), ("ysed", "yzed"), ("ysing", "yzing"), ("our", "or"), ("ours", "ors"),
    ("tre", "ter"), ("tres", "ters"), ("elling", "eling"), ("elled", "eled"), ("ogue", "og"),
    ("ence", "ense"),
)
DIGRAPHS = ("ae", "oe")
UNIT_RE = re.compile(r"(\d[\d.,]*)?([a-z%]+)")
MIN_TYPO_LENGTH = 5  # shorter words are too often another real word one letter away
LONG_TYPO_LENGTH = 8  # from this length two edits still read as a slip


@dataclass(frozen=True)
class Change:
    """One word of the question and what it was read as."""

    written: str
    read_as: str
    why: str  # "acronym", "number", "unit", "spelling", "compound", "typo"


def english_words() -> frozenset[str]:
    """Words a student may mean as written: pyspellchecker's English word list (160,000 words, names
    among them) and the whole words of the embedding model's vocabulary."""
    from spellchecker import SpellChecker

    from tutor.embeddings import model_path

    found = set(SpellChecker(language="en", distance=1).word_frequency.dictionary)
    try:
        lines = (Path(model_path()) / "vocab.txt").read_text(encoding="utf-8").split("\n")
    except OSError:
        lines = []
    found.update(w for w in lines if w.isalpha() and len(w) > 1)
    return frozenset(found)


INFLECTIONS = ("s", "es", "ed", "d", "ing", "ly")


def _add_runs(text: str, found: dict[str, str]) -> None:
    """Add the initials of each run of capitalised words in `text`, with the run ("wwii": "World War II")."""
    for match in CAPITALISED_RUN_RE.finditer(text):
        words = match.group(0).split()
        # Every stretch of the run that starts and ends on a capitalised word: "After World War II"
        # opens a sentence, and "World War II" is the name in it.
        for i, first in enumerate(words):
            for j in range(i + 1, len(words)):
                if first.lower() in MINOR or words[j].lower() in MINOR:
                    continue
                stretch = words[i : j + 1]
                initials = "".join(
                    w.lower() if w.isupper() and w.lower() in ROMAN else w[0].lower()
                    for w in stretch
                    if w.lower() not in MINOR
                )
                found.setdefault(initials, " ".join(stretch))


class CourseWords:
    """What the course writes, for reading questions in its words.

    `texts` are the course's passages (headings included); `knows(term)` says whether a content term
    (`tutor.terms.terms`) occurs in the course, as the BM25 index does; `vocabulary` is the set of words
    never corrected (by default the embedding model's)."""

    def __init__(
        self,
        texts: Callable[[], Iterable[str]],
        knows: Callable[[str], bool],
        vocabulary: Callable[[], frozenset[str]] = english_words,
    ) -> None:
        self._texts = texts
        self._knows = knows
        self._vocabulary = vocabulary
        self._lock = threading.Lock()
        self._data: tuple[Counter, np.ndarray, dict[str, str], bool] | None = None

    # ------------------------------------------------------------------ what the course holds, built once

    def warm(self) -> None:
        """Build the course's and the English word lists now (the chat does, in the background, once it
        serves) rather than on the first question that needs them: a few seconds on a 9 MB course."""
        self._built  # noqa: B018
        self._known_words  # noqa: B018

    @property
    def _built(self) -> tuple[Counter, np.ndarray, dict[str, str], bool]:
        if self._data is None:
            with self._lock:  # one thread builds; a question arriving meanwhile waits for it
                if self._data is None:
                    self._data = self._build()
        return self._data

    def _build(self) -> tuple[Counter, np.ndarray, dict[str, str], bool]:
        """The course's words with their counts, its pairs of neighbouring words (as sorted 64-bit hashes:
        a few MB for the whole Python documentation, where its text would be 20), its runs of capitalised
        words by their initials, and whether it writes "%"."""
        counts: Counter = Counter()
        pairs: set[int] = set()
        runs: dict[str, str] = {}
        percent = False
        for text in self._texts():
            percent = percent or "%" in text
            words = COURSE_WORD_RE.findall(fold(text))
            counts.update(words)
            pairs.update(hash(f"{a} {b}") for a, b in zip(words, words[1:]))
            _add_runs(text, runs)
        return counts, np.array(sorted(pairs), dtype=np.int64), runs, percent

    @property
    def counts(self) -> Counter:
        return self._built[0]

    @cached_property
    def _by_length(self) -> dict[int, list[str]]:
        """The course's words a slip may be of, by length: a word of another length by more than the edits
        allowed cannot be one."""
        found: dict[int, list[str]] = {}
        for w in self.counts:
            if len(w) >= MIN_TYPO_LENGTH - 1 and w.isalpha():
                found.setdefault(len(w), []).append(w)
        return found

    @cached_property
    def _known_words(self) -> frozenset[str]:
        return self._vocabulary()

    @property
    def _runs(self) -> dict[str, str]:
        return self._built[2]

    def _phrase_in_course(self, words: str) -> bool:
        """Whether the course writes `words` (lower case) one after another: each neighbouring pair of
        them is a pair of the course's."""
        pairs = self._built[1]
        split = words.split()
        for a, b in zip(split, split[1:]):
            key = hash(f"{a} {b}")
            at = int(np.searchsorted(pairs, key))
            if at == len(pairs) or pairs[at] != key:
                return False
        return len(split) > 1 or bool(self.counts.get(words))

    def _term_known(self, word: str) -> bool:
        found = terms(word)
        return bool(found) and all(self._knows(t) for t in found)

    def _joined_known(self, word: str) -> bool:
        """Whether the course writes `word` (one word, or two joined by a hyphen, which the term index
        also holds whole)."""
        return self._knows(word) if "-" in word else self._term_known(word)

    def _unknown(self, word: str) -> bool:
        """Whether `word` has content terms and the course lacks one of them (a stop word is never unknown)."""
        return bool(terms(word)) and not self._term_known(word)

    # ------------------------------------------------------------------ reading a question

    def rewrite(self, question: str) -> tuple[str, tuple[Change, ...]]:
        """The question in the course's words, and what was changed (nothing when every word is known)."""
        tokens = list(WORD_RE.finditer(question))
        unknown = [i for i, m in enumerate(tokens) if self._unknown(m.group(0))]
        if not unknown and not self._split_pairs(tokens, quick=True):
            return question, ()
        # A question mostly in words neither English nor the course's is in another language: its words
        # are not slips ("¿Qué es la deriva del modelo?" does not ask about a "model").
        plain = sum(m.group(0).isalpha() for m in tokens)
        foreign = [i for i in unknown if tokens[i].group(0).isalpha() and not self._real(fold(tokens[i].group(0)))]
        slips = len(foreign) <= 1 or 4 * len(foreign) <= plain
        edits: list[tuple[int, int, Change]] = []  # start, end, change
        joined = set()
        for i, read_as in self._split_pairs(tokens):
            a, b = tokens[i], tokens[i + 1]
            edits.append((a.start(), b.end(), Change(f"{a.group(0)} {b.group(0)}", read_as, "compound")))
            joined.update((i, i + 1))
        for i in unknown:
            if i in joined:
                continue
            match = tokens[i]
            found = self._read(match.group(0), question[: match.start()], slips)
            if found is not None:
                edits.append((match.start(), match.end(), Change(match.group(0), *found)))
        if not edits:
            return question, ()
        pieces, last = [], 0
        for start, end, change in sorted(edits, key=lambda e: e[0]):
            pieces += [question[last:start], change.read_as]
            last = end
        pieces.append(question[last:])
        return "".join(pieces), tuple(change for _, _, change in sorted(edits, key=lambda e: e[0]))

    def _read(self, word: str, before: str, slips: bool = True) -> tuple[str, str] | None:
        for why, reader in (
            ("acronym", self._acronym),
            ("number", self._number),
            ("unit", self._unit),
            ("spelling", self._spelling),
            ("compound", self._compound),
            ("typo", self._typo),
        ):
            if why == "typo" and not slips:
                continue
            found = reader(word, before)
            if found:
                return found, why
        return None

    def _acronym(self, word: str, before: str) -> str | None:
        if not ACRONYM_RE.match(word):
            return None
        base = word[:-1] if word.endswith("s") and word[-2].isupper() else word
        letters = "".join(ch for ch in base if ch.isupper() or ch.isdigit()).lower()
        # Initials are weak evidence on their own: three letters at least, and words written as a name.
        # (Any lower-case phrase with those initials was tried: it read near misses as course phrases.)
        return self._runs.get(letters) if len(letters) >= 3 else None

    def _number(self, word: str, before: str) -> str | None:
        lowered = word.lower()
        if lowered in NUMBER_WORDS and self._term_known(NUMBER_WORDS[lowered]):
            return NUMBER_WORDS[lowered]
        for name, digits in NUMBER_WORDS.items():
            if digits == lowered and self._term_known(name):
                return name
        return None

    def _unit(self, word: str, before: str) -> str | None:
        match = UNIT_RE.fullmatch(word.lower())
        if match is None:
            return None
        number, unit = match.groups()
        prefix = f"{number} " if number else ""
        # A one-letter unit ("m", "g") is a unit only after a number.
        if unit in UNITS and (len(unit) > 1 or number or re.search(r"\d\s*$", before)):
            for full in UNITS[unit]:
                if self._phrase_in_course(full):
                    return f"{prefix}{full}"
        short = FULL_UNITS.get(unit)
        if short == "%" and self._built[3]:
            return f"{number}%" if number else "%"
        if short and len(short) > 1 and self.counts.get(short):
            return f"{prefix}{short}"
        return None

    def _spelling(self, word: str, before: str) -> str | None:
        lowered = word.lower()
        if len(lowered) < MIN_TYPO_LENGTH:
            return None
        candidates = [lowered[: -len(old)] + new for a, b in SPELLINGS for old, new in ((a, b), (b, a))
                      if lowered.endswith(old)]
        # "encyclopaedia", "oestrogen": a British digraph inside the word (only that way round: where an
        # American "e" would take its "a" or "o" cannot be told).
        candidates += [lowered.replace(digraph, "e", 1) for digraph in DIGRAPHS if digraph in lowered]
        found = next((c for c in candidates if c != lowered and self._term_known(c)), None)
        return _like(word, found) if found else None

    def _compound(self, word: str, before: str) -> str | None:
        lowered = word.lower()
        if "-" in lowered:
            if self._term_known(lowered.replace("-", "")):
                return word.replace("-", "")
            spaced = word.replace("-", " ")
            return spaced if self._phrase_in_course(lowered.replace("-", " ")) else None
        if not lowered.isalpha() or len(lowered) < 6:
            return None
        for cut in range(3, len(lowered) - 2):
            left, right = lowered[:cut], lowered[cut:]
            if not (self._term_known(left) and self._term_known(right)):
                continue  # both halves must be words of the course
            if self._joined_known(f"{left}-{right}"):
                return f"{word[:cut]}-{word[cut:]}"
            if self._phrase_in_course(f"{left} {right}"):
                return f"{word[:cut]} {word[cut:]}"
        return None

    def _typo(self, word: str, before: str) -> str | None:
        lowered = fold(word)
        if len(lowered) < MIN_TYPO_LENGTH - 1 or not lowered.isalpha() or self._real(lowered):
            return None
        if any(ch.isupper() for ch in word[1:]):
            return None  # "DataFrame", "ResNet": a name as its maker wrote it, not a slip
        if len(lowered) < MIN_TYPO_LENGTH:
            # A short word is read only as two of its letters swapped ("zoen", "zone"): one letter more, less
            # or other is too often another word.
            swaps = {lowered[:i] + lowered[i + 1] + lowered[i] + lowered[i + 2 :] for i in range(len(lowered) - 1)}
            found = [w for w in swaps if w != lowered and self.counts.get(w)]
            return _like(word, found[0]) if len(found) == 1 else None
        from rapidfuzz import process
        from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

        limit = 2 if len(lowered) >= LONG_TYPO_LENGTH else 1
        choices = [w for n in range(len(lowered) - limit, len(lowered) + limit + 1) for w in self._by_length.get(n, ())]
        # Plain edit distance is bit-parallel and fast; a swap of two letters costs it two, so it sifts with
        # one edit to spare and the slower distance that counts a swap as one decides.
        near = process.extract(lowered, choices, scorer=Levenshtein.distance, score_cutoff=limit + 1, limit=None)
        found = [(w, d, None) for w, _, _ in near if (d := DamerauLevenshtein.distance(lowered, w)) <= limit]
        if not found:
            return None
        best = min(distance for _, distance, _ in found)
        nearest = [w for w, distance, _ in found if distance == best]
        # Two course words equally near ("lattice"/"latices") leave the slip unread: better to say so.
        stems = {tuple(terms(w)) for w in nearest}
        if len(stems) != 1:
            return None
        chosen = max(nearest, key=lambda w: self.counts[w])
        # A name with letters added or cut at its end is another name ("Carpathia", "Carpathian").
        if word[:1].isupper() and (chosen.startswith(lowered) or lowered.startswith(chosen)):
            return None
        return _like(word, chosen)

    def _real(self, word: str) -> bool:
        """Whether `word` is an English word or name as written (or inflected: "attaches")."""
        known = self._known_words
        return word in known or any(
            word.endswith(ending) and word[: -len(ending)] in known for ending in INFLECTIONS
        )

    def _split_pairs(self, tokens: list[re.Match], quick: bool = False) -> list[tuple[int, str]]:
        """Two words the course writes as one ("data set" and "dataset", "fine tuning" and "fine-tuning"),
        where the course never writes them apart."""
        found = []
        for i in range(len(tokens) - 1):
            a, b = fold(tokens[i].group(0)), fold(tokens[i + 1].group(0))
            if not (a.isalpha() and b.isalpha()) or min(len(a), len(b)) < 2 or a in STOPWORDS or b in STOPWORDS:
                continue  # "who led" is not "wholed", nor "part is" "partis"
            if quick and not (self._unknown_pair(a, b)):
                continue
            if self._phrase_in_course(f"{a} {b}"):
                continue
            for joint in ("-", ""):
                if self._joined_known(f"{a}{joint}{b}"):
                    found.append((i, f"{tokens[i].group(0)}{joint}{tokens[i + 1].group(0)}"))
                    break
        return found

    def _unknown_pair(self, a: str, b: str) -> bool:
        """Cheap first look: whether the course has the two words joined at all (its word counts are
        only built once some question needs them, so this asks the term index instead)."""
        return self._joined_known(f"{a}-{b}") or self._joined_known(f"{a}{b}")


def _like(written: str, read_as: str) -> str:
    """`read_as` in the case the student wrote: "Convolutoinal" gives "Convolutional"."""
    if written.isupper() and len(written) > 1:
        return read_as.upper()
    if written[:1].isupper():
        return read_as[:1].upper() + read_as[1:]
    return read_as
