"""`tutor batch`: answer a file of questions into a file of answers, in batches, without losing any.

Reads what `tutor.exam` reads; writes `.jsonl`, `.csv`, or a printable `.md` / `.html` sheet (`tutor.sheets`).
Each batch of answers is written, flushed and fsynced before the next batch is answered, so an interrupted
run leaves a valid file and `--resume` answers only what is missing. A sheet is rendered whole from the
answers so far after each batch, and replaced atomically; the answers themselves go to a JSON-lines log
beside it (`answers.html.log.jsonl`), which is what `--resume` reads, so the printed sheet carries no
bookkeeping. Retrieval and answering are `Tutor.ask_many`'s job; this module only reads, batches and writes.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath

from tutor.errors import TutorError
from tutor.exam import Exam, Row, read_exam, read_questions  # noqa: F401  (read_questions: the module's API)
from tutor.models import Answer, Citation
from tutor.sheets import KINDS, Sheet, cited, render
from tutor.validation import same_file

BATCH_SIZE = 64  # questions per ask_many call, and per write: a kill loses at most one batch of work
OUTPUT_SUFFIXES = (".jsonl", ".csv", ".md", ".html")
SHEET_SUFFIXES = (".md", ".html", ".htm")
# Answer fields and CSV columns: an input column of the same name is carried through as `input_<name>`.
# Every key of `Answer.to_dict()` is reserved, the fields added later (form, highlights, ...) too.
ANSWER_KEYS = tuple("answer" if f.name == "text" else f.name for f in dataclasses.fields(Answer))
# `interpreted_as`: the question as answered, when a word of it was read in the course's spelling.
CSV_COLUMNS = ("id", "question", "answer", "abstained", "sources", "error", "interpreted_as")
RESERVED = frozenset(ANSWER_KEYS + CSV_COLUMNS)
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


# ---------------------------------------------------------------- writing


def _carried(extra: dict) -> dict:
    return {(f"input_{k}" if k in RESERVED else k): v for k, v in extra.items()}


def spreadsheet_safe(cell: str) -> str:
    """`cell` as a spreadsheet shows it without running it: a leading = + - @ tab or CR gets a `'`
    (a plain number like "-3" stays a number)."""
    if cell.startswith(FORMULA_STARTS) and not PLAIN_NUMBER_RE.match(cell):
        return "'" + cell
    return cell


def sources_cell(answer: Answer) -> str:
    """The passages an answer quotes, as "heading (document, p. N) — quote", joined by " | "."""
    out = []
    for c in cited(answer):
        document = PurePath(c.source).name
        place = f"{document}, p. {c.page}" if c.page else document
        out.append(f"{c.section or document} ({place}) — {' '.join(c.quote.split())}")
    return " | ".join(out)


class JsonlWriter:
    """One `Answer.to_dict()` per line, with the input's other fields after it."""

    header = ""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path

    @staticmethod
    def key(row_id: str) -> str:
        return row_id

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
    """id, question, answer, abstained, sources, error, interpreted_as, then the input's other columns;
    every cell spreadsheet-safe."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = list(CSV_COLUMNS) + columns
        self.header = self._format([self.columns])

    @staticmethod
    def key(row_id: str) -> str:
        return spreadsheet_safe(row_id)  # the id as written, which is what `scan` reads back

    @staticmethod
    def _format(records: list[list]) -> str:
        buffer = io.StringIO()
        # "\r\n" (RFC 4180): with it the writer also quotes a cell holding a lone "\r", which would end a row.
        csv.writer(buffer, lineterminator="\r\n").writerows([[spreadsheet_safe(c) for c in r] for r in records])
        return buffer.getvalue()

    def entries(self, pairs: list[tuple[Row, Answer]]) -> str:
        records = []
        for row, answer in pairs:
            carried = _carried(row.extra)
            record = [answer.id, answer.question, answer.text, str(answer.abstained).lower(), sources_cell(answer)]
            record += [answer.error or "", answer.interpreted_as or ""]
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


WRITERS = {".jsonl": JsonlWriter, ".csv": CsvWriter}


def answer_from_dict(data: dict) -> Answer:
    """An Answer read back from a JSON-lines log (fields the log lacks keep their defaults)."""
    names = {f.name for f in dataclasses.fields(Answer)}
    known = {k: v for k, v in data.items() if k in names and k not in ("text", "citations", "also_retrieved")}
    citation_names = {f.name for f in dataclasses.fields(Citation)}

    def citations(key: str) -> tuple[Citation, ...]:
        return tuple(Citation(**{k: v for k, v in c.items() if k in citation_names}) for c in data.get(key) or ())

    if "highlights" in known:
        known["highlights"] = tuple(known["highlights"] or ())
    return Answer(**known, text=data.get("answer") or "", citations=citations("citations"),
                  also_retrieved=citations("also_retrieved"))


def _replace(path: Path, text: str) -> None:
    """Write `path` whole under a temporary name, then rename: a reader sees the old file or the new one."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        _append(handle, text)
    os.replace(tmp, path)


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


class AnswerFile:
    """A JSON-lines or CSV answers file, appended to batch by batch."""

    def __init__(self, path: Path, writer) -> None:
        self.path, self.writer, self.handle = path, writer, None

    def existing(self) -> list[Path]:
        return [self.path] if self.path.exists() else []

    def key(self, row_id: str) -> str:
        return self.writer.key(row_id)

    def resume(self) -> set[str]:
        """The ids already written; a cut last entry is dropped from the file."""
        if not self.path.exists():
            return set()
        data = self.path.read_bytes()
        done, end = self.writer.scan(data) if data else ([], 0)
        if end < len(data):
            with open(self.path, "r+b") as handle:
                handle.truncate(end)
        return set(done)

    def open(self, append: bool) -> None:
        self.handle = open(self.path, "ab" if append else "wb")
        if self.handle.tell() == 0:
            _append(self.handle, self.writer.header)

    def write(self, pairs: list[tuple[Row, Answer]]) -> None:
        _append(self.handle, self.writer.entries(pairs))

    def finish(self) -> None:
        pass

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


class SheetFile:
    """A printable sheet, rendered whole after each batch from the answers so far, which are kept in a
    JSON-lines log beside it (`NAME.log.jsonl`): the log is what `--resume` reads."""

    def __init__(self, path: Path, rows: list[Row], columns: list[str], kind: str = "key") -> None:
        self.path, self.rows, self.kind = path, rows, kind
        log = path.with_name(path.name + ".log.jsonl")
        self.log = AnswerFile(log, JsonlWriter(log, columns))
        self.sheet = Sheet(exam_title=path.stem)
        self.answers: dict[str, Answer] = {}
        self.rendered: dict[str, str] = {}  # each entry rendered once, though the sheet is rendered per batch

    def existing(self) -> list[Path]:
        logged = (self.path, self.log.path) if self.kind == "key" else (self.path,)
        return [p for p in logged if p.exists()]

    def key(self, row_id: str) -> str:
        return row_id

    def resume(self) -> set[str]:
        if self.kind != "key":
            return set()  # a student sheet holds no answers: it is written again whole
        if self.path.exists() and not self.log.path.exists():
            raise TutorError(
                f"Cannot resume {self.path}: its answer log {self.log.path.name} is not beside it. "
                "Use --force to answer again."
            )
        done = self.log.resume()
        if done:
            for line in self.log.path.read_bytes().splitlines():
                answer = answer_from_dict(json.loads(line))
                self.answers[str(answer.id)] = answer
        return done

    def open(self, append: bool) -> None:
        self.log.open(append)

    def write(self, pairs: list[tuple[Row, Answer]]) -> None:
        self.log.write(pairs)
        self.answers.update((row.id, answer) for row, answer in pairs)
        self.publish()

    def finish(self) -> None:
        self.publish()  # also when --resume found nothing left to answer

    def publish(self) -> None:
        entries = [(r, self.answers[r.id]) for r in self.rows if r.id in self.answers]
        _replace(self.path, render(self.sheet, entries, self.fmt, self.rendered))

    @property
    def fmt(self) -> str:
        return "md" if self.path.suffix.lower() == ".md" else "html"

    def close(self) -> None:
        self.log.close()


def open_output(out: Path, rows: list[Row], *, resume: bool, force: bool, kind: str = "key"):
    """The output for `out` and the ids it already holds; refuses to overwrite without `force`."""
    suffix = out.suffix.lower()
    if suffix not in WRITERS and suffix not in SHEET_SUFFIXES:
        raise TutorError(f"Cannot write answers to {out}: use a {', '.join(OUTPUT_SUFFIXES)} file.")
    if kind not in KINDS:
        raise TutorError(f"Unknown sheet {kind!r}: use one of {', '.join(KINDS)}.")
    if kind != "key" and suffix not in SHEET_SUFFIXES:
        raise TutorError(f"--sheet {kind} makes a printable sheet: write it to a .md or .html file, not {suffix}.")
    if resume and force:
        raise TutorError("--resume and --force contradict each other: resume to keep OUTPUT, force to replace it.")
    if out.is_dir():
        raise TutorError(f"Cannot write answers to {out}: it is a folder.")
    columns = list(dict.fromkeys(k for r in rows for k in _carried(r.extra)))
    output = WRITERS[suffix](out, columns) if suffix in WRITERS else None
    output = AnswerFile(out, output) if output else SheetFile(out, rows, columns, kind)
    existing = output.existing()
    if existing and not resume and not force:
        raise TutorError(f"{existing[0]} already exists: use --resume to finish it, or --force to replace it.")
    return output, (output.resume() if resume else set())


def run_batch(args, tutor=None) -> int:
    """`tutor batch`: answer INPUT into OUTPUT; 0 on success (errors counted), 1 with --strict and errors."""
    source, out = Path(args.input), Path(args.out)
    if same_file(source, out):
        raise TutorError("INPUT and --out are the same file: write the answers somewhere else.")
    exam = read_exam(source)
    rows, kind = exam.rows, getattr(args, "sheet", None) or "key"
    for warning in exam.warnings:
        print(f"tutor: warning: {source.name}: {warning}", file=sys.stderr)
    output, done = open_output(out, rows, resume=args.resume, force=args.force, kind=kind)
    if tutor is None:
        from tutor.loading import load_from_args

        tutor = load_from_args(args)
    if isinstance(output, SheetFile):
        output.sheet = Sheet(exam.title or source.stem, course_title=tutor.title, kind=kind, stems=exam.stems)
        if kind == "student":
            return _write_student_sheet(output, args.strict)
    todo = [r for r in rows if output.key(r.id) not in done]
    summary = Summary(skipped=len(rows) - len(todo))
    from tqdm import tqdm

    started = time.perf_counter()
    # Replace (with --force) only now that the tutor is ready: a failed start leaves the old file alone.
    try:
        with tqdm(
            total=len(todo), unit="q", desc="Answering", disable=not sys.stderr.isatty(), dynamic_ncols=True
        ) as bar:
            output.open(append=args.resume)
            for start in range(0, len(todo), BATCH_SIZE):
                batch = todo[start : start + BATCH_SIZE]
                answers = _answer(tutor, batch, getattr(args, "top_k", None))
                with _deferred_interrupt():
                    output.write(list(zip(batch, answers)))
                    summary.add(answers)
                bar.update(len(batch))
            output.finish()
    except KeyboardInterrupt:
        summary.seconds = time.perf_counter() - started
        print(f"\ntutor: interrupted: {summary.line(out)}", file=sys.stderr)
        print(f"tutor: run again with --resume to answer the other {len(todo) - summary.total}.", file=sys.stderr)
        return 130
    except OSError as exc:
        raise TutorError(f"Cannot write answers to {out}: {exc.strerror or exc}.") from None
    finally:
        output.close()
    summary.seconds = time.perf_counter() - started
    print(summary.line(out), file=sys.stderr)
    return 1 if args.strict and summary.errors else 0


def _write_student_sheet(output: SheetFile, strict: bool) -> int:
    """Questions with room to write: nothing to answer, so nothing to log or resume."""
    try:
        _replace(output.path, render(output.sheet, [(r, None) for r in output.rows], output.fmt))
    except OSError as exc:
        raise TutorError(f"Cannot write the sheet to {output.path}: {exc.strerror or exc}.") from None
    unreadable = sum(1 for r in output.rows if r.error)
    print(f"{len(output.rows)} questions ({unreadable} without text) → {output.path}", file=sys.stderr)
    return 1 if unreadable and strict else 0


def _answer(tutor, batch: list[Row], top_k: int | None) -> list[Answer]:
    """Answers for a batch, in its order: unreadable rows get their error, the rest go to ask_many."""
    readable = [r for r in batch if r.error is None]
    answered = iter(tutor.ask_many([r.question for r in readable], ids=[r.id for r in readable], top_k=top_k))
    return [next(answered) if r.error is None else _row_error_answer(r, tutor.generator) for r in batch]
