"""Reading a file of questions: one question per line, a CSV or JSON-lines table, or a numbered exam.

An exam is read item by item: every numbered line starts an item and keeps its number as its id, so a
blank item ("5." alone) is an item of its own, never part of its neighbour; it becomes a row with `error`
set. Continuation lines join the item above them; headings, rules and instruction paragraphs end it.
This module only reads; it knows nothing of answering.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tutor.errors import TutorError

INPUT_SUFFIXES = (".txt", ".csv", ".jsonl", ".md", ".markdown")

# An item's label: "1.", "2)", "3a)", "3(a)", "3.1)", "Q4.", "Question 5:", "**6.**", "## 7. ...".
# A bare number needs its ".", ")" or ":" (a line that starts "2018 was ..." is prose); a label with a
# word ("Q", "Question") may stand alone, as in a heading "## Question 5" with the question below it.
ITEM_RE = re.compile(
    r"""^[ ]{0,3}(?:\#{1,6}[ \t]+)?(?:\*\*|__)?
    (?:
        (?P<word>q|question|problem|exercise|task)[ \t]*(?P<wnum>\d{1,4})(?P<wsub>[a-z]\b|\([a-z]\)|\.\d{1,2}\b)?
            (?P<wend>[ \t]*[.):])?
      | (?P<num>\d{1,4})
        (?: (?P<psub>\([a-z]\)) [.):]?
          | (?P<sub>[a-z]|\.\d{1,2})? [.):]
        )
    )
    (?:\*\*|__)?(?:[ \t]+(?P<text>\S.*?))?[ \t]*$""",
    re.I | re.X,
)
# A lettered part under a numbered item: "a) ...", "(b) ...", "c. ...".
PART_RE = re.compile(r"^[ \t]*(?:\((?P<p>[a-h])\)|(?P<l>[a-h])[.)])[ \t]+(?P<text>\S.*)$")
HEADING_RE = re.compile(r"^ {0,3}(#{1,6})[ \t]+(?P<text>.*?)[ \t#]*$")
RULE_RE = re.compile(r"^ {0,3}(?:[-*_][ \t]*){3,}$")
SETEXT_RE = re.compile(r"^ {0,3}=+[ \t]*$")
EMPHASIS_RE = re.compile(r"(\*\*|__)(.+?)\1")


@dataclass(frozen=True)
class Row:
    """One question to answer, as read from the input; `error` is set when the row could not be read."""

    id: str
    question: object
    extra: dict = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Exam:
    """The rows of a question file, the title it gives itself (its first heading), and what looked wrong."""

    rows: list[Row]
    title: str = ""
    warnings: list[str] = field(default_factory=list)
    # "7. Consider industry practice." above "a) ...", "b) ...": a stem, not a question. Printed sheets show
    # it above its first part: {that part's id: (the stem's number, its text)}.
    stems: dict[str, tuple[str, str]] = field(default_factory=dict)


def read_questions(path: str | Path) -> list[Row]:
    """The questions in `path`, in order. TutorError if the file cannot be read or two rows share an id."""
    return read_exam(path).rows


def read_exam(path: str | Path, unique_ids: bool = True) -> Exam:
    """The questions in `path`, with the file's title. TutorError if it cannot be read, or (with
    `unique_ids`) if two rows share an id."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise TutorError(
            f"Cannot read questions from {path}: use a {', '.join(INPUT_SUFFIXES)} file "
            "(one question per line, a 'question' column, JSON lines, or a numbered exam)."
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TutorError(f"Cannot read questions from {path}: there is no such file.") from None
    except UnicodeDecodeError as exc:
        raise TutorError(f"Cannot read questions from {path}: it is not UTF-8 text ({exc.reason}).") from None
    except OSError as exc:
        raise TutorError(f"Cannot read questions from {path}: {exc.strerror or exc}.") from None
    if suffix == ".csv":
        exam = Exam(_read_csv(text, path))
    elif suffix == ".jsonl":
        exam = Exam(_read_jsonl(text))
    elif suffix == ".txt" and not looks_numbered(text):
        exam = Exam(_read_lines(text))
    else:
        exam = parse_exam(text, plain=suffix == ".txt")
        if not exam.rows and suffix != ".txt":
            raise TutorError(
                f"Found no numbered questions in {path}: number them like '1. ...', '2) ...' or 'Q3) ...'."
            )
    if not exam.rows:
        raise TutorError(f"Found no questions in {path}.")
    duplicates = [i for i, n in Counter(r.id for r in exam.rows).items() if n > 1] if unique_ids else []
    if duplicates:
        shown = ", ".join(repr(d) for d in duplicates[:10]) + (" ..." if len(duplicates) > 10 else "")
        raise TutorError(
            f"{path} has {len(duplicates)} duplicate question id(s): {shown}. Give every question its own id."
        )
    return exam


def _read_lines(text: str) -> list[Row]:
    return [Row(str(n), line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def looks_numbered(text: str) -> bool:
    """Whether a text file is a numbered exam: most of its lines are numbered items."""
    lines = [line for line in text.splitlines() if line.strip()]
    numbered = sum(1 for line in lines if ITEM_RE.match(line))
    return numbered >= 2 and numbered * 2 > len(lines)


# ---------------------------------------------------------------- numbered exams


@dataclass
class _Item:
    id: str
    line: int
    base: str  # the number its lettered parts hang from
    parts: list[str]
    is_part: bool = False


def parse_exam(text: str, plain: bool = False) -> Exam:
    """The items of a numbered exam, in the order written.

    `plain`: a text file, whose title is its first line when that line comes before the first item.
    """
    items: list[_Item] = []
    current: _Item | None = None  # the item that continuation lines join
    parent: _Item | None = None  # the numbered item that lettered parts hang from
    title, previous, after_blank = "", "", False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            after_blank = True
            continue
        match = ITEM_RE.match(line)
        if match and match.group("word") and not match.group("wend") and match.group("text"):
            match = None  # "Question 3 carries 10 marks": prose, not an item
        part = PART_RE.match(line) if parent is not None and not match else None
        heading = HEADING_RE.match(line)
        if match:
            base = match.group("wnum") or match.group("num")
            sub = match.group("wsub") or match.group("psub") or match.group("sub") or ""
            current = _Item(str(int(base)) + _sub_id(sub), number, str(int(base)), [], bool(sub))
            if match.group("text"):
                current.parts.append(_plain(_unclosed(match.group("text"), line)))
            items.append(current)
            parent = current
        elif part:
            letter = part.group("p") or part.group("l")
            current = _Item(parent.base + letter.lower(), number, parent.base, [_plain(part.group("text"))], True)
            items.append(current)
        elif heading or RULE_RE.match(line) or SETEXT_RE.match(line):
            if not title and heading:
                title = _plain(heading.group("text"))
            elif not title and SETEXT_RE.match(line) and previous and not after_blank:
                title = _plain(previous)
            current = parent = None
        elif current is not None and (not current.parts or not after_blank or line[:1] in " \t"):
            current.parts.append(stripped)  # the item's text, or its next line
        else:
            if plain and not title and not items and not previous:
                title = _plain(stripped)
            current = parent = None  # prose between questions: instructions, not part of a question
        previous, after_blank = stripped, False
    return _rows(items, title)


def _sub_id(sub: str) -> str:
    return sub.strip("()").lower()


def _unclosed(text: str, line: str) -> str:
    """An item's text without a heading's closing hashes ("## 7. Why? ##")."""
    return re.sub(r"[ \t]+#+$", "", text) if line.lstrip().startswith("#") else text


def _plain(text: str) -> str:
    """A label or heading's text without Markdown emphasis markers."""
    return EMPHASIS_RE.sub(r"\2", text).strip()


def _rows(items: list[_Item], title: str) -> Exam:
    rows, warnings, stems, stem = [], [], {}, None
    seen: Counter = Counter()
    for i, item in enumerate(items):
        following = items[i + 1] if i + 1 < len(items) else None
        if not item.is_part and following is not None and following.is_part and following.base == item.base:
            text = " ".join(item.parts)
            if "?" not in text:
                # "3." alone, or "3. Consider ...", above its lettered parts: their stem, not a question
                stem = (item.id, text) if text else None
                continue
        seen[item.id] += 1
        row_id = item.id if seen[item.id] == 1 else f"{item.id} ({seen[item.id]})"
        if seen[item.id] == 2:
            warnings.append(f"item {item.id} appears more than once (again on line {item.line}); "
                            f"the next one is listed as {row_id}.")
        question = " ".join(item.parts)
        error = None if question else f"item {item.id} (line {item.line}) has no question text."
        rows.append(Row(row_id, question, {}, error))
        if stem is not None:
            stems[row_id], stem = stem, None
    return Exam(rows, title, warnings, stems)


# ---------------------------------------------------------------- tables


def _read_csv(text: str, path: Path) -> list[Row]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    names = {(name or "").strip().lower(): name for name in reader.fieldnames or ()}
    if "question" not in names:
        found = ", ".join(repr(n) for n in reader.fieldnames or ()) or "none"
        raise TutorError(f"{path} has no 'question' column (columns found: {found}).")
    q_col, id_col = names["question"], names.get("id")
    rows = []
    try:
        for n, record in enumerate(reader, start=1):
            if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
                continue  # a blank line
            extra = {k: v for k, v in record.items() if k not in (q_col, id_col) and k is not None}
            row_id = (record.get(id_col) or "").strip() if id_col else ""
            rows.append(Row(row_id or str(n), record.get(q_col) or "", extra))
    except csv.Error as exc:
        raise TutorError(f"Cannot read {path} as CSV (line {reader.line_num}): {exc}.") from None
    return rows


def _read_jsonl(text: str) -> list[Row]:
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(Row(str(n), line.strip()[:200], error=f"line {n} is not valid JSON: {exc.msg}."))
            continue
        row_id = data.get("id") if isinstance(data, dict) else None
        row_id = str(n) if row_id is None or str(row_id).strip() == "" else str(row_id)
        if not isinstance(data, dict) or data.get("question") is None:
            rows.append(Row(row_id, line.strip()[:200], error=f'line {n} has no "question" field.'))
            continue
        rows.append(Row(row_id, data["question"], {k: v for k, v in data.items() if k not in ("id", "question")}))
    return rows
