"""Split sections into paragraph-sized passages without cutting a list item, step or table row.

A section body is read as blocks: paragraphs, list items (with their nested items), single
structured lines ("Step 3: ..."), and table rows. Tables whose cell separators were lost when a
web page was flattened ("Risk ToleranceHigh - ...Low - ...") are recognised by their run-together
cells and rewritten as readable rows ("Risk Tolerance — Academic: High - ...; Industry: Low - ...").
Blocks are then packed, in order, into passages of about CHUNK_TARGET_CHARS, never more than
CHUNK_MAX_CHARS; only a single block longer than that is split, at sentence boundaries.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tutor.config import CHUNK_MAX_CHARS, CHUNK_TARGET_CHARS
from tutor.ingest import BULLET_RE, LABELLED_NUMBER_RE
from tutor.models import Chunk, Section

# Version of the chunking rules: part of the index manifest, so a change here rebuilds the index.
# 8: Markdown, HTML and PDF are read by their parsers and passages carry pages (plain text is unchanged).
# 10: web pages lose permalink marks and blocks classed as sidebars or footers.
# 11: a document that repeats another (an HTML page and its reST source) is left out.
# 12: a web page of links (a table of contents, an index of pages) is left out.
# 13: a sentence does not end at an initial or a common abbreviation ("William E. Simon", "Mt. St. Helens").
CHUNKER_VERSION = "13"

GLUE_RE = re.compile(r"(?<=[a-z0-9)%\]])(?=[A-Z])")
SENTENCE_RE = re.compile(r"(?<=[.!?])[\"”')\]]*\s+(?=[\"“(\[]?[A-Z0-9])")
# A labelled field ("Success: 95% accuracy"); group 1 is the label, a name of up to three words.
LABEL_NAME_RE = re.compile(r"[A-Z][\w-]*(?:\s+[\w-]+){0,2}")
LABEL_RE = re.compile(rf"^\s*({LABEL_NAME_RE.pattern})\s*:\s+(?=\S)")
MARKER_RE = re.compile(r"^\s*(?:[-*+•◦▪●‣–]|\d{1,3}[.)]|[a-z][.)])\s+")
ROW_SEP = " — "
CELL_SPLIT_RE = re.compile(r"; (?=[^:;]{1,40}: )")
HEADER_LINE_RE = re.compile(r"^[^|]+(?: \| [^|]+)+$")


@dataclass
class Block:
    kind: str  # "paragraph" | "item" | "line" | "row" | "header"
    text: str
    start: int
    end: int

    @property
    def leads_in(self) -> bool:
        """True when the block introduces what follows and should not end a passage."""
        return self.kind == "header" or self.text.rstrip().endswith(":")


@dataclass(frozen=True)
class Unit:
    """A quotable piece of a passage: a sentence, a list item, a step or a table row."""

    text: str
    context: str  # the list item it sits under, or the label of its paragraph ("Industry"), if any
    item: bool = False  # a list item or step, with siblings before or after it


# --------------------------------------------------------------------------- public API


def chunk_sections(sections: Iterable[Section]) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in sections:
        chunks.extend(chunk_section(section))
    return chunks


def chunk_section(section: Section) -> list[Chunk]:
    blocks = _split_oversized(parse_blocks(section.text, section.start), section.text, section.start)
    return [_make_chunk(section, group) for group in _pack(blocks)]


def make_chunk_id(source: str, start: int, end: int, text: str) -> str:
    digest = hashlib.sha256(f"{source}\0{start}\0{end}\0{text}".encode()).hexdigest()
    return digest[:16]


def split_units(text: str) -> list[Unit]:
    """The quotable units of a passage, in order."""
    units: list[Unit] = []
    parents: list[tuple[int, str]] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        body = MARKER_RE.sub("", line).strip()
        is_item = bool(MARKER_RE.match(line)) or indent > 0
        while parents and parents[-1][0] >= indent:
            parents.pop()
        context = parents[-1][1] if parents else ""
        if HEADER_LINE_RE.match(line):
            continue  # a table's header row labels the cells of its rows; it says nothing by itself
        if ROW_SEP in line:
            # One unit per cell ("Risk Tolerance — Academic: High ..."): a question is usually about one side.
            label, _, cells = body.partition(ROW_SEP)
            units.extend(Unit(f"{label}{ROW_SEP}{cell}", context) for cell in CELL_SPLIT_RE.split(cells) if cell)
            continue
        item = is_item or bool(LABELLED_NUMBER_RE.match(line))
        if item:
            pieces = [body] if len(body) <= 300 else split_sentences(body)
            parents.append((indent, body))
        else:
            pieces = split_sentences(body)
            field = LABEL_RE.match(pieces[0]) if pieces and not context else None
            if field and len(pieces) > 1:
                # "Industry: Large budgets. Trains many models. Focuses on wall-clock time.": the label
                # is about the whole paragraph, so each later sentence carries it.
                units.append(Unit(pieces[0], context, item))
                units.extend(Unit(p, field.group(1), item) for p in pieces[1:] if p)
                continue
        units.extend(Unit(p, context, item) for p in pieces if p)
    return units


# What a period ends without ending the sentence: an initial ("William E. Simon", "U.S."), and the usual
# abbreviations before a name or a number ("Dr. Lee", "Mt. St. Helens", "Fig. 3", "e.g. The").
NOT_AN_END_RE = re.compile(
    r"(?:^|[\s(\[\"“])(?:[A-Z]|[A-Za-z](?:\.[A-Za-z])+|Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Mt|Ft|Gen|Col|Capt|Lt|Sgt|Rev|"
    r"Gov|Sen|Rep|Pres|No|Nos|Fig|Figs|Eq|Eqs|Vol|Ch|Sec|Art|Ref|approx|ca|cf|vs|etc|Inc|Ltd|Co|Corp|Jan|Feb|"
    r"Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|e\.g|i\.e)\.$"
)


def split_sentences(text: str) -> list[str]:
    """`text` cut into sentences: after ".", "!" or "?" and a space, before a capital or a digit, but not
    after an initial or a common abbreviation."""
    out, start = [], 0
    for m in SENTENCE_RE.finditer(text):
        if NOT_AN_END_RE.search(text[max(start, m.start() - 12) : m.start()].rstrip("\"”')]")):
            continue
        out.append(text[start : m.start()])
        start = m.end()
    out.append(text[start:])
    return [s.strip() for s in out if s.strip()]


# --------------------------------------------------------------------------- parsing blocks


@dataclass
class _Line:
    text: str
    start: int
    end: int

    @property
    def indent(self) -> int:
        return len(self.text.expandtabs(4)) - len(self.text.expandtabs(4).lstrip())

    @property
    def lead(self) -> int:
        """Leading whitespace in characters (a tab is one), for offsets; `indent` is in columns."""
        return len(self.text) - len(self.text.lstrip())

    @property
    def blank(self) -> bool:
        return not self.text.strip()

    @property
    def bullet(self) -> bool:
        return bool(BULLET_RE.match(self.text))


def parse_blocks(body: str, offset: int = 0) -> list[Block]:
    lines, pos = [], offset
    for raw in body.split("\n"):
        lines.append(_Line(raw, pos, pos + len(raw)))
        pos += len(raw) + 1
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.blank:
            i += 1
        elif line.bullet:
            i = _read_item(lines, i, blocks)
        else:
            j = i
            while j < len(lines) and not lines[j].blank and not lines[j].bullet:
                j += 1
            run = lines[i:j]
            table = _read_table(run)
            blocks.extend(table if table is not None else _read_text_run(run))
            i = j
    return blocks


def _read_item(lines: list[_Line], i: int, blocks: list[Block]) -> int:
    """A list item with its wrapped lines and nested items (blank lines between them allowed)."""
    base = lines[i].indent
    members = [lines[i]]
    j = i + 1
    while j < len(lines):
        line = lines[j]
        if line.blank:
            k = j + 1  # (never a slice of the rest: that copy made long documents quadratic)
            while k < len(lines) and lines[k].blank:
                k += 1
            if k == len(lines) or lines[k].indent <= base:
                break
            j = k
            continue
        if line.bullet and line.indent <= base:
            break
        if not line.bullet and line.indent <= base and not line.text.lstrip()[:1].islower():
            break
        members.append(line)
        j += 1
    rendered: list[str] = []
    for m in members:
        if m.bullet or not rendered:
            rendered.append(" " * max(m.indent - base, 0) + m.text.strip())
        else:
            rendered[-1] += " " + m.text.strip()  # a wrapped continuation line
    blocks.append(Block("item", "\n".join(rendered), members[0].start, members[-1].end))
    return j


def _read_text_run(run: list[_Line]) -> list[Block]:
    """Consecutive non-blank lines: one wrapped paragraph, or several one-line entries."""
    groups: list[list[_Line]] = [[run[0]]]
    for prev, line in zip(run, run[1:]):
        stripped = prev.text.strip()
        wraps = line.text.lstrip()[:1].islower() or (len(stripped) >= 60 and stripped[-1] not in ".:!?;")
        if wraps and not LABELLED_NUMBER_RE.match(line.text):
            groups[-1].append(line)
        else:
            groups.append([line])
    kind = "paragraph" if len(groups) == 1 else "line"
    return [
        Block(kind, " ".join(x.text.strip() for x in g), g[0].start + g[0].lead, g[-1].end) for g in groups
    ]


def _split_cells(text: str) -> list[str]:
    if text.lstrip().startswith("|"):
        return [c.strip() for c in text.strip().strip("|").split("|")]
    return [c.strip() for c in GLUE_RE.split(text.strip())]


def _read_table(run: list[_Line]) -> list[Block] | None:
    """Rows of a pipe table, or of a table whose cells were run together; None if `run` is not one."""
    if len(run) < 3:
        return None
    is_rule = [bool(re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", r.text)) for r in run]  # |---| lines
    rows = [r for r, rule in zip(run, is_rule) if not rule]
    if len(rows) < 3:
        return None
    header = _split_cells(rows[0].text)
    width = len(header)
    if width < 2 or any(not c or len(c) > 40 or len(c.split()) > 4 for c in header):
        return None
    fitting = sum(len(_split_cells(r.text)) == width for r in rows[1:])
    if fitting < max(2, 0.6 * (len(rows) - 1)):
        return None
    # A rule line belongs to the span of the row after it (the last ones to the last row), so that every
    # line of the table lies in some passage's offsets.
    starts: dict[int, int] = {}
    pending = None
    for r, rule in zip(run, is_rule):
        if rule:
            pending = pending or r
        else:
            first = pending or r
            starts[id(r)], pending = first.start + first.lead, None
    blocks = [Block("header", " | ".join(header), starts[id(rows[0])], rows[0].end)]
    for r in rows[1:]:
        cells = _split_cells(r.text)
        labelled = "; ".join(f"{h}: {c}" for h, c in zip(header[1:], cells[1:]))
        text = f"{cells[0]}{ROW_SEP}{labelled}"
        # A row whose cells cannot be told apart stays as it stands; so does one too long for a passage,
        # which is then cut like prose and must keep the wording its offsets point at.
        if len(cells) != width or len(text) > CHUNK_MAX_CHARS:
            text = r.text.strip()
        blocks.append(Block("row", text, starts[id(r)], r.end))
    blocks[-1].end = run[-1].end
    return blocks


# --------------------------------------------------------------------------- packing


def _split_oversized(blocks: list[Block], body: str, offset: int) -> list[Block]:
    """Blocks no longer than CHUNK_MAX_CHARS: a longer one is cut at lines, sentences, then spaces.

    Each piece gets the offsets of the stretch of `body` it came from, so its citation points there.
    """
    out: list[Block] = []
    for b in blocks:
        if len(b.text) <= CHUNK_MAX_CHARS:
            out.append(b)
            continue
        pieces: list[str] = []
        cur = ""
        for piece in b.text.split("\n") if "\n" in b.text else split_sentences(b.text):
            for part in _hard_wrap(piece):
                if cur and len(cur) + 1 + len(part) > CHUNK_TARGET_CHARS:
                    pieces.append(cur)
                    cur = part
                else:
                    cur = f"{cur}\n{part}" if cur and "\n" in b.text else (f"{cur} {part}" if cur else part)
        if cur:
            pieces.append(cur)
        spans = _piece_spans(body[b.start - offset : b.end - offset], b.start, pieces)
        out.extend(Block(b.kind, text, start, end) for text, (start, end) in zip(pieces, spans))
    return out


def _piece_spans(source: str, base: int, pieces: list[str]) -> list[tuple[int, int]]:
    """Where each consecutive piece of `source` lies (absolute offsets, `base` being source's own).

    Pieces keep the source's letters and digits in order and only re-space or re-mark them, so
    counting alphanumeric characters aligns them; the cut between two pieces falls at the
    whitespace before the next piece's first word.
    """
    positions = [i for i, ch in enumerate(source) if ch.isalnum()]
    counts = [sum(ch.isalnum() for ch in p) for p in pieces]
    if sum(counts) != len(positions):  # not a re-spacing of the source: cite the whole block
        return [(base, base + len(source))] * len(pieces)
    cuts = [0]
    seen = 0
    for n in counts[:-1]:
        seen += n
        if seen == len(positions):
            cuts.append(len(source))
            continue
        cut = positions[seen]
        floor = max(cuts[-1], positions[seen - 1] + 1 if seen else 0)
        while cut > floor and not source[cut - 1].isspace():
            cut -= 1  # keep an opening quote or bracket with the word it opens
        cuts.append(cut)
    cuts.append(len(source))
    spans = []
    for lo, hi in zip(cuts, cuts[1:]):
        text = source[lo:hi]
        lo += len(text) - len(text.lstrip())
        hi -= len(text) - len(text.rstrip())
        spans.append((base + lo, base + max(lo, hi)))
    return spans


def _hard_wrap(text: str) -> list[str]:
    """Last resort for a 'sentence' longer than a passage: cut at spaces (or anywhere)."""
    if len(text) <= CHUNK_MAX_CHARS:
        return [text]
    parts, cur = [], ""
    for word in re.findall(r"\S+\s*", text):
        while len(word) > CHUNK_MAX_CHARS:
            if cur:
                parts.append(cur.strip())
                cur = ""
            parts.append(word[:CHUNK_MAX_CHARS])
            word = word[CHUNK_MAX_CHARS:]
        if len(cur) + len(word) > CHUNK_TARGET_CHARS and cur:
            parts.append(cur.strip())
            cur = ""
        cur += word
    if cur.strip():
        parts.append(cur.strip())
    return parts


def _pack(blocks: list[Block]) -> list[list[Block]]:
    groups: list[list[Block]] = []
    cur: list[Block] = []
    size = 0
    for b in blocks:
        added = len(b.text) + (1 if cur else 0)
        if cur and (size + added > CHUNK_MAX_CHARS or (size + added > CHUNK_TARGET_CHARS and not cur[-1].leads_in)):
            groups.append(cur)
            cur, size, added = [], 0, len(b.text)
        cur.append(b)
        size += added
    if cur:
        groups.append(cur)
    return groups


def _make_chunk(section: Section, blocks: list[Block]) -> Chunk:
    text = "\n".join(b.text for b in blocks)
    start, end = min(b.start for b in blocks), max(b.end for b in blocks)
    return Chunk(
        chunk_id=make_chunk_id(section.source, start, end, text),
        source=section.source,
        section=section.path,
        text=text,
        start=start,
        end=end,
        page=section.page,
    )
