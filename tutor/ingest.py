"""Read course documents and split them into sections that keep their heading paths.

Markdown (`#` headings) and HTML (`<h1>`..`<h6>`) say their structure; plain text (and text
pulled out of a PDF or a flattened web page) does not, so headings are inferred from the
shape of lines: short, isolated, title-like, no closing punctuation. Nothing here knows
about any particular document.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from tutor.config import CORPUS_SUFFIXES, MAX_CORPUS_FILE_BYTES
from tutor.errors import TutorError
from tutor.models import Section

log = logging.getLogger(__name__)

BULLET_RE = re.compile(r"^\s*(?:[-*+•◦▪●‣–]|\d{1,3}[.)]|[a-z][.)])\s+\S")
# "Step 3: ...", "Example 2: ...": a labelled, numbered line.
LABELLED_NUMBER_RE = re.compile(r"^\s*[A-Z][\w-]*(?: [A-Z][\w-]*)? \d{1,3}[:.)]\s*\S")
NUMBERED_HEADING_RE = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3})*[.)]?\s+\S|[A-Z][\w-]*(?: [A-Z][\w-]*)? \d{1,3}[:.)])")
GLUED_RE = re.compile(r"[a-z][A-Z]")
MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
SMALL_WORDS = frozenset(
    "a an and as at but by for from in into is of on or the to vs via with over than that this are".split()
)


@dataclass(frozen=True)
class Document:
    source: str
    text: str
    markup: str  # "markdown" or "plain"


# --------------------------------------------------------------------------- reading files


def load_corpus(corpus_dir: Path) -> tuple[list[Document], list[str]]:
    """Read every supported file under `corpus_dir`; return the documents and one warning per skipped file."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise TutorError(f"Corpus folder not found: {corpus_dir}. Point --corpus (or TUTOR_CORPUS) at a folder.")
    documents, warnings = [], []
    for path in sorted(corpus_files(corpus_dir)):
        try:
            documents.append(read_document(path, source_name(corpus_dir, path)))
        except TutorError as exc:
            warnings.append(str(exc))
            log.warning("%s", exc)
    return documents, warnings


def corpus_files(corpus_dir: Path) -> list[Path]:
    return [
        p
        for p in Path(corpus_dir).rglob("*")
        if p.is_file() and p.suffix.lower() in CORPUS_SUFFIXES and not p.name.startswith(".")
    ]


def source_name(corpus_dir: Path, path: Path) -> str:
    return f"{Path(corpus_dir).name}/{path.relative_to(corpus_dir).as_posix()}"


def read_document(path: Path, source: str) -> Document:
    """Read one file; raise TutorError (naming the file) if it cannot be used."""
    try:
        size = path.stat().st_size
        if size > MAX_CORPUS_FILE_BYTES:
            raise TutorError(
                f"Skipped {source}: {size / 2**20:.1f} MiB is over the {MAX_CORPUS_FILE_BYTES // 2**20} MiB limit."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise TutorError(f"Skipped {source}: cannot read it ({exc.strerror or exc}).") from exc
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        text, markup = _pdf_text(data, source), "plain"
    else:
        text = decode_text(data, source)
        if suffix in (".html", ".htm"):
            text, markup = html_to_markdown(text), "markdown"
        else:
            markup = "markdown" if suffix in (".md", ".markdown") else "plain"
    text = clean_text(text)
    if not text.strip():
        raise TutorError(f"Skipped {source}: it holds no text.")
    return Document(source=source, text=text, markup=markup)


def decode_text(data: bytes, source: str) -> str:
    if b"\x00" in data[:8192]:
        raise TutorError(f"Skipped {source}: it looks like a binary file, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    # Mostly-unprintable bytes mean a binary file with a text-like name.
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    if printable < 0.9 * max(len(text), 1):
        raise TutorError(f"Skipped {source}: it is neither UTF-8 text nor readable as Latin text.")
    return text


def clean_text(text: str) -> str:
    """Normalise newlines and drop control characters; offsets refer to this cleaned text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable() or ch == "\u00a0")


def _pdf_text(data: bytes, source: str) -> str:
    try:
        from io import BytesIO

        from pypdf import PdfReader
    except ImportError as exc:
        raise TutorError(f"Skipped {source}: reading PDF needs the 'pypdf' package (pip install pypdf).") from exc
    try:
        reader = PdfReader(BytesIO(data))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as exc:  # pypdf raises many types on damaged files
        raise TutorError(f"Skipped {source}: not a readable PDF ({exc}).") from exc


class _HTMLToMarkdown(HTMLParser):
    """Keep what carries structure (headings, list items, table rows, paragraphs); drop scripts and styles."""

    BLOCKS = {"p", "div", "section", "article", "br", "blockquote", "pre", "ul", "ol", "table", "main"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.depth = 0
        self.cells: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "noscript", "template"):
            self.skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in ("ul", "ol"):
            self.depth += 1
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n" + "  " * max(self.depth - 1, 0) + "- ")
        elif tag == "tr":
            self.cells = []
        elif tag in ("td", "th") and self.cells is not None:
            self.cells.append("")
        elif tag in self.BLOCKS:
            self.out.append("\n\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "noscript", "template"):
            self.skip = max(self.skip - 1, 0)
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n")
        elif tag in ("ul", "ol"):
            self.depth = max(self.depth - 1, 0)
            self.out.append("\n\n")
        elif tag == "tr" and self.cells is not None:
            self.out.append("\n| " + " | ".join(c.strip() for c in self.cells) + " |")
            self.cells = None
        elif tag == "table":
            self.out.append("\n\n")

    def handle_data(self, data):
        if self.skip:
            return
        data = re.sub(r"\s+", " ", data)
        if self.cells is not None and self.cells:
            self.cells[-1] += data
        elif self.cells is None:
            self.out.append(data)


def html_to_markdown(text: str) -> str:
    parser = _HTMLToMarkdown()
    parser.feed(text)
    parser.close()
    out = "".join(parser.out)
    out = re.sub(r"[ \t]+\n", "\n", out)
    return re.sub(r"\n{3,}", "\n\n", html.unescape(out)).strip() + "\n"


# --------------------------------------------------------------------------- sections


@dataclass
class _Heading:
    line: int
    text: str
    level: int = 0
    numbered: bool = False


def split_sections(doc: Document) -> tuple[str, list[Section]]:
    """Return the document's title (may be empty) and its sections in order.

    A section's text is the body under its heading (the heading line itself is in the path).
    """
    lines = doc.text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    if doc.markup == "markdown":
        title, headings = _markdown_headings(lines)
    else:
        title, headings = _plain_headings(lines)

    sections: list[Section] = []
    stack: list[_Heading] = []
    bounds = [h.line for h in headings] + [len(lines)]
    first_body = 0
    # Text before the first heading belongs to the document itself.
    if headings:
        _append_section(sections, doc, (), 0, headings[0].line, offsets, lines, skip_title=title)
    else:
        _append_section(sections, doc, (), 0, len(lines), offsets, lines, skip_title=title)
    for i, heading in enumerate(headings):
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
        first_body = heading.line + 1
        _append_section(
            sections, doc, tuple(h.text for h in stack), first_body, bounds[i + 1], offsets, lines, skip_title=None
        )
    return title, sections


def _append_section(sections, doc, headings, first, last, offsets, lines, skip_title):
    if skip_title:
        # The title line is metadata, not body text.
        for i in range(first, last):
            if lines[i].strip():
                if _strip_md_heading(lines[i]) == skip_title:
                    first = i + 1
                break
    start, end = offsets[first], min(offsets[last], len(doc.text)) if last > first else offsets[first]
    body = doc.text[start:end]
    if body.strip():
        sections.append(Section(source=doc.source, headings=headings, text=body, start=start, end=end))


def _strip_md_heading(line: str) -> str:
    m = MD_HEADING_RE.match(line.strip())
    return m.group(2).strip() if m else line.strip()


def _markdown_headings(lines: list[str]) -> tuple[str, list[_Heading]]:
    headings: list[_Heading] = []
    in_fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        m = MD_HEADING_RE.match(line.strip()) if not line.startswith("    ") else None
        if m:
            headings.append(_Heading(i, m.group(2).strip(), level=len(m.group(1))))
        elif (
            i > 0
            and re.fullmatch(r"\s{0,3}(=+|-{2,})\s*", line)
            and lines[i - 1].strip()
            and not BULLET_RE.match(lines[i - 1])
        ):
            # Setext heading: the text is on the line above.
            headings.append(_Heading(i, lines[i - 1].strip(), level=1 if "=" in line else 2))
    # A setext heading's text line belongs to it, not to the previous body.
    headings = [
        _Heading(h.line - 1, h.text, h.level) if re.fullmatch(r"\s{0,3}(=+|-{2,})\s*", lines[h.line]) else h
        for h in headings
    ]
    title = ""
    top = [h for h in headings if h.level == 1]
    if len(top) == 1 and headings[0] is top[0]:
        # A single H1 at the top names the document; its subsections are the real top level.
        title = top[0].text
        headings = headings[1:]
    return title, headings


def _is_title_like(text: str) -> bool:
    """Title Case ("Industry Goals"), or a short sentence-case label ("Light reactions")."""
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", text)
    if not words or not text[0].isupper():
        return False
    long_words = [w for w in words if len(w) >= 4 and w.lower() not in SMALL_WORDS]
    if all(w[0].isupper() for w in long_words):
        return True
    return len(text.split()) <= 6 and ":" not in text


def _heading_shape(lines: list[str], i: int) -> tuple[bool, bool]:
    """(is it a heading?, is it a numbered heading?) for line i of a plain-text document."""
    raw = lines[i]
    text = raw.strip()
    if not text or len(text) > 100 or len(text.split()) > 14:
        return False, False
    if len(raw[: len(raw) - len(raw.lstrip())].replace("\t", "    ")) >= 2:
        return False, False  # indented: a list item or a quotation
    isolated = (i == 0 or not lines[i - 1].strip()) and (i + 1 >= len(lines) or not lines[i + 1].strip())
    has_more = any(line.strip() for line in lines[i + 1 :])
    if not isolated or not has_more:
        return False, False
    if text[-1] in ".,;:!" or "," in text or not re.search(r"[A-Za-z]", text):
        return False, False
    if text[0] in "-*+•◦▪●‣–|>":
        return False, False
    if len(GLUED_RE.findall(text)) >= 2:
        return False, False  # words run together: a flattened table row or tag list, not a heading
    numbered = bool(NUMBERED_HEADING_RE.match(text))
    if numbered:
        return True, True
    return _is_title_like(text), False


def _plain_headings(lines: list[str]) -> tuple[str, list[_Heading]]:
    """Find headings in plain text and infer their levels.

    Flattened text keeps no heading levels, so they are inferred from what follows each heading:
    - a numbered heading ("2. Data", "Example 1: ...") nests under the unnumbered heading before it;
    - a heading whose body is only prose (or nothing) and that is followed by another heading
      introduces what follows: it is top level, and list-bearing sections after it are its children;
    - a heading with an empty body right after such an introducing heading nests inside it;
    - two or more blank lines before a heading mark a new top-level part.
    When in doubt a heading is top level: a flat path loses less than a wrong nesting.
    """
    found: list[_Heading] = []
    for i in range(len(lines)):
        is_heading, numbered = _heading_shape(lines, i)
        if is_heading:
            found.append(_Heading(i, lines[i].strip(), numbered=numbered))
    title = ""
    first_text = next((i for i, line in enumerate(lines) if line.strip()), None)
    if found and found[0].line == first_text and not found[0].numbered:
        title = found.pop(0).text

    last_unnumbered_level = 0
    parent_open = False  # an introducing heading that has no child yet
    parent_exists = False
    for n, h in enumerate(found):
        body_end = found[n + 1].line if n + 1 < len(found) else len(lines)
        body = [line for line in lines[h.line + 1 : body_end] if line.strip()]
        followed = n + 1 < len(found)
        blank_before = 0
        j = h.line - 1
        while j >= 0 and not lines[j].strip():
            blank_before += 1
            j -= 1
        if h.numbered:
            h.level = last_unnumbered_level + 1
            parent_open = False
            continue
        listish = any(BULLET_RE.match(line) or LABELLED_NUMBER_RE.match(line) for line in body)
        introduces = followed and not listish
        if blank_before >= 2 and j >= 0:
            h.level = 1
        elif introduces and not body and parent_open:
            h.level = 2
        elif introduces:
            h.level = 1
        else:
            h.level = 2 if parent_exists else 1
        if h.level == 1:
            parent_exists = introduces
            parent_open = introduces
        else:
            parent_open = False
        last_unnumbered_level = h.level
    return title, found
