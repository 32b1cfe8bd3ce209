"""Grade a student's answer to a practice item against the course's answer, and say why.

Two kinds of evidence, as a teacher marking by hand would use: the key terms of the course's answer
(numbers, names, listed items; stemmed, and forgiving of spelling slips by a difflib ratio) and the
meaning (the cosine of the embedded answers). A paraphrase that keeps the key ideas is correct; naming
two of three items is partly right. What is never correct: an empty answer, an answer off the topic,
one that only repeats the question, and one that copies the passage's words but changes the key fact
(a number, a name, or the sides of a comparison swapped).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from difflib import SequenceMatcher

import numpy as np
from text_to_num import alpha2digit

from tutor.practice.generate import LIST_ASK
from tutor.practice.models import Grade, PracticeItem
from tutor.terms import STOPWORDS, terms

Embed = Callable[[list[str]], np.ndarray]

MAX_ANSWER_CHARS = 4000
FUZZY = 0.8  # difflib ratio at which two words are the same word misspelt
# Definition and order answers: the share of key terms named, and the cosine with the course's answer.
CORRECT_RECALL, CORRECT_SIM = 0.6, 0.4  # most key terms, and not about something else
CLOSE_SIM, CLOSE_RECALL = 0.65, 0.34  # the same meaning in other words, some key terms
SAME_SIM = 0.8  # the same meaning
SUBSET_RECALL = 0.8  # a definition answered with fewer of its own words than this share is only part of it
PARTLY_RECALL, PARTLY_SIM = 0.25, 0.55
PARTLY_PRECISION = 0.34  # a partial answer is mostly the course's words, not another answer sharing one
OFF_TOPIC_SIM = 0.3
FILLED_SIM = 0.95  # a cloze sentence read with the student's words means what the course's sentence means
LIST_SIM = 0.62  # a named item means a listed one
SIDE_SIM = 0.6
COPY_RATIO = 0.75  # an answer this close, word for word, to the course's is a copy of it
# A word put in place of the course's this close to it (word vectors) may mean the same ("final" / "last",
# 0.65); below, it may be another thing ("yeast" / "bacteria", 0.42) or a loose synonym ("converts" / "turns",
# 0.33): word vectors cannot tell those apart, so such an answer is partly right, and the feedback names the word.
SYNONYM_SIM = 0.55
SIDE_SHARE = 0.34
SIDE_TERMS = 3  # or this many of a long side's telling terms
QUOTE_SHOWN = 220

PLURAL_SIZE_RE = re.compile(r"\b(?:hundreds|thousands|millions|billions|dozens|tens)\b", re.I)
NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
UNIT_RE = re.compile(r"(\d+(?:[.,]\d+)*(?:-\d+(?:[.,]\d+)*)?)\s*([a-z]{2,})")
WORD_RE = re.compile(r"[\w'-]+")
CLAUSE_RE = re.compile(r"[\n;,.]|\s(?:and|but|while|whereas|whilst|versus|vs\.?)\s|\s[-–—]\s", re.I)
# "I don't know", "no idea", "not sure", "pass", "?": a student saying they have no answer.
NON_ANSWER_RE = re.compile(
    r"^(?:i\s+)?(?:don'?t|do not|dont)\s+know\b|^no\s+idea\b|^not\s+sure\b|^(?:pass|idk|n/?a|\?+)$", re.I
)
SEGMENT_RE = re.compile(r"[\n;,]|\s(?:and|or)\s|(?:^|\s)(?:\d{1,2}[.)]|[-*•])\s")


# ------------------------------------------------------------------------------------------ text helpers


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    for a, b in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-")):
        text = text.replace(a, b)
    return " ".join(text.lower().split())


def numbers(text: str) -> set[str]:
    """The numbers a text gives, in digits or in words ("four to eight" is 4 and 8; a lone "one" is no number)."""
    return {n.replace(",", "") for n in NUMBER_RE.findall(in_digits(text))}


def in_digits(text: str) -> str:
    # "hundreds of" is a rough size, not the number 100: such plurals keep their words.
    plurals = PLURAL_SIZE_RE.findall(text)
    masked = PLURAL_SIZE_RE.sub("\u2063", text)
    try:
        digits = alpha2digit(masked, "en", threshold=2)
    except Exception:  # the parser is a guess at English number words; a text it cannot read keeps its words
        return text
    for word in plurals:
        digits = digits.replace("\u2063", word, 1)
    return digits


def names(text: str) -> set[str]:
    """Capitalised words inside sentences and acronyms: the names a text gives."""
    out = set()
    for sentence in re.split(r"(?<=[.!?:;])\s+|\n", text):
        words = WORD_RE.findall(sentence)
        for i, w in enumerate(words):
            if (w.isupper() and len(w) > 1) or (i > 0 and w[:1].isupper() and w.lower() not in STOPWORDS):
                out.add(w.lower())
    return out


def same_term(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.isdigit() or b.isdigit() or min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 3:
        return False
    if a[:5] == b[:5] and min(len(a), len(b)) >= 5:
        return True  # "industry" / "industrial", "academic" / "academia"
    return slip(a, b)


def slip(a: str, b: str) -> bool:
    """Whether `a` is `b` misspelt: close letter for letter, and the same first letter (a slip seldom hits it;
    "publication" is another word than "application")."""
    return a[:1] == b[:1] and SequenceMatcher(None, a, b).ratio() >= FUZZY


def has_term(term: str, pool: set[str]) -> bool:
    return term in pool or any(same_term(term, p) for p in pool)


def key_terms(text: str, exclude: set[str] = frozenset()) -> list[str]:
    found = [t for t in dict.fromkeys(terms(text)) if t not in exclude]
    return found or list(dict.fromkeys(terms(text)))


def surface(text: str, stems: list[str]) -> list[str]:
    """The words of `text` behind some stemmed terms, for feedback ("degrades", not "degrad")."""
    out = []
    for stem in stems:
        word = next((w for w in WORD_RE.findall(text) if stem in terms(w)), stem)
        out.append(word)
    return list(dict.fromkeys(out))


class _Vectors:
    """Embeds the texts of one grading in one call; the course's side (answers, items) is cached."""

    cache: dict[str, np.ndarray] = {}

    def __init__(self, embed: Embed) -> None:
        self.embed = embed

    def __call__(self, student: list[str], course: list[str]) -> tuple[np.ndarray, np.ndarray]:
        todo = [t for t in dict.fromkeys(course) if t not in self.cache]
        fresh = self.embed(student + todo) if student or todo else np.zeros((0, 1), np.float32)
        for t, v in zip(todo, fresh[len(student) :]):
            if len(self.cache) < 20000:
                self.cache[t] = v
        course_vectors = np.stack([self.cache[t] if t in self.cache else fresh[len(student) + todo.index(t)]
                                   for t in course]) if course else np.zeros((0, 1), np.float32)
        return fresh[: len(student)], course_vectors


# ------------------------------------------------------------------------------------------ grading


def grade_answer(item: PracticeItem, answer: object, embed: Embed) -> Grade:
    text = answer if isinstance(answer, str) else "" if answer is None else str(answer)
    text = " ".join(text.replace("\x00", " ").split(" "))[:MAX_ANSWER_CHARS].strip()
    if not re.search(r"\w", text) or NON_ANSWER_RE.search(normalise(text).strip(" .!")):
        return _result(item, "incorrect", 0.0, "No answer was given.", (), _all_missing(item))
    vectors = _Vectors(embed)
    grader = {"cloze": _grade_cloze, "list": _grade_list, "comparison": _grade_comparison}.get(item.kind, _grade_text)
    return grader(item, text, vectors)


def _all_missing(item: PracticeItem) -> tuple[str, ...]:
    if item.kind in ("list", "cloze"):
        return item.accept
    if item.kind == "comparison":
        return tuple(a.partition(": ")[2] for a in item.accept)
    return tuple(surface(item.answer, key_terms(item.answer, set(terms(item.question)))))


def _result(item: PracticeItem, verdict: str, score: float, why: str, matched, missing) -> Grade:
    lead = {"correct": "Correct.", "partly": "Partly right.", "incorrect": "Not correct."}[verdict]
    quotes = []
    for citation in (item.citation, *item.also):
        quote = " ".join(citation.quote.split())
        if len(quote) > QUOTE_SHOWN:
            quote = quote[:QUOTE_SHOWN].rsplit(" ", 1)[0] + " …"
        quotes.append(f"“{quote}”" + (f" ({citation.section})" if citation.section else ""))
    said = "; ".join(quotes)
    reread = f"The course says: {said}." if verdict == "correct" else f"Reread: {said}."
    feedback = " ".join(p for p in (lead, why, reread) if p)
    return Grade(verdict=verdict, score=round(max(0.0, min(1.0, score)), 2), feedback=feedback,
                 model_answer=item.answer, citation=item.citation, matched=tuple(matched), missing=tuple(missing))


def changed_fact(student: str, model: str, question: str) -> str | None:
    """What the answer changes of the course's key facts (a number, a name), or None."""
    given_numbers, course_numbers = numbers(student) - numbers(question), numbers(model)
    if course_numbers and given_numbers - course_numbers and not course_numbers <= numbers(student):
        wrong = ", ".join(sorted(given_numbers - course_numbers))
        return f"The course gives {', '.join(sorted(course_numbers))}, not {wrong}."
    # The same number with another unit ("6-12 weeks" for "6-12 months") is another fact.
    course_units = dict(UNIT_RE.findall(normalise(model)))
    for number, unit in UNIT_RE.findall(normalise(student)):
        theirs, ours = terms(unit), terms(course_units.get(number, ""))
        if theirs and ours and not has_term(theirs[0], set(ours)):
            return f"The course gives {number} {course_units[number]}, not {number} {unit}."
    course_names = names(model) - names(question)
    student_words = {w.lower() for w in WORD_RE.findall(student)}
    missing = [n for n in course_names if not has_term(n, student_words)]
    extra = [n for n in names(student) - names(question) if not has_term(n, names(model) | set(terms(model)))]
    if missing and extra:
        return f"The course names {', '.join(sorted(missing))}, not {', '.join(sorted(extra))}."
    return None


def swapped_words(student: str, model: str) -> list[tuple[str, str]]:
    """In an answer that copies the course's words, the course's key words it puts others in place of:
    [(course's words, student's words)], spelling slips aside; [] if it is not a copy."""
    a = [w.lower() for w in WORD_RE.findall(model)]
    b = [w.lower() for w in WORD_RE.findall(student)]
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < COPY_RATIO:
        return []
    out = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace":
            continue
        ours, theirs = a[i1:i2], b[j1:j2]
        if not terms(" ".join(ours)) or all(any(same_term(x, y) for y in theirs) for x in ours):
            continue
        out.append((" ".join(ours), " ".join(theirs)))
    return out


def _grade_text(item: PracticeItem, text: str, vectors: _Vectors) -> Grade:
    """Definition and order: the course's answer in the student's words."""
    model = item.accept[0] if item.kind == "order" and item.accept else item.answer
    question_terms = set(terms(item.question))
    student_terms = set(terms(text))
    key = key_terms(model, question_terms)
    matched = [t for t in key if has_term(t, student_terms)]
    recall = len(matched) / len(key)
    own = [t for t in student_terms if t not in question_terms]
    course_terms = set(terms(model))
    precision = sum(has_term(t, course_terms) for t in own) / len(own) if own else 0.0
    (student_vec,), course_vecs = vectors([respell(text, model)], [model])
    sim = float(np.dot(student_vec, course_vecs[0]))
    missing_words = surface(model, [t for t in key if t not in matched])
    matched_words = surface(model, matched)
    conflict = changed_fact(text, item.answer, item.question)
    score = 0.5 * recall + 0.5 * max(0.0, min(1.0, (sim - 0.2) / 0.6))
    if conflict:
        return _result(item, "incorrect", min(score, 0.2), conflict, matched_words, missing_words)
    if student_terms and student_terms <= question_terms and recall < CORRECT_RECALL:
        # The asked term restated ("being fair" for fairness) names the topic, not what the course says of it.
        why = "Your answer repeats the question: say what the course says of it."
        return _result(item, "partly", min(score, 0.2), why, (), missing_words)
    if (recall >= CORRECT_RECALL and sim >= CORRECT_SIM) or (sim >= CLOSE_SIM and recall >= CLOSE_RECALL) or (
        sim >= SAME_SIM and recall > 0
    ):
        if own and precision == 1.0 and recall < SUBSET_RECALL:
            # Only some of the definition's or step's words and nothing of the student's own: a part of it.
            why = f"Missing: {', '.join(missing_words)}."
            return _result(item, "partly", min(score, 0.69), why, matched_words, missing_words)
        swaps = swapped_words(text, model)
        if swaps:
            given, course = vectors([t for _, t in swaps], [o for o, _ in swaps])
            changed = [(o, t) for (o, t), g, c in zip(swaps, given, course) if float(g @ c) < SYNONYM_SIM]
            if changed:
                why = " ".join(f"The course says “{o}”, not “{t}”." for o, t in changed)
                return _result(item, "partly", min(score, 0.6), why, matched_words, [o for o, _ in changed])
        return _result(item, "correct", max(score, 0.7), "", matched_words, missing_words)
    if sim < OFF_TOPIC_SIM and recall < PARTLY_RECALL:
        return _result(item, "incorrect", min(score, 0.2), "Your answer is about something else.", (), missing_words)
    if (recall >= PARTLY_RECALL and precision >= PARTLY_PRECISION and sim >= OFF_TOPIC_SIM) or sim >= PARTLY_SIM:
        why = f"Missing: {', '.join(missing_words)}." if missing_words else "Say it more precisely."
        return _result(item, "partly", min(max(score, 0.3), 0.69), why, matched_words, missing_words)
    return _result(item, "incorrect", min(score, 0.29), f"The answer turns on: {', '.join(missing_words)}.",
                   matched_words, missing_words)


def _grade_cloze(item: PracticeItem, text: str, vectors: _Vectors) -> Grade:
    target = item.answer.strip().rstrip(".")
    student = normalise(text)
    wanted = normalise(target)
    if numbers(wanted):  # a number, year, percentage or range, alone or in a name ("ResNet-50", "4-8 weeks")
        return _grade_figure(item, text, vectors)
    # The answer may be the word alone or the whole sentence filled in; then the word must be in it more often
    # than the question already has it.
    sentence = normalise(item.question.partition(": ")[2] or item.question)
    pattern = re.compile(rf"(?<![\w]){re.escape(wanted)}(?![\w])")
    needed = 1 + (len(pattern.findall(sentence)) if len(student.split()) > len(wanted.split()) + 3 else 0)
    if len(pattern.findall(student)) >= needed:
        return _result(item, "correct", 1.0, "", (target,), ())
    words = student.split()
    size = len(wanted.split())
    windows = [" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))]
    if any(slipped(w, wanted) for w in windows) and len(words) <= size + 3:
        return _result(item, "correct", 0.9, f"(Spelt “{target}” in the course.)", (target,), ())
    key = key_terms(target)
    if key and set(key) <= set(terms(text)) and len(words) <= size + 2:
        return _result(item, "correct", 0.9, f"(“{target}” in the course.)", (target,), ())  # "theories", "theory"
    got = [t for t in key if has_term(t, set(terms(text)))]
    if got and len(key) > 1:
        return _result(item, "partly", len(got) / len(key), f"The blank is “{target}”.", surface(target, got),
                       surface(target, [t for t in key if t not in got]))
    (student_vec,), course_vecs = vectors([text], [target])
    if len(words) <= size + 2 and float(np.dot(student_vec, course_vecs[0])) >= SAME_SIM:
        return _result(item, "partly", 0.5, f"Close: the course's word is “{target}”.", (), (target,))
    return _result(item, "incorrect", 0.0, f"The blank is “{target}”.", (), (target,))


def _grade_figure(item: PracticeItem, text: str, vectors: _Vectors) -> Grade:
    """A blank that holds a number: its numbers, in digits or words, with the course's unit; an answer with other
    numbers is wrong, and one with none ("a few weeks") has the idea without the figure."""
    target = item.answer.rstrip(".")
    given, wanted = numbers(text), numbers(target)
    if wanted <= given:
        ours = dict(UNIT_RE.findall(normalise(in_digits(target))))
        for number, unit in UNIT_RE.findall(normalise(in_digits(text))):
            if ours.get(number) and unit[0] != ours[number][0] and not has_term(unit, {ours[number]}):
                why = f"The course gives {target}, not {number} {unit}."
                return _result(item, "incorrect", 0.0, why, (), (target,))
        return _result(item, "correct", 1.0, "", (target,), ())
    other = given - numbers(item.question)
    if other:
        return _result(item, "incorrect", 0.0, f"The course gives {target}, not {', '.join(sorted(other))}.", (),
                       (target,))
    # No figure at all: the idea of one ("a small fraction", "hundreds of") when the sentence with the student's
    # words in the blank still says what the course's sentence says; else an answer about something else.
    if "____" in item.question:
        filled = [item.question.replace("____", text)], [item.question.replace("____", target)]
        (given_vec,), (course_vec,) = vectors(*filled)
        on_topic = float(given_vec @ course_vec) >= FILLED_SIM
    else:
        (given_vec,), (course_vec,) = vectors([text], [item.question])
        on_topic = float(given_vec @ course_vec) >= OFF_TOPIC_SIM
    if on_topic:
        return _result(item, "partly", 0.3, f"The course gives the figure: {target}.", (), (target,))
    return _result(item, "incorrect", 0.0, f"The blank is {target}.", (), (target,))


def respell(text: str, model: str) -> str:
    """`text` with its spelling slips of the course's words put right ("atention" → "attention"), so that its
    meaning is embedded, not its typing."""
    words = list(dict.fromkeys(w.lower() for w in WORD_RE.findall(model) if len(w) >= 4))

    def fix(match: re.Match) -> str:
        word = match.group(0)
        if len(word) < 4 or word.lower() in words:
            return word
        slips = [w for w in words if slip(word.lower(), w)]
        return max(slips, key=lambda w: SequenceMatcher(None, word.lower(), w).ratio()) if slips else word

    return WORD_RE.sub(fix, text)


def slipped(given: str, wanted: str) -> bool:
    """Whether `given` is `wanted` with spelling slips, word for word ("you only live once" is not one)."""
    a, b = given.split(), wanted.split()
    return len(a) == len(b) and all(x == y or slip(x, y) for x, y in zip(a, b))


def _segments(text: str, pattern: re.Pattern) -> list[str]:
    return [s.strip(" .:-") for s in pattern.split(text) if s and s.strip(" .:-")]


def _grade_list(item: PracticeItem, text: str, vectors: _Vectors) -> Grade:
    items = list(item.accept)
    full = [line[2:] if line.startswith("- ") else line for line in item.answer.split("\n")]
    if len(full) != len(items):
        full = items
    need = min(LIST_ASK, len(items))
    question_terms = set(terms(item.question))
    # Terms most of the items share ("data" in a list of data requirements) tell none of them apart.
    counts: dict[str, int] = {}
    for it in items:
        for t in set(terms(it)):
            counts[t] = counts.get(t, 0) + 1
    keys = [[t for t in key_terms(it, question_terms) if counts.get(t, 0) <= max(1, len(items) // 2)]
            or key_terms(it, question_terms) for it in items]
    segments = _segments(text, SEGMENT_RE) or [text]
    seg_vecs, item_vecs = vectors([respell(s, item.answer) for s in segments], full)
    sims = seg_vecs @ item_vecs.T
    pairs = []
    for s, seg in enumerate(segments):
        pool = set(terms(seg))
        for i, key in enumerate(keys):
            share = sum(has_term(t, pool) for t in key) / len(key)
            if share >= 0.5 or sims[s, i] >= LIST_SIM:
                pairs.append((max(share, float(sims[s, i])), s, i))
    used_s, used_i = set(), set()
    for _, s, i in sorted(pairs, reverse=True):
        if s not in used_s and i not in used_i:
            used_s.add(s)
            used_i.add(i)
    named = [items[i] for i in sorted(used_i)]
    others = [items[i] for i in range(len(items)) if i not in used_i]
    if len(named) >= need:
        return _result(item, "correct", 1.0, "", named, others)
    if named:
        why = (f"You named {len(named)} of the {need} asked for ({'; '.join(named)}); the course also lists: "
               f"{'; '.join(others)}.")
        return _result(item, "partly", len(named) / need, why, named, others)
    return _result(item, "incorrect", 0.0, f"None of the listed items is named; the course lists: {'; '.join(items)}.",
                   (), items)


def _sides(item: PracticeItem) -> list[tuple[str, str]]:
    """(side, what the course says of it) for each side compared: from the item's "Side: value" terms, or else
    from the answer's own clauses, each led by a side the question names ("Academia uses …; industry works …")."""
    labelled = [(a.partition(": ")[0].strip(), a.partition(": ")[2].strip()) for a in item.accept if ": " in a]
    if len(labelled) >= 2:
        return labelled
    asked = set(terms(item.question))
    sides = []
    for clause in re.split(r"\n|(?<=[.;])\s+", item.answer):
        clause = clause.strip(" -•*")
        name, colon, value = clause.partition(": ")
        if not colon:
            name, _, value = clause.partition(" ")
        if value and terms(name) and all(has_term(t, asked) for t in terms(name)) and len(name.split()) <= 4:
            sides.append((name.strip(), value.strip()))
    return sides if len({n.lower() for n, _ in sides}) >= 2 else labelled


def _grade_comparison(item: PracticeItem, text: str, vectors: _Vectors) -> Grade:
    sides = _sides(item)
    if len(sides) < 2:
        return _grade_text(item, text, vectors)
    name_terms = [set(terms(name)) for name, _ in sides]
    common = set.intersection(*name_terms)
    name_terms = [t - common or t for t in name_terms]
    question_terms = set(terms(item.question))
    value_terms = [set(key_terms(v, question_terms)) for _, v in sides]
    distinct = [
        [t for t in key_terms(v, question_terms) if not any(t in o for j, o in enumerate(value_terms) if j != i)]
        for i, (_, v) in enumerate(sides)
    ]
    # Each clause of the answer goes to the side it names; one that names none continues the one before.
    clauses = _segments(text, CLAUSE_RE)
    said: dict[int, list[str]] = {}
    current = None
    for clause in clauses:
        pool = set(terms(clause))
        named = [i for i, nt in enumerate(name_terms) if any(has_term(t, pool) for t in nt)]
        if len(named) == 1:
            current = named[0]
        elif len(named) > 1:
            current = None
        if current is not None:
            said.setdefault(current, []).append(clause)
    conflict = changed_fact(text, item.answer, item.question)
    if not said:
        fallback = _grade_text(item, text, vectors)
        verdict = "partly" if fallback.verdict == "correct" else fallback.verdict
        why = "Say which side each part of your answer is about."
        return _result(item, verdict, min(fallback.score, 0.5), why, fallback.matched, fallback.missing)
    order = sorted(said)
    student_texts = [" ".join(said[i]) for i in order]
    student_vecs, value_vecs = vectors([respell(t, item.answer) for t in student_texts], [v for _, v in sides])
    right, swapped, missing = [], [], []
    for row, i in enumerate(order):
        pool = set(terms(student_texts[row]))
        scores = []
        for j in range(len(sides)):
            key = distinct[j] or list(value_terms[j])
            hits = sum(has_term(t, pool) for t in key)
            share = hits / max(len(key), 1) if hits < SIDE_TERMS else 1.0
            head = bool(key) and has_term(key[0], pool)
            sim = float(student_vecs[row] @ value_vecs[j])
            scores.append((share, head, sim, hits))
        own = scores[i]
        best_other = max((scores[j] for j in range(len(sides)) if j != i), key=lambda s: s[0] + s[2])
        # A side is named right by enough of its words or meaning, or by a word only it has ("messy" data).
        telling = own[3] and not best_other[3]
        if (own[0] >= SIDE_SHARE or own[1] or own[2] >= SIDE_SIM or telling) and (
            own[0] + own[2] >= best_other[0] + best_other[2]
        ):
            right.append(sides[i][0])
        elif best_other[0] >= SIDE_SHARE or best_other[1]:
            swapped.append(sides[i][0])
    missing = [f"{name}: {value.rstrip('.')}" for name, value in sides if name not in right]
    if swapped:
        why = "You have the sides the wrong way round: " + "; ".join(f"{n}: {v.rstrip('.')}" for n, v in sides) + "."
        return _result(item, "incorrect", 0.0, why, right, missing)
    if conflict:
        return _result(item, "incorrect", 0.1, conflict, right, missing)
    score = len(right) / len(sides)
    if len(right) == len(sides):
        return _result(item, "correct", 1.0, "", right, ())
    if right:
        return _result(item, "partly", score, "Missing: " + "; ".join(missing) + ".", right, missing)
    return _result(item, "incorrect", 0.0, "The course says: " + "; ".join(missing) + ".", (), missing)
