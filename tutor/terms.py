"""Content terms of a text, for BM25 and for matching questions to sentences: lower-cased words
without stop words, stemmed by the Snowball English stemmer, with ordinals as digits ("third step"
matches "Step 3") and "vs" as "versus"."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import Stemmer
from stopwords import get_stopwords

# A common English stop list (the `stopwords` package's), and what it leaves in: modal and filler words
# ("can", "will", "just", "also", "now"), pieces of contractions ("don't" gives "don" and "t"), and the
# words of how a question is put ("Tell me", "Explain", "According to the article").
STOPWORDS = frozenset(get_stopwords("english")) - {""} | frozenset(
    """also can just now will s t don let lets tell explain describe name list give mention according article
    text course material""".split()
)
# A decimal ("4.0", "0.6") is one token, or "4.0" and "0.6%" would share the term "0".
TOKEN_RE = re.compile(r"\d+(?:\.\d+)+|[a-z0-9]+(?:[-'][a-z0-9]+)*")
# An acronym's plural ("CNNs", "GPUs"): its "s" goes before the case does, as lower-cased the stemmer cannot
# tell "gpus" from "virus", nor keeps "cnn" from "cnns".
ACRONYM_PLURAL_RE = re.compile(r"\b([A-Z][A-Z0-9]*[A-Z])s\b")


ORDINALS = {
    "first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5",
    "sixth": "6", "seventh": "7", "eighth": "8", "ninth": "9", "tenth": "10",
}
# Words read as another: an ordinal as its digit, an abbreviation as its word ("A vs B", "A versus B").
SAME_AS = {**ORDINALS, "vs": "versus"}


# Snowball's English stemmer ("Porter2"), from PyStemmer's C build. One instance holds state while it
# stems, so threads (the web UI's) take turns; the cache answers most calls without it.
SNOWBALL = Stemmer.Stemmer("english", 0)
SNOWBALL_LOCK = threading.Lock()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball English stem of a lower-cased word: 'models'/'model', 'training'/'trained'/'train',
    'generously'/'generous' and 'university'/'universities' meet."""
    with SNOWBALL_LOCK:
        return SNOWBALL.stemWord(word)


# Letters that Unicode does not decompose into a base letter and an accent.
PLAIN_LETTERS = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ð": "d", "þ": "th",
                               "ı": "i"})


NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")


def fold(text: str) -> str:
    """`text` lower-cased, without accents: "Schrödinger" and "Schrodinger", "Bolesław" and "Boleslaw" meet.
    Only its runs of non-ASCII letters are decomposed (each run once: a long passage holds few kinds)."""
    lowered = text.lower().translate(PLAIN_LETTERS)
    if lowered.isascii():
        return lowered
    return NON_ASCII_RE.sub(lambda m: _fold_run(m.group(0)), lowered)


@lru_cache(maxsize=65536)
def _fold_run(run: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", run) if not unicodedata.combining(c))


def terms(text: str) -> list[str]:
    """Content terms of `text`: lower-cased, without accents, stop words dropped, stemmed."""
    out = []
    for token in TOKEN_RE.findall(fold(ACRONYM_PLURAL_RE.sub(r"\1", text))):
        for part in token.replace("'", "-").split("-") if "-" in token or "'" in token else (token,):
            if part and part not in STOPWORDS:
                out.append(SAME_AS.get(part) or stem(part))
        if "-" in token:
            out.append(token)  # keep "real-world" whole as well as its parts
    return out
