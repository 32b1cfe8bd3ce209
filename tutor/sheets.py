"""Printable exam sheets, in Markdown or self-contained HTML: an answer key, or a student sheet.

An answer key shows each question with its number, the composed answer (its "- " and "1. " lines as
lists, its highlights bold) and the passages it quotes: only the quote, with its heading path, document
and page. Passages retrieved but not quoted are never printed, nor is any bookkeeping. A student sheet
shows the questions with room to write. Course text and questions are HTML-escaped in both formats.
"""

from __future__ import annotations

import datetime
import html
import re
from dataclasses import dataclass, field
from pathlib import PurePath

from tutor.exam import Row
from tutor.models import Answer, Citation

KINDS = ("key", "student")
NOT_COVERED = "Not covered by the course material."
MARKER_RE = re.compile(r"\[\d+\]")
BULLET_RE = re.compile(r"^- (.*)$")
STEP_RE = re.compile(r"^(\d{1,3})\. (.*)$")
WRITING_LINES = 5  # ruled lines a student sheet leaves under each question


@dataclass(frozen=True)
class Sheet:
    """What a sheet says about itself: the exam's title, the course's, its date, and key or student."""

    exam_title: str
    course_title: str = ""
    kind: str = "key"
    date: str = ""
    stems: dict[str, tuple[str, str]] = field(default_factory=dict)  # exam.Exam.stems

    @property
    def heading(self) -> str:
        return "Answer key" if self.kind == "key" else "Student sheet"

    @property
    def when(self) -> str:
        if self.date:
            return self.date
        today = datetime.date.today()
        return f"{today.day} {today:%B %Y}"


def render(sheet: Sheet, entries: list[tuple[Row, Answer | None]], fmt: str, done: dict | None = None) -> str:
    """The whole sheet in `fmt` ("md" or "html"); an entry's Answer is None on a student sheet.

    `done`: a question's rendered entry by its id, filled and reused, for a sheet rendered again and again
    as answers arrive (each answer, once given, does not change).
    """
    return (render_html if fmt == "html" else render_markdown)(sheet, entries, {} if done is None else done)


def _entries(entries, done: dict, one) -> list[str]:
    out = []
    for row, answer in entries:
        if row.id not in done:
            done[row.id] = one(row, answer)
        out.append(done[row.id])
    return out


# ---------------------------------------------------------------- what is printed


def label(row_id: str) -> str:
    """How a question's id is printed: "3." for an exam number, the id itself otherwise."""
    row_id = one_line(row_id)
    return f"{row_id}." if row_id[:1].isdigit() and row_id[-1:].isalnum() else row_id


def cited(answer: Answer) -> list[Citation]:
    """The citations an answer quotes: those whose [n] marker its text carries (an abstention's nearby
    passage among them; a sheet shows an abstention as not covered, nothing more)."""
    if answer.error:
        return []
    markers = set(MARKER_RE.findall(answer.text))
    return [c for c in answer.citations if f"[{c.rank}]" in markers]


def blocks(text: str) -> list[tuple[str, list[str]]]:
    """An answer's lines as ("p", [line]), ("ul", items) or ("ol", items), in order."""
    out: list[tuple[str, list[str]]] = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        bullet, step = BULLET_RE.match(line), STEP_RE.match(line)
        kind, body = ("ul", bullet.group(1)) if bullet else ("ol", step.group(2)) if step else ("p", line)
        if kind != "p" and out and out[-1][0] == kind:
            out[-1][1].append(body)
        else:
            out.append((kind, [body]))
    return out


def segments(text: str, highlights: tuple[str, ...] | list[str]) -> list[tuple[str, bool]]:
    """`text` cut into (piece, bold) runs: every occurrence of a highlight is bold, never a [n] marker."""
    taken = [False] * len(text)
    for m in MARKER_RE.finditer(text):
        taken[m.start() : m.end()] = [True] * (m.end() - m.start())
    bold = [False] * len(text)
    for phrase in sorted({h.strip() for h in highlights if h and h.strip()}, key=len, reverse=True):
        start = text.find(phrase)
        while start >= 0:
            end = start + len(phrase)
            if not any(taken[start:end]):
                taken[start:end] = bold[start:end] = [True] * len(phrase)
            start = text.find(phrase, end)
    runs: list[tuple[str, bool]] = []
    for ch, b in zip(text, bold):
        if runs and runs[-1][1] == b:
            runs[-1] = (runs[-1][0] + ch, b)
        else:
            runs.append((ch, b))
    return runs


def where(c: Citation) -> str:
    """A citation's place: heading path, document name, page when the document has pages."""
    parts = [c.section, PurePath(c.source).name] if c.section else [PurePath(c.source).name]
    if c.page:
        parts.append(f"p. {c.page}")
    return ", ".join(p for p in parts if p)


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def summary(entries: list[tuple[Row, Answer | None]]) -> str:
    n = len(entries)
    line = f"{n} question{'s' if n != 1 else ''}"
    answers = [a for _, a in entries if a is not None]
    if answers:
        abstained = sum(1 for a in answers if a.abstained and not a.error)
        errors = sum(1 for a in answers if a.error)
        line += f" · {abstained} not covered" if abstained else ""
        line += f" · {errors} not answered" if errors else ""
    return line


# ---------------------------------------------------------------- Markdown

MD_SPECIAL_RE = re.compile(r"([\\`*_~|]|\]\(|!\[)")
MD_LINE_START_RE = re.compile(r"^(#|=|\+|-|\d{1,9}[.)])")


def _md_escape(text: str) -> str:
    return MD_SPECIAL_RE.sub(lambda m: "\\" + m.group(1), html.escape(text, quote=False))


def _md_inline(text: object) -> str:
    return _md_escape(one_line(text))


def _md_rich(text: str, highlights) -> str:
    runs = segments(one_line(text), highlights)
    return "".join(f"**{_md_escape(piece)}**" if bold else _md_escape(piece) for piece, bold in runs)


def render_markdown(sheet: Sheet, entries: list[tuple[Row, Answer | None]], done: dict | None = None) -> str:
    out = [f"# {_md_inline(sheet.exam_title)}", ""]
    meta = [f"**{sheet.heading}**"]
    if sheet.course_title:
        meta.append(f"Course: {_md_inline(sheet.course_title)}")
    meta += [sheet.when, summary(entries)]
    out += [" · ".join(meta), ""]
    if sheet.kind == "student":
        out += ["Name: ______________________________", ""]
    out += ["---", ""]
    out += _entries(entries, {} if done is None else done, lambda row, answer: _md_entry(sheet, row, answer))
    return "\n".join(out).rstrip("\n") + "\n"


def _md_entry(sheet: Sheet, row: Row, answer: Answer | None) -> str:
    question = one_line(row.question) if not row.error else ""
    out = [f"### {_md_inline(label(row.id))} {_md_inline(question) or '*(no question text)*'}", ""]
    if row.id in sheet.stems:
        number, text = sheet.stems[row.id]
        out = [f"### {_md_inline(label(number))} {_md_inline(text)}", "", *out]
    if sheet.kind == "student":
        out += ["\n\n".join(["_" * 60] * WRITING_LINES), ""]  # rules: lines to write on
    else:
        out += _md_answer(row, answer)
    return "\n".join(out)


def _md_answer(row: Row, answer: Answer | None) -> list[str]:
    if answer is None or answer.error:
        reason = (answer.error if answer else None) or row.error or "no answer."
        return [f"*Not answered: {_md_inline(reason)}*", ""]
    read_as = [f"*Answered as: {_md_inline(answer.interpreted_as)}*", ""] if answer.interpreted_as else []
    if answer.abstained:
        return [*read_as, f"*{NOT_COVERED}*", ""]
    out = read_as
    for kind, items in blocks(answer.text):
        if kind == "p":
            line = _md_rich(items[0], answer.highlights)
            out += [("\\" + line) if MD_LINE_START_RE.match(line) else line, ""]
        else:
            for n, item in enumerate(items, start=1):
                out.append(f"{'- ' if kind == 'ul' else f'{n}. '}{_md_rich(item, answer.highlights)}")
            out.append("")
    for c in cited(answer):
        out.append(f"> [{c.rank}] “{_md_inline(c.quote)}” — {_md_inline(where(c))}  ")
    if out[-1].endswith("  "):
        out[-1] = out[-1].rstrip()
        out.append("")
    return out


# ---------------------------------------------------------------- HTML

CSS = """
@page { size: A4; margin: 12mm 14mm; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 9.5pt/1.3 "DejaVu Serif", Georgia, serif; color: #111; margin: 0; }
@media screen { body { max-width: 46em; margin: 2em auto; padding: 0 1em; } }
header { border-bottom: 1.2pt solid #111; padding-bottom: 4pt; margin-bottom: 8pt; }
h1 { font-size: 15pt; margin: 0 0 2pt; }
.meta { font-size: 9pt; color: #333; margin: 0; }
.name { margin: 8pt 0 0; font-size: 10pt; }
.q { break-inside: avoid; page-break-inside: avoid; margin: 0 0 7pt; }
.q h2 { font-size: 9.5pt; margin: 0 0 1pt; font-weight: bold; }
.q h2 { padding-left: 2em; text-indent: -2em; }  /* a long question wraps under its text, not its number */
.q h2 .num { display: inline-block; min-width: 2em; text-indent: 0; }
.answer { margin: 0 0 0 2em; }
.answer p, .answer ul, .answer ol { margin: 0 0 2pt; }
.answer ul, .answer ol { padding-left: 1.3em; }
.none { font-style: italic; color: #333; }
.sources { list-style: none; margin: 2pt 0 0 2em; padding: 0 0 0 6pt; border-left: 1.5pt solid #999;
           font-size: 8pt; line-height: 1.25; color: #333; }
.sources li { margin: 0 0 1pt; }
.sources .quote { font-style: italic; color: #111; }
.lines { margin: 0 0 0 2em; }
.lines div { border-bottom: 0.6pt solid #777; height: 8mm; }
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_rich(text: str, highlights) -> str:
    return "".join(f"<strong>{_esc(p)}</strong>" if bold else _esc(p) for p, bold in segments(text, highlights))


def render_html(sheet: Sheet, entries: list[tuple[Row, Answer | None]], done: dict | None = None) -> str:
    meta = [sheet.heading]
    if sheet.course_title:
        meta.append(f"Course: {sheet.course_title}")
    meta += [sheet.when, summary(entries)]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_esc(sheet.exam_title)} — {_esc(sheet.heading.lower())}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<header><h1>{_esc(sheet.exam_title)}</h1>",
        f'<p class="meta">{" · ".join(_esc(m) for m in meta)}</p>',
    ]
    if sheet.kind == "student":
        out.append('<p class="name">Name: ______________________________</p>')
    out.append("</header><main>")
    out += _entries(entries, {} if done is None else done, lambda row, answer: _html_entry(sheet, row, answer))
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


def _html_entry(sheet: Sheet, row: Row, answer: Answer | None) -> str:
    question = one_line(row.question) if not row.error else ""
    shown = _esc(question) if question else '<span class="none">(no question text)</span>'
    out = f'<section class="q"><h2><span class="num">{_esc(label(row.id))}</span> {shown}</h2>'
    if row.id in sheet.stems:  # the stem stays on the page of its first part
        number, text = sheet.stems[row.id]
        out = out.replace('<section class="q">', f'<section class="q"><h2><span class="num">{_esc(label(number))}'
                          f"</span> {_esc(one_line(text))}</h2>", 1)
    if sheet.kind == "student":
        out += '<div class="lines">' + "<div></div>" * WRITING_LINES + "</div>"
    else:
        out += _html_answer(row, answer)
    return out + "</section>"


def _html_answer(row: Row, answer: Answer | None) -> str:
    if answer is None or answer.error:
        reason = (answer.error if answer else None) or row.error or "no answer."
        return f'<div class="answer"><p class="none">Not answered: {_esc(reason)}</p></div>'
    read_as = (f'<p class="none">Answered as: {_esc(one_line(answer.interpreted_as))}</p>'
               if answer.interpreted_as else "")
    if answer.abstained:
        return f'<div class="answer">{read_as}<p class="none">{NOT_COVERED}</p></div>'
    parts = ['<div class="answer">', read_as]
    for kind, items in blocks(answer.text):
        if kind == "p":
            parts.append(f"<p>{_html_rich(items[0], answer.highlights)}</p>")
        else:
            listed = "".join(f"<li>{_html_rich(i, answer.highlights)}</li>" for i in items)
            parts.append(f"<{kind}>{listed}</{kind}>")
    parts.append("</div>")
    quoted = cited(answer)
    if quoted:
        parts.append('<ul class="sources">')
        for c in quoted:
            quote = f'<span class="quote">“{_esc(one_line(c.quote))}”</span>'
            parts.append(f"<li>[{c.rank}] {quote} — {_esc(where(c))}</li>")
        parts.append("</ul>")
    return "".join(parts)
