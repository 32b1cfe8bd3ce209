"""Content terms of a text, for BM25 and for matching questions to sentences: lower-cased words
without stop words, lightly stemmed, with ordinals as digits ("third step" matches "Step 3") and "vs"
as "versus"."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her
    here hers him his how i if in into is it its itself just me more most my no nor not now of off on once
    only or other our out over own same she should so some such than that the their them then there these
    they this those through to too under until up very was we were what when where which while who whom why
    will with would you your yours s t don let lets tell explain describe name list give mention according
    article text course material""".split()
)
# A decimal ("4.0", "0.6") is one token, or "4.0" and "0.6%" would share the term "0".
TOKEN_RE = re.compile(r"\d+(?:\.\d+)+|[a-z0-9]+(?:[-'][a-z0-9]+)*")


ORDINALS = {
    "first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5",
    "sixth": "6", "seventh": "7", "eighth": "8", "ninth": "9", "tenth": "10",
}
# Words read as another: an ordinal as its digit, an abbreviation as its word ("A vs B", "A versus B").
SAME_AS = {**ORDINALS, "vs": "versus"}


# Singulars that end in "s" ("class", "focus", "analysis", "bias"): their "s" is not a plural's.
SINGULAR_ENDINGS = ("ss", "us", "is", "ias")


def stem(word: str) -> str:
    """A light suffix stripper: enough to match 'models'/'model' and 'training'/'trained'/'train', and
    'focus'/'focuses'/'focused'. A final 'e' goes too, so that 'challenge'/'challenges' and
    'scale'/'scaled'/'scaling' meet."""
    for suffix, min_len in (("ies", 5), ("ing", 6), ("ed", 5), ("es", 5), ("s", 4)):
        if word.endswith(suffix) and len(word) >= min_len and not word.endswith(SINGULAR_ENDINGS):
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    if len(word) >= 4 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    return word


# Letters that Unicode does not decompose into a base letter and an accent.
PLAIN_LETTERS = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ð": "d", "þ": "th",
                               "ı": "i"})


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """`text` lower-cased, without accents: "Schrödinger" and "Schrodinger", "Bolesław" and "Boleslaw" meet."""
    lowered = text.lower().translate(PLAIN_LETTERS)
    if lowered.isascii():
        return lowered
    return "".join(c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c))


def terms(text: str) -> list[str]:
    """Content terms of `text`: lower-cased, without accents, stop words dropped, lightly stemmed."""
    out = []
    for token in TOKEN_RE.findall(fold(text)):
        for part in token.replace("'", "-").split("-") if "-" in token or "'" in token else (token,):
            if part and part not in STOPWORDS:
                out.append(SAME_AS.get(part) or stem(part))
        if "-" in token:
            out.append(token)  # keep "real-world" whole as well as its parts
    return out
