"""Read course documents and split them into sections that keep their heading paths.

Each format is read by a real parser (`tutor/formats/`): Markdown by a CommonMark parser, HTML by an
HTML5 parser that keeps the page's main content, PDF page by page with PDFium. They give clean text
with the headings they found. Plain text (and a PDF whose text is all one size) says nothing of its
structure, so headings are inferred from the shape of lines: short, isolated, title-like, no closing
punctuation. Only files inside the course folder are read: a link that leads out of it is skipped.
Nothing here knows about any particular document.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import sys
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tutor.config import CORPUS_SUFFIXES, LINK_PAGE_LINKS, LINK_PAGE_SHARE, MAX_CORPUS_FILE_BYTES, MAX_DOCUMENT_CHARS
from tutor.errors import TutorError
from tutor.formats import Heading
from tutor.models import Section
from tutor.repeats import brief, drop_repeats

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
COURSE_FILE = "course.toml"
PROGRESS_EVERY_S = 5.0
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Document:
    source: str
    text: str
    # "plain": headings are inferred; "markdown": `#` headings in the text; "parsed": `headings` says them.
    markup: str
    title: str = ""
    headings: tuple[Heading, ...] = ()
    pages: tuple[int, ...] = ()  # where each page starts in `text`, for paged documents (PDF)
    warnings: tuple[str, ...] = field(default=(), compare=False)  # read, but not all of it was usable


# --------------------------------------------------------------------------- finding files


def load_corpus(corpus_dir: Path) -> tuple[list[Document], list[str]]:
    """Read every supported file under `corpus_dir`; return the documents and one warning per problem.

    A document whose text another one holds (an HTML page and its source, notes and their PDF) is
    left out with a warning: see `tutor.repeats`.
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise TutorError(f"Corpus folder not found: {corpus_dir}. Point --corpus (or TUTOR_CORPUS) at a folder.")
    paths, warnings = scan_corpus(corpus_dir)
    progress = _Progress(len(paths))
    documents = []
    for path in paths:
        source = source_name(corpus_dir, path)
        progress.note(source)
        try:
            doc = read_document(path, source, progress=progress)
        except TutorError as exc:
            warnings.append(str(exc))
        else:
            documents.append(doc)
            warnings.extend(doc.warnings)
        progress.done += 1
    documents, repeats = drop_repeats(documents)
    warnings.extend(repeat.warning() for repeat in repeats)
    for warning in brief(warnings):
        log.warning("%s", warning)
    return documents, warnings


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The course files that `load_corpus` reads, in order."""
    return scan_corpus(corpus_dir)[0]


def scan_corpus(corpus_dir: Path) -> tuple[list[Path], list[str]]:
    """The course files under `corpus_dir` and a warning for each link that cannot be followed.

    Hidden files and folders are left out. A link is read only when what it points to lies inside
    the course folder and is not read already under its own name; links to folders are not followed.
    """
    corpus_dir = Path(corpus_dir)
    root = Path(os.path.realpath(corpus_dir))
    found: dict[str, Path] = {}  # real path -> the path it is read under
    warnings: list[str] = []
    for here, dirs, names in os.walk(corpus_dir):
        here_path = Path(here)
        for name in list(dirs):
            if name.startswith(".") or os.path.islink(here_path / name):
                dirs.remove(name)
                if not name.startswith(".") and not _inside(root, here_path / name):
                    warnings.append(f"Skipped {source_name(corpus_dir, here_path / name)}: "
                                    "a link to a folder outside the course folder.")
        dirs.sort()
        for name in sorted(names):
            path = here_path / name
            if name.startswith(".") or path.suffix.lower() not in CORPUS_SUFFIXES:
                continue
            source = source_name(corpus_dir, path)
            if source != f"{corpus_dir.name}/{path.relative_to(corpus_dir).as_posix()}":
                warnings.append(f"The file name of {source} is not valid UTF-8; its passages cite it as shown. "
                                "Rename the file to fix this.")
            link = os.path.islink(path)
            if link and not os.path.exists(path):
                warnings.append(f"Skipped {source}: a link to a file that does not exist.")
                continue
            if link and not _inside(root, path):
                warnings.append(f"Skipped {source}: a link to a file outside the course folder.")
                continue
            if not path.is_file():
                continue  # a device, pipe or socket: never opened
            real = os.path.realpath(path)
            if real in found and not link:
                found[real] = path  # read a file under its own name, not under a link's
            found.setdefault(real, path)
    return sorted(found.values()), warnings


def _inside(root: Path, path: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(root)


def source_name(corpus_dir: Path, path: Path) -> str:
    """How passages cite a file: the corpus folder's name and the file's path inside it.

    A name that is not valid UTF-8 (say from a Latin-1 zip file) keeps its odd bytes as `\\xe9` escapes,
    so that it can be written to the index and shown.
    """
    name = f"{Path(corpus_dir).name}/{Path(path).relative_to(corpus_dir).as_posix()}"
    return os.fsencode(name).decode("utf-8", "backslashreplace")


class _Progress:
    """A line on stderr every few seconds while reading takes long, whether stderr is a terminal or not."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.last = time.monotonic()

    def note(self, what: str) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            print(f"Reading course files: {self.done} of {self.total} read; now {what}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- reading one file


def read_document(path: Path, source: str, progress: _Progress | None = None) -> Document:
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
        doc = _read_pdf(data, source, progress)
    else:
        text, notes = decode_text(data, source)
        if suffix in (".html", ".htm"):
            from tutor.formats.html import read_html

            outline = read_html(text, MAX_DOCUMENT_CHARS)
            _refuse_a_page_of_links(outline, source)
            doc = _from_outline(outline, source, notes)
        elif suffix in (".md", ".markdown"):
            from tutor.formats.markdown import read_markdown

            doc = _from_outline(read_markdown(text, MAX_DOCUMENT_CHARS), source, notes)
        else:
            text = clean_text(text)
            if len(text) > MAX_DOCUMENT_CHARS:
                text = text[: text.rfind("\n", 0, MAX_DOCUMENT_CHARS) + 1 or MAX_DOCUMENT_CHARS]
                notes.append(_cut_note(source))
            doc = Document(source=source, text=text, markup="plain", warnings=tuple(notes))
    if not doc.text.strip():
        raise TutorError(f"Skipped {source}: it holds no text.")
    return doc


def _refuse_a_page_of_links(outline, source: str) -> None:
    """TutorError for a web page that is mostly links to other pages (a table of contents, an index of
    pages): it leads to the course's text but holds none of its own, and its entries, each a heading of
    another page, would answer questions in that page's place."""
    words = sum(len(line.split()) for line in outline.lines)
    if outline.links >= LINK_PAGE_LINKS and outline.linked_words >= LINK_PAGE_SHARE * max(words, 1):
        raise TutorError(f"Skipped {source}: a page of links ({outline.links} links, "
                         f"{outline.linked_words / max(words, 1):.0%} of its words), such as a table of contents "
                         "or an index, with no course text of its own.")


def _cut_note(source: str, where: str = "") -> str:
    return (f"Only the first {MAX_DOCUMENT_CHARS:,} characters of {source} were read{where}: "
            "split it into smaller files to use the rest.")


def _from_outline(outline, source: str, notes: list[str], markup: str = "parsed", pages=()) -> Document:
    if outline.truncated:
        notes.append(_cut_note(source))
    return Document(
        source=source,
        text=outline.text(),
        markup=markup,
        title=outline.title,
        headings=tuple(outline.headings) if markup == "parsed" else (),
        pages=pages,
        warnings=tuple(notes),
    )


def _read_pdf(data: bytes, source: str, progress: _Progress | None) -> Document:
    from tutor.formats.pdf import UnreadablePDF, read_pdf

    on_page = (lambda n, total: progress.note(f"{source}, page {n} of {total}")) if progress else None
    try:
        pdf = read_pdf(data, MAX_DOCUMENT_CHARS, on_page)
    except UnreadablePDF as exc:
        raise TutorError(f"Skipped {source}: not a readable PDF ({exc}).") from exc
    notes = []
    if pdf.scanned:
        pages = ", ".join(str(n) for n in pdf.scanned)
        many = len(pdf.scanned) > 1
        notes.append(f"{source}: page{'s' if many else ''} {pages} {'hold' if many else 'holds'} only images "
                     "(scanned?) and no text; run OCR on the file to use them.")
    if pdf.stopped_at is not None:
        pdf.outline.truncated = False
        notes.append(_cut_note(source, f" (pages 1 to {pdf.stopped_at - 1} of {pdf.pages})"))
    markup = "parsed" if pdf.structured else "plain"
    doc = _from_outline(pdf.outline, source, notes, markup, pdf.outline.page_starts())
    if not doc.text.strip() and pdf.scanned:
        raise TutorError(f"Skipped {source}: it holds no text, only images of pages (scanned?); run OCR on it.")
    return doc


def decode_text(data: bytes, source: str) -> tuple[str, list[str]]:
    """The text of a file's bytes, and a note if some of it could not be decoded.

    UTF-8 is assumed unless the bytes clearly are not: a few stray bytes in a UTF-8 file become
    U+FFFD (and a note), where reading the whole file as another encoding would garble every accent.
    A file whose non-ASCII bytes are none of them UTF-8 is read as Windows-1252 (Latin-1's superset),
    or in the non-Latin encoding it clearly is in.
    """
    notes: list[str] = []
    for bom, encoding in BOMS:
        if data.startswith(bom):
            text = data.decode(encoding, errors="replace")
            bad = text.count("\ufffd")
            if bad:
                notes.append(f"{source}: {bad} undecodable {encoding.upper()} sequences were replaced by \ufffd.")
            return text, notes
    if b"\x00" in data[:8192]:
        raise TutorError(f"Skipped {source}: it looks like a binary file, not text.")
    try:
        return data.decode("utf-8"), notes
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - data.count("\ufffd".encode())
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    if non_ascii - replaced >= replaced:
        one = replaced == 1
        notes.append(f"{source}: {replaced} byte{'' if one else 's'} that {'is' if one else 'are'} not UTF-8 "
                     f"{'was' if one else 'were'} replaced by \ufffd; the rest is read as UTF-8.")
        return text, notes
    text = data.decode("cp1252", errors="replace")
    # Mostly-unprintable bytes mean a binary file with a text-like name.
    printable = len(text) - sum(1 for ch in text if not (ch.isprintable() or ch in "\n\r\t"))
    if printable < 0.9 * max(len(text), 1):
        raise TutorError(f"Skipped {source}: it is neither UTF-8 text nor readable as Latin text.")
    text, encoding = _legacy_text(data, text)
    notes.append(f"{source} is not UTF-8: it was read as {encoding} text.")
    return text, notes


def _legacy_text(data: bytes, latin: str) -> tuple[str, str]:
    """A file in a legacy encoding: Windows-1252, unless it is clearly in a non-Latin script.

    charset-normalizer tells Cyrillic, Greek or Japanese encodings apart well, but among the Latin
    ones it often picks Central European (cp1250) for French or German text: `naïve` would read as
    `naďve`. So its guess is taken only when most of the letters it decodes are not Latin.
    """
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        return latin, "Windows-1252 (Latin)"
    best = from_bytes(data).best()
    if best is not None:
        guess = str(best)
        letters = [ch for ch in guess[:100_000] if ord(ch) > 127 and ch.isalpha()]
        latin_letters = sum(unicodedata.name(ch, "").startswith("LATIN") for ch in letters)
        if letters and latin_letters < len(letters) / 2:
            return guess, best.encoding
    return latin, "Windows-1252 (Latin)"


def clean_text(text: str) -> str:
    """Normalise newlines and drop control characters; offsets refer to this cleaned text."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(
        line if line.isprintable() else "".join(ch for ch in line if ch == "\t" or ch.isprintable() or ch == "\u00a0")
        for line in lines
    )


# --------------------------------------------------------------------------- the course


@dataclass(frozen=True)
class CourseInfo:
    title: str = ""
    description: str = ""
    language: str = ""


def course_info(corpus_dir: Path) -> CourseInfo:
    """What `course.toml` in the course folder says (title, description, language); empty without one."""
    path = Path(corpus_dir) / COURSE_FILE
    if not path.is_file():
        return CourseInfo()
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TutorError(f"{path} cannot be read ({exc}). Fix it, or remove it to name the course "
                         "after its documents.") from exc
    course = data.get("course", data) if isinstance(data.get("course"), dict) else data
    return CourseInfo(*(str(course.get(key) or "").strip() for key in ("title", "description", "language")))


def course_title(corpus_dir: Path, documents: Sequence[str]) -> str:
    """The course's name: `course.toml`'s title, else the title of its (first) document.

    `documents` are the course documents' titles, in the order the corpus lists them.
    """
    try:
        title = course_info(corpus_dir).title
    except TutorError as exc:
        log.warning("%s", exc)
        title = ""
    return title or next((t for t in documents if t), "") or Path(corpus_dir).name


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
    if doc.markup == "parsed":
        title, headings = doc.title, [_Heading(h.line, h.text, h.level) for h in doc.headings]
    elif doc.markup == "markdown":
        title, headings = _markdown_headings(lines)
    else:
        title, headings = _plain_headings(lines)
        title = title or doc.title

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
    if doc.pages:
        sections = _split_at_pages(sections, doc.pages)
    return title, sections


def _split_at_pages(sections: list[Section], pages: tuple[int, ...]) -> list[Section]:
    """Each section cut where a page starts, each piece knowing its 1-based page."""
    out: list[Section] = []
    page = 0  # index into `pages` of the page that holds the current position
    for section in sections:
        start = section.start
        while page + 1 < len(pages) and pages[page + 1] <= start:
            page += 1
        while start < section.end:
            end = min(section.end, pages[page + 1]) if page + 1 < len(pages) else section.end
            text = section.text[start - section.start : end - section.start]
            if text.strip():
                out.append(Section(section.source, section.headings, text, start, end, page=page + 1))
            if end < section.end:
                page += 1
            start = end
    return out


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


def _heading_shape(lines: list[str], i: int, last_text: int) -> tuple[bool, bool]:
    """(is it a heading?, is it a numbered heading?) for line i of a plain-text document.

    `last_text` is the index of the document's last non-blank line: a heading has text after it.
    """
    raw = lines[i]
    text = raw.strip()
    if not text or len(text) > 100 or len(text.split()) > 14:
        return False, False
    if len(raw[: len(raw) - len(raw.lstrip())].replace("\t", "    ")) >= 2:
        return False, False  # indented: a list item or a quotation
    isolated = (i == 0 or not lines[i - 1].strip()) and (i + 1 >= len(lines) or not lines[i + 1].strip())
    if not isolated or i >= last_text:
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
    last_text = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), -1)
    for i in range(len(lines)):
        is_heading, numbered = _heading_shape(lines, i, last_text)
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
