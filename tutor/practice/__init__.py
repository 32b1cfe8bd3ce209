"""Practice: the tutor asks the questions, grades the student's answers against the course, and explains
with citations.

    items = tutor.practice(10, seed=7)                 # PracticeItems spread over the course
    grade = tutor.grade(items[0], "performance degrades as the data changes")
    grade.verdict, grade.score, grade.feedback        # "correct", 0.83, "Correct. …"

    session = PracticeSession(tutor, seed=7)         # never the same question twice
    first, then = session.next(5), session.next(5)

Questions come from the course's structure (`generate`), answers are graded by meaning and key terms
(`grade`); `quiz` runs a quiz in a terminal and writes a printable exam.
"""

from __future__ import annotations

import random
import threading
import weakref
from collections.abc import Iterable

from tutor.errors import TutorError
from tutor.practice.generate import Candidate, Course, course_candidates, item_of, kinds_of, pick
from tutor.practice.models import KINDS, VERDICTS, Grade, PracticeItem

__all__ = ["KINDS", "VERDICTS", "Grade", "PracticeItem", "PracticeSession", "grade", "practice", "sections"]

MAX_ITEMS = 200

_lock = threading.Lock()
# Per loaded index (the store does not change under a Tutor), dropped with it.
_cache: dict[int, tuple[weakref.ref, Course, list[Candidate], list[str]]] = {}


def _course(tutor) -> tuple[Course, list[Candidate], list[str]]:
    """The course read and its questions made, once per loaded index."""
    store = tutor.store
    with _lock:
        hit = _cache.get(id(store))
        if hit is None or hit[0]() is not store:
            course = Course(store.chunks, store.units, store.unit_chunk, store.titles)
            candidates = course_candidates(course)
            ids = [item_of(course, c).id for c in candidates]
            hit = _cache[id(store)] = (weakref.ref(store), course, candidates, ids)
            weakref.finalize(store, _cache.pop, id(store), None)
        return hit[1], hit[2], hit[3]


def sections(tutor) -> list[str]:
    """The parts of the course practice can be limited to, in course order, each with questions to ask."""
    _, candidates, _ = _course(tutor)
    return list(dict.fromkeys(c.group for c in candidates))


def practice(
    tutor,
    n: int = 10,
    seed: int | None = None,
    section: str | None = None,
    kinds: Iterable[str] | str | None = None,
    seen: Iterable[str] = (),
) -> list[PracticeItem]:
    """`n` questions on the course (fewer if it holds fewer), spread over its sections, none whose id is in
    `seen`. The same seed gives the same questions; `section` keeps those whose heading path or document
    title contains it (any case); `kinds` keeps those kinds (see KINDS)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise TutorError(f"The number of questions must be a whole number from 1 to {MAX_ITEMS}, not {n!r}.")
    n = min(n, MAX_ITEMS)
    wanted = kinds_of(kinds)
    course, candidates, ids = _course(tutor)
    keep = [i for i, c in enumerate(candidates) if c.kind in wanted]
    where = (section or "").strip().lower()
    if where:
        keep = [i for i in keep if where in candidates[i].section.lower() or where in candidates[i].group.lower()]
        if not keep:
            raise TutorError(
                f"No section matches {section!r}. Sections: " + "; ".join(sections(tutor)[:20]) + "."
            )
    if not keep:
        if kinds is not None:
            raise TutorError(f"The course holds nothing to ask {', '.join(wanted)} questions about; try other kinds.")
        raise TutorError("The course holds no definition, list, table, steps or sentence of a size to ask about.")
    rng = random.Random(seed)
    chosen = pick([candidates[i] for i in keep], n, rng, seen, [ids[i] for i in keep])
    return [item_of(course, candidates[keep[j]]) for j in chosen]


class PracticeSession:
    """Questions handed out in turns without repeats: each `next` call continues from the last."""

    def __init__(self, tutor, seed: int | None = None, section: str | None = None,
                 kinds: Iterable[str] | str | None = None) -> None:
        self.tutor = tutor
        self.section = section
        self.kinds = kinds
        self.seen: set[str] = set()
        self._rng = random.Random(seed)

    def next(self, n: int = 1) -> list[PracticeItem]:
        items = practice(self.tutor, n, seed=self._rng.randrange(2**32), section=self.section, kinds=self.kinds,
                         seen=self.seen)
        self.seen.update(item.id for item in items)
        return items


def grade(tutor, item: PracticeItem | dict, answer: object) -> Grade:
    from tutor.practice.grading import grade_answer

    if isinstance(item, dict):
        item = PracticeItem.from_dict(item)
    if not isinstance(item, PracticeItem):
        raise TutorError("grade() takes a PracticeItem (or its to_dict()) and the student's answer.")
    return grade_answer(item, answer, tutor.retriever.embed)
