"""`tutor batch`: answer a file of questions into a file of answers, in batches, without losing any.

Reads `.txt` (one question per line, or a numbered exam), `.csv` (column `question`, optional `id`),
`.jsonl` (`{"id", "question", ...}`) or a numbered Markdown exam; writes `.jsonl`, `.csv` or a printable
`.md` answer sheet. Each batch of answers is written, flushed and fsynced before the next batch is
answered, so an interrupted run leaves a valid file and `--resume` answers only what is missing.
Retrieval and answering are `Tutor.ask_many`'s job; this module only reads, batches and writes.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tutor.errors import TutorError
from tutor.models import Answer
from tutor.validation import same_file

BATCH_SIZE = 64  # questions per ask_many call, and per write: a kill loses at most one batch of work
INPUT_SUFFIXES = (".txt", ".csv", ".jsonl", ".md", ".markdown")
OUTPUT_SUFFIXES = (".jsonl", ".csv", ".md")
# Answer fields and CSV columns: an input column of the same name is carried through as `input_<name>`.
ANSWER_KEYS = ("id", "question", "answer", "abstained", "generator", "citations", "latency_ms", "error")
CSV_COLUMNS = ("id", "question", "answer", "abstained", "sources", "error")
RESERVED = frozenset(ANSWER_KEYS + CSV_COLUMNS)

# "1. ...", "2) ...", "Q3) ...", "Question 4: ...", "**5.** ...", "## 6. ..."
NUMBERED_RE = re.compile(
    r"^ {0,3}(?:#{1,6}\s+)?(?:\*\*|__)?(?:(?:q|question)\s*)?(\d{1,4})\s*[.):](?:\*\*|__)?\s+(\S.*)$", re.I
)
HEADING_OR_RULE_RE = re.compile(r"^ {0,3}(?:#{1,6}\s|[-*_]{3,}\s*$)")


@dataclass(frozen=True)
class Row:
    """One question to answer, as read from the input; `error` is set when the row could not be read."""

    id: str
    question: object
    extra: dict = field(default_factory=dict)
    error: str | None = None


# ---------------------------------------------------------------- reading


def read_questions(path: str | Path) -> list[Row]:
    """The questions in `path`, in order. TutorError if the file cannot be read or two rows share an id."""
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
        rows = _read_csv(text, path)
    elif suffix == ".jsonl":
        rows = _read_jsonl(text)
    elif suffix == ".txt" and not _looks_numbered(text):
        rows = _read_lines(text)
    else:
        rows = _read_exam(text)
        if not rows and suffix != ".txt":
            raise TutorError(
                f"Found no numbered questions in {path}: number them like '1. ...', '2) ...' or 'Q3) ...'."
            )
    if not rows:
        raise TutorError(f"Found no questions in {path}.")
    duplicates = [i for i, n in Counter(r.id for r in rows).items() if n > 1]
    if duplicates:
        shown = ", ".join(repr(d) for d in duplicates[:10]) + (" ..." if len(duplicates) > 10 else "")
        raise TutorError(
            f"{path} has {len(duplicates)} duplicate question id(s): {shown}. Give every question its own id."
        )
    return rows


def _read_lines(text: str) -> list[Row]:
    return [Row(str(n), line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _looks_numbered(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    numbered = sum(1 for line in lines if NUMBERED_RE.match(line))
    return numbered >= 2 and numbered * 2 > len(lines)


def _read_exam(text: str) -> list[Row]:
    """Numbered questions; a question's indented or immediately following lines belong to it."""
    questions: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    after_blank = False
    for line in text.splitlines():
        match = NUMBERED_RE.match(line)
        if match:
            current = [match.group(2).strip()]
            questions.append((str(int(match.group(1))), current))
        elif not line.strip():
            after_blank = True
            continue
        elif HEADING_OR_RULE_RE.match(line):
            current = None
        elif current is not None and (not after_blank or line[:1].isspace()):
            current.append(line.strip())
        else:
            current = None  # prose between questions: instructions, not part of a question
        after_blank = False
    return [Row(number, " ".join(parts)) for number, parts in questions]


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


# ---------------------------------------------------------------- writing


def _carried(extra: dict) -> dict:
    return {(f"input_{k}" if k in RESERVED else k): v for k, v in extra.items()}


class JsonlWriter:
    """One `Answer.to_dict()` per line, with the input's other fields after it."""

    header = ""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path

    def entries(self, pairs: list[tuple[Row, Answer]]) -> str:
        return "".join(
            json.dumps({**answer.to_dict(), **_carried(row.extra)}, ensure_ascii=False) + "\n" for row, answer in pairs
        )

    def scan(self, data: bytes) -> tuple[list[str], int]:
        """Ids already written and the length of the valid part (a kill can cut the last line short)."""
        ids, end = [], 0
        for line in data.splitlines(keepends=True):
            try:
                entry = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                entry = None
            if not line.endswith(b"\n") or not isinstance(entry, dict) or "id" not in entry:
                if end + len(line) < len(data):
                    raise TutorError(f"{self.path} line {len(ids) + 1} is not an answer; cannot resume into it.")
                break  # the partial last line of a killed run: dropped, then answered again
            ids.append(str(entry["id"]))
            end += len(line)
        return ids, end


class CsvWriter:
    """id, question, answer, abstained, sources, error, then the input's other columns."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = list(CSV_COLUMNS) + columns
        self.header = self._format([self.columns])

    @staticmethod
    def _format(records: list[list]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(records)
        return buffer.getvalue()

    def entries(self, pairs: list[tuple[Row, Answer]]) -> str:
        records = []
        for row, answer in pairs:
            sources = " | ".join(f"{c.section or c.source} ({c.source})" for c in answer.citations)
            carried = _carried(row.extra)
            record = [answer.id, answer.question, answer.text, str(answer.abstained).lower(), sources]
            record.append(answer.error or "")
            for name in self.columns[len(CSV_COLUMNS) :]:
                value = carried.get(name, "")
                record.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
            records.append(record)
        return self._format(records)

    def scan(self, data: bytes) -> tuple[list[str], int]:
        if not data.startswith(self.header.encode()):
            raise TutorError(
                f"{self.path} does not start with the columns {', '.join(self.columns)}; cannot resume into it."
            )
        lines = data[len(self.header) :].splitlines(keepends=True)
        ids, end, consumed, complete = [], len(self.header), len(self.header), True

        def feed() -> Iterator[str]:
            nonlocal consumed, complete
            for line in lines:
                consumed += len(line)
                complete = line.endswith(b"\n")
                yield line.decode("utf-8", errors="replace")

        try:
            # strict: a quoted field cut short by a kill is an error, not a shorter field
            for record in csv.reader(feed(), strict=True):
                if len(record) != len(self.columns) or not complete:
                    break
                ids.append(record[0])
                end = consumed
        except csv.Error:
            pass
        if end < len(data) and consumed < len(data):
            raise TutorError(f"{self.path} has a damaged row after {len(ids)} answers; cannot resume into it.")
        return ids, end


class MarkdownWriter:
    """A printable answer sheet: each question, its answer, and the passages it quotes with their sections.

    Every entry opens with `<!-- id: "..." -->` and closes with `<!-- end -->`, invisible when rendered,
    so that `--resume` knows which questions are done and where a killed run's partial entry begins.
    """

    OPEN_RE = re.compile(r'^<!-- id: (".*") -->$')
    CLOSE = "<!-- end -->"

    def __init__(self, path: Path, columns: list[str], title: str = "") -> None:
        self.path = path
        self.header = f"# Answers{': ' + _one_line(title) if title else ''}\n\n"

    def entries(self, pairs: list[tuple[Row, Answer]]) -> str:
        return "".join(self._entry(answer) for _, answer in pairs)

    def _entry(self, answer: Answer) -> str:
        # JSON keeps any id on one line; "--" would end the HTML comment early.
        marker = json.dumps(answer.id, ensure_ascii=False).replace("--", "-\\u002d")
        out = [f"<!-- id: {marker} -->", f"## {_one_line(answer.id)}. {_one_line(answer.question)}", ""]
        if answer.error:
            out += [f"**Not answered:** {_one_line(answer.error)}", ""]
        else:
            out += ["**Answer:**", "", _quote_block(answer.text), ""]
            if answer.citations:
                out += ["**Sources:**", ""]
                for c in answer.citations:
                    out += [f"[{c.rank}] {_one_line(c.section or c.source)} — {_one_line(c.source)}", ""]
                    out += [_quote_block(c.text), ""]
        out += ["---", self.CLOSE, "", ""]
        return "\n".join(out)

    def scan(self, data: bytes) -> tuple[list[str], int]:
        if not data.startswith(b"# Answers"):
            raise TutorError(f"{self.path} is not a tutor answer sheet; cannot resume into it.")
        ids, end, pending, offset, closed = [], 0, None, 0, False
        for line in data.splitlines(keepends=True):
            offset += len(line)
            bare = line.rstrip(b"\n").decode("utf-8", errors="replace")
            opened = self.OPEN_RE.match(bare)
            if opened:
                pending = json.loads(opened.group(1))
            elif bare == self.CLOSE and pending is not None and line.endswith(b"\n"):
                ids.append(pending)
                pending, end, closed = None, offset, True
                continue
            elif closed and line == b"\n":
                end = offset  # the blank line that ends an entry
            closed = False
        if not ids:
            end = len(data.split(b"<!-- id:", 1)[0])
        return ids, end


WRITERS = {".jsonl": JsonlWriter, ".csv": CsvWriter, ".md": MarkdownWriter}


TAG_START_RE = re.compile(r"<(?=[A-Za-z!/?])")


def _one_line(text: object) -> str:
    """User text on one line; a `<` that would open an HTML tag or comment is shown as it is written."""
    return TAG_START_RE.sub(r"\\<", " ".join(str(text).split()))


def _quote_block(text: str) -> str:
    """`text` as a Markdown quote: whatever the text holds, it cannot start a heading or close the entry."""
    lines = [f"> {line}".rstrip() for line in (text or "").strip().splitlines()] or [">"]
    return "  \n".join(lines)  # two spaces: a hard line break, so list-like lines stay on their own lines


# ---------------------------------------------------------------- running


@contextmanager
def _deferred_interrupt() -> Iterator[None]:
    """Hold Ctrl-C while a batch is written, so that an interrupt never cuts a line in half."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield  # an ignored Ctrl-C (a background job, nohup) stays ignored
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            raise KeyboardInterrupt


def _append(handle, text: str) -> None:
    """Write, flush and fsync: once this returns, the text survives a kill or a power cut."""
    handle.write(text.encode("utf-8"))
    handle.flush()
    os.fsync(handle.fileno())


def _row_error_answer(row: Row, generator: str) -> Answer:
    return Answer(question=str(row.question), text="", abstained=False, generator=generator, id=row.id, error=row.error)


@dataclass
class Summary:
    answered: int = 0
    abstained: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def add(self, answers: list[Answer]) -> None:
        for a in answers:
            if a.error:
                self.errors += 1
            elif a.abstained:
                self.abstained += 1
            else:
                self.answered += 1

    @property
    def total(self) -> int:
        return self.answered + self.abstained + self.errors

    def line(self, out: Path) -> str:
        rate = self.total / self.seconds if self.seconds > 0 else 0.0
        skipped = f"; {self.skipped} already in {out}" if self.skipped else ""
        return (
            f"{self.answered} answered, {self.abstained} abstained, {self.errors} errors "
            f"in {self.seconds:.1f} s ({rate:.1f} questions/s){skipped} → {out}"
        )


def open_output(out: Path, rows: list[Row], *, resume: bool, force: bool, title: str = ""):
    """The writer for `out` and the ids it already holds; refuses to overwrite without `force`."""
    suffix = out.suffix.lower()
    if suffix not in WRITERS:
        raise TutorError(f"Cannot write answers to {out}: use a {', '.join(OUTPUT_SUFFIXES)} file.")
    columns = list(dict.fromkeys(k for r in rows for k in _carried(r.extra)))
    writer = MarkdownWriter(out, columns, title) if suffix == ".md" else WRITERS[suffix](out, columns)
    if resume and force:
        raise TutorError("--resume and --force contradict each other: resume to keep OUTPUT, force to replace it.")
    if out.is_dir():
        raise TutorError(f"Cannot write answers to {out}: it is a folder.")
    done: list[str] = []
    if out.exists() and resume:
        data = out.read_bytes()
        done, end = writer.scan(data) if data else ([], 0)
        if end < len(data):
            with open(out, "r+b") as handle:
                handle.truncate(end)
    elif out.exists() and not force:
        raise TutorError(f"{out} already exists: use --resume to finish it, or --force to replace it.")
    return writer, set(done)


def run_batch(args, tutor=None) -> int:
    """`tutor batch`: answer INPUT into OUTPUT; 0 on success (errors counted), 1 with --strict and errors."""
    source, out = Path(args.input), Path(args.out)
    if same_file(source, out):
        raise TutorError("INPUT and --out are the same file: write the answers somewhere else.")
    rows = read_questions(source)
    writer, done = open_output(out, rows, resume=args.resume, force=args.force, title=source.name)
    todo = [r for r in rows if r.id not in done]
    summary = Summary(skipped=len(rows) - len(todo))
    if tutor is None:
        from tutor.loading import load_from_args

        tutor = load_from_args(args)
    from tqdm import tqdm

    started = time.perf_counter()
    # Replace (with --force) only now that the tutor is ready: a failed start leaves the old file alone.
    mode = "ab" if args.resume else "wb"
    try:
        with open(out, mode) as handle, tqdm(
            total=len(todo), unit="q", desc="Answering", disable=not sys.stderr.isatty(), dynamic_ncols=True
        ) as bar:
            if handle.tell() == 0:
                _append(handle, writer.header)
            for start in range(0, len(todo), BATCH_SIZE):
                batch = todo[start : start + BATCH_SIZE]
                answers = _answer(tutor, batch, getattr(args, "top_k", None))
                with _deferred_interrupt():
                    _append(handle, writer.entries(list(zip(batch, answers))))
                    summary.add(answers)
                bar.update(len(batch))
    except KeyboardInterrupt:
        summary.seconds = time.perf_counter() - started
        print(f"\ntutor: interrupted: {summary.line(out)}", file=sys.stderr)
        print(f"tutor: run again with --resume to answer the other {len(todo) - summary.total}.", file=sys.stderr)
        return 130
    except OSError as exc:
        raise TutorError(f"Cannot write answers to {out}: {exc.strerror or exc}.") from None
    summary.seconds = time.perf_counter() - started
    print(summary.line(out), file=sys.stderr)
    return 1 if args.strict and summary.errors else 0


def _answer(tutor, batch: list[Row], top_k: int | None) -> list[Answer]:
    """Answers for a batch, in its order: unreadable rows get their error, the rest go to ask_many."""
    readable = [r for r in batch if r.error is None]
    answered = iter(tutor.ask_many([r.question for r in readable], ids=[r.id for r in readable], top_k=top_k))
    return [next(answered) if r.error is None else _row_error_answer(r, tutor.generator) for r in batch]
