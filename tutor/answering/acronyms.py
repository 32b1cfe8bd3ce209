"""What an acronym stands for, read from the material itself.

"What does YOLO stand for?" is answered where the text writes the acronym beside its words:
"YOLO (You Only Look Once)" or "Convolutional Neural Networks (CNNs)". The words count only when
their initials spell the acronym (ignoring words such as "of" and "and"), so "Frameworks (PyTorch,
TensorFlow)" never passes for what "frameworks" stands for. A mixed-case acronym spells its
capitals: "ResNet (Residual Networks)".
"""

from __future__ import annotations

import re

STANDS_FOR_RE = re.compile(
    r"^\s*what\s+(?:does|do|did)\s+(?:an?\s+|the\s+)?(?:term\s+|acronym\s+|abbreviation\s+)?"
    r"[\"'“]?([A-Za-z][A-Za-z0-9-]*)[\"'”]?\s+(?:stand|stands)\s+for\b",
    re.I,
)
MINOR_WORDS = frozenset("a an and as at by for from in of on or the to with".split())
WORD_RE = re.compile(r"[A-Za-z0-9]+")
MAX_EXTRA_WORDS = 3  # how many more words than letters an expansion may have ("Department of the Interior")


def asked_acronym(question: str) -> str | None:
    """The acronym a "What does X stand for?" question asks about, or None. An acronym has two capitals
    or more ("YOLO", "ResNet"): "What does sustainability stand for?" asks what it is about."""
    match = STANDS_FOR_RE.match(question)
    return match.group(1) if match and sum(ch.isupper() for ch in match.group(1)) >= 2 else None


def stands_for(acronym: str, words: str) -> str:
    """The answer sentence: "YOLO stands for You Only Look Once.", "GANs stand for ..."."""
    verb = "stand" if _base(acronym) != acronym else "stands"
    return f"{acronym} {verb} for {words}."


def _base(acronym: str) -> str:
    """The acronym without a plural "s": "GANs" gives "GAN"."""
    return acronym[:-1] if len(acronym) > 2 and acronym.endswith("s") and acronym[-2].isupper() else acronym


def _letters(acronym: str) -> str:
    """The letters an acronym spells: all of "YOLO", the capitals of "ResNet"."""
    base = _base(acronym)
    capitals = "".join(ch for ch in base if ch.isupper())
    return (capitals if 1 < len(capitals) < len(base) else base).lower()


def _spells(letters: str, words: list[str]) -> bool:
    every = "".join(w[0] for w in words).lower()
    content = "".join(w[0] for w in words if w.lower() not in MINOR_WORDS).lower()
    return bool(words) and letters in (every, content)


def expansion(acronym: str, text: str) -> str | None:
    """The words `acronym` stands for, if `text` writes them beside it; else None."""
    base, letters = _base(acronym), _letters(acronym)
    if len(letters) < 2:
        return None
    name = rf"\b(?i:{re.escape(base)})s?"
    for match in re.finditer(rf"{name}\s*\(([^()]+)\)", text):  # "YOLO (You Only Look Once)"
        words = match.group(1).strip()
        if _spells(letters, WORD_RE.findall(words)):
            return words
    for match in re.finditer(rf"([^()]+?)\s*\(\s*{name}\s*\)", text):  # "Convolutional Neural Networks (CNNs)"
        words = re.findall(r"[A-Za-z0-9][\w-]*", match.group(1))
        for n in range(1, min(len(words), len(letters) + MAX_EXTRA_WORDS) + 1):  # the shortest tail that spells it
            tail = words[-n:]
            if _spells(letters, [part for word in tail for part in WORD_RE.findall(word)]):
                return " ".join(tail)
    return None
