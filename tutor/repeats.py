"""Find course documents that repeat another one, so that each text is indexed once.

A course folder often holds one text twice: a site export keeps each page as HTML and its source as
`_sources/page.rst.txt`, notes sit next to the HTML or PDF made from them, a page is saved under two
names. A document whose words nearly all (90 %) lie in word 8-grams ("shingles") that also occur in
one other document is left out, with a warning naming both. Words covered, rather than shingles
shared, are counted so that markup the other copy lacks (a reST role, a rendered signature) costs
only its own words, not the eight shingles around each. Shingles are hashed to 64-bit integers, so
memory stays linear in the text; candidates are found through a fixed 1-in-8 sample of the hashes
and then checked on all of them. Documents that only share boilerplate (a header, a footer, a
licence) keep most of their words to themselves and are both kept; short documents are never left out.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tutor.ingest import Document

SHINGLE_WORDS = 8
CONTAINED = 0.9  # share of a document's words covered by another for it to count as a repeat
# Two documents are copies of one text (and the better format is kept) when each covers this much of
# the other: a source and its rendering differ by the markup each lacks.
COPIES = 0.8
MIN_WORDS = 50  # shorter documents are never left out: short notes can legitimately overlap
SAMPLE_MASK = 7  # a shingle is in the sample when its hash's low bits are 0: one in eight
CANDIDATE_HITS = 0.25  # share of the sample another document must hold to be checked in full
MAX_CHECKED = 8  # most candidates checked in full for one document, those sharing most first
WORD_RE = re.compile(r"\w+")
# reST markup that the rendered page lacks: roles (":func:`len`"), link targets ("<https://...>`_"),
# labels (".. _intro:") and directive names (".. function::").
REST_MARKUP_RE = re.compile(r"(?<!\w):[\w:+.-]+:(?=`)|<[^<>\n]+>`_{0,2}|\.\. (?:_[^\n]*|[\w:-]+::)")
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Repeat:
    left_out: str  # the source of the document left out
    kept: str  # the source of the document that holds most of its text
    share: float  # the share of the left-out document's shingles found in the kept one

    def warning(self) -> str:
        return f"{self.left_out} repeats {self.kept}: left out ({self.share:.0%} of its text is there)."


REPEAT_WARNING_RE = re.compile(r" repeats .+: left out \(\d+% of its text is there\)\.$")
MAX_SHOWN = 8


def brief(warnings: Sequence[str], most: int = MAX_SHOWN) -> list[str]:
    """The warnings to print: at most `most` of the others, and one line for the repeats left out. A site
    export of a thousand pages can leave out hundreds; each stays in the index's documents.json."""
    repeats = [w for w in warnings if REPEAT_WARNING_RE.search(w)]
    others = [w for w in warnings if not REPEAT_WARNING_RE.search(w)]
    out = others[:most]
    if len(others) > most:
        out.append(f"… and {len(others) - most} more warnings about course files.")
    if len(repeats) > 2:
        out.append(f"{len(repeats)} documents repeat another document's text and were left out, such as: "
                   f"{repeats[0]}")
    else:
        out.extend(repeats)
    return out


def drop_repeats(documents: Sequence[Document]) -> tuple[list[Document], list[Repeat]]:
    """The documents without those that repeat another, in their order, and what was left out.

    Of two copies the one kept is the one with parsed structure (HTML, Markdown: headings give
    passages their paths), then a PDF (its passages cite pages), then plain text; then the longer
    text; then the first source in sorted order. A document that is only part of a larger one (a
    chapter saved apart from the book) goes whatever its format.
    """
    word_ids = _WordIds()
    shingles = [_Shingles.of(doc.text, doc.markup == "plain", word_ids) for doc in documents]
    postings: dict[int, list[int]] = {}
    for i, s in enumerate(shingles):
        for h in s.sample:
            postings.setdefault(h, []).append(i)
    dropped: dict[int, Repeat] = {}
    # Smaller documents first: in a chain a ⊂ b ⊂ c, a and b go and c stays; the last of a group always stays.
    for i in sorted(range(len(documents)), key=lambda i: (shingles[i].words, documents[i].source)):
        mine = shingles[i]
        if i in dropped or mine.words < MIN_WORDS or not mine.sample:
            continue
        counts = Counter(j for h in mine.sample for j in postings[h] if j != i and j not in dropped)
        for j, hits in counts.most_common(MAX_CHECKED):
            if hits < CANDIDATE_HITS * len(mine.sample):
                break
            share = mine.covered_by(shingles[j])
            if share < CONTAINED:
                continue
            back = shingles[j].covered_by(mine)
            if back >= COPIES and _rank(documents[i]) < _rank(documents[j]):
                # Copies of one text, and this is the better one: the other goes.
                dropped[j] = Repeat(documents[j].source, documents[i].source, back)
            else:
                dropped[i] = Repeat(documents[i].source, documents[j].source, share)
            break
    kept = [doc for i, doc in enumerate(documents) if i not in dropped]
    return kept, sorted(dropped.values(), key=lambda r: r.left_out)


def _rank(doc: Document) -> tuple:
    """Sorts the copy to keep first."""
    pdf = doc.source.lower().endswith(".pdf")
    structure = 0 if doc.markup != "plain" and not pdf else 1 if pdf else 2
    return structure, -len(doc.text), doc.source


@dataclass(frozen=True)
class _Shingles:
    words: int
    hashes: np.ndarray  # the hash of the 8-gram starting at each word, in text order
    distinct: np.ndarray  # the same, sorted and distinct
    sample: list[int]  # the distinct hashes in the fixed sample

    @classmethod
    def of(cls, text: str, plain: bool, word_ids: _WordIds) -> _Shingles:
        """`plain`: the text is a file's own, which may be reST source; parsed formats are rendered."""
        words = WORD_RE.findall((REST_MARKUP_RE.sub(" ", text) if plain else text).lower())
        n = len(words) - SHINGLE_WORDS + 1
        if n <= 0:
            empty = np.zeros(0, dtype=np.uint64)
            return cls(len(words), empty, empty, [])
        ids = np.fromiter(map(word_ids.__getitem__, words), dtype=np.uint64, count=len(words))
        h = np.zeros(n, dtype=np.uint64)
        for k in range(SHINGLE_WORDS):
            h = h * _MULTIPLIER + ids[k : k + n]  # wraps modulo 2**64
        h ^= h >> np.uint64(31)
        h *= _MULTIPLIER
        h ^= h >> np.uint64(29)
        distinct = np.sort(h)
        distinct = distinct[np.concatenate(([True], distinct[1:] != distinct[:-1]))]
        return cls(len(words), h, distinct, distinct[(distinct & np.uint64(SAMPLE_MASK)) == 0].tolist())

    def covered_by(self, other: _Shingles) -> float:
        """The share of these words that lie in some 8-gram that `other` holds too."""
        if not len(self.hashes):
            return 0.0
        if not len(other.distinct):
            return 0.0
        at = np.minimum(np.searchsorted(other.distinct, self.hashes), len(other.distinct) - 1)
        shared = (other.distinct[at] == self.hashes).astype(np.int32)
        # Word k lies in the 8-grams starting at k-7 .. k.
        covered = np.convolve(shared, np.ones(SHINGLE_WORDS, dtype=np.int32)) > 0
        return float(covered.sum()) / self.words


class _WordIds(dict):
    """A word's 64-bit id, computed once per word."""

    def __missing__(self, word: str) -> int:
        # crc32 rather than hash(): the same text gives the same sample on every run.
        self[word] = value = zlib.crc32(word.encode())
        return value
