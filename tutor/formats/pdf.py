"""The text of a PDF, page by page, with headings told by their font size where the PDF shows them.

PDFium (pypdfium2) extracts each page's text and the size of each character. Lines set in a clearly
larger size than the body text are headings, the largest size the top level; a PDF whose text is all
one size is left to the plain-text heading inference. Pages are kept: every passage knows its page.
Running heads and feet (a line at the top or bottom of most pages) are dropped. A page without a
text layer but with images (a scan) is reported, and reading stops once a document
holds as much text as one may (a small file can repeat one page's content thousands of times).
pypdf is the fallback reader when pypdfium2 is not installed (no font sizes, pages kept).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from tutor.formats import Outline, TextLimitReached, clean_line

DIGITS_RE = re.compile(r"\d+")
HEADING_SCALE = 1.15  # a heading's font is at least this much larger than the body's


class UnreadablePDF(Exception):
    """The bytes are not a PDF that can be opened (damaged, encrypted, not a PDF)."""


@dataclass
class PdfText:
    outline: Outline
    structured: bool  # headings come from font sizes (else: infer them from the text)
    pages: int
    scanned: list[int]  # 1-based pages with images but no text
    stopped_at: int | None  # the page where reading stopped at the text limit


@dataclass(frozen=True)
class _Line:
    page: int
    text: str
    size: float


def read_pdf(data: bytes, limit: int, on_page: Callable[[int, int], None] | None = None) -> PdfText:
    try:
        import pypdfium2  # noqa: F401
    except ImportError:
        return _read_with_pypdf(data, limit, on_page)
    return _read_with_pdfium(data, limit, on_page)


def _read_with_pdfium(data: bytes, limit: int, on_page) -> PdfText:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise UnreadablePDF(str(exc)) from exc
    try:
        count = len(pdf)
        lines: list[_Line] = []
        scanned: list[int] = []
        stopped_at = None
        total = 0
        for number in range(1, count + 1):
            if on_page:
                on_page(number, count)
            page_lines, has_images = _page_lines(pdf, number, pdfium)
            if not page_lines and has_images:
                scanned.append(number)
            total += sum(len(line.text) + 1 for line in page_lines)
            if total > limit:
                stopped_at = number
                break
            lines.extend(page_lines)
        title = clean_line(str(pdf.get_metadata_dict().get("Title") or ""))
    except pdfium.PdfiumError as exc:
        raise UnreadablePDF(str(exc)) from exc
    finally:
        pdf.close()
    outline, structured = _outline(lines, count, limit)
    if not outline.title:
        outline.title = title
    return PdfText(outline, structured, count, scanned, stopped_at)


def _page_lines(pdf, number: int, pdfium) -> tuple[list[_Line], bool]:
    page = pdf[number - 1]
    try:
        textpage = page.get_textpage()
        try:
            count = textpage.count_chars()
            text = textpage.get_text_range() if count else ""
            # Each character of the text is one of the page's characters, generated line breaks
            # included, unless the page holds characters outside the BMP: then sizes are not used.
            sized = len(text) == count
            lines, start = [], 0
            for raw in text.replace("\r\n", "\n\0").split("\n"):
                piece = raw.replace("\0", "")
                first = start + (len(raw) - len(raw.lstrip("\0 \t")))
                size = pdfium.raw.FPDFText_GetFontSize(textpage.raw, first) if sized and piece.strip() else 0.0
                if piece.strip():
                    lines.append(_Line(number, piece, round(size * 2) / 2))
                start += len(raw) + 1
        finally:
            textpage.close()
        has_images = bool(lines) or any(True for _ in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE]))
        return lines, has_images
    finally:
        page.close()


def _running_lines(lines: list[_Line]) -> set[int]:
    """Running heads and feet: a line at the top or bottom of most pages ("Biology 101", "Page 3 of 9")."""
    by_page: dict[int, list[int]] = {}
    for n, line in enumerate(lines):
        by_page.setdefault(line.page, []).append(n)
    seen: Counter = Counter()
    where: dict[str, list[int]] = {}
    for members in by_page.values():
        keys = {}
        for n in dict.fromkeys(members[:2] + members[-2:]):
            keys.setdefault(DIGITS_RE.sub("#", clean_line(lines[n].text).lower()), []).append(n)
        for key, found in keys.items():
            seen[key] += 1
            where.setdefault(key, []).extend(found)
    enough = max(3, (len(by_page) + 1) // 2)
    return {n for key, count in seen.items() if count >= enough for n in where[key]}


def _outline(lines: list[_Line], pages: int, limit: int) -> tuple[Outline, bool]:
    outline = Outline(limit=limit)
    running = _running_lines(lines)
    lines = [line for n, line in enumerate(lines) if n not in running]
    sizes = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
    body = sizes.most_common(1)[0][0] if sizes else 0.0
    heading_sizes = sorted(
        {line.size for line in lines if body and line.size >= body * HEADING_SCALE and _heading_like(line.text)},
        reverse=True,
    )
    is_heading = [line.size in heading_sizes and _heading_like(line.text) for line in lines]
    # The first line, alone in the largest size, names the document (as a single top heading does).
    title_line = None
    if heading_sizes and is_heading[0] and lines[0].size == heading_sizes[0]:
        if sum(1 for line in lines if line.size == heading_sizes[0]) == 1:
            title_line = 0
            outline.title = clean_line(lines[0].text)
            heading_sizes = heading_sizes[1:]
    level = {size: n + 1 for n, size in enumerate(heading_sizes)}
    try:
        page, run = 0, []
        for n, line in enumerate(lines):
            if line.page != page:
                outline.block(run)
                run = []
                while page < line.page:
                    outline.page()
                    page += 1
            if n == title_line:
                continue
            if is_heading[n]:
                outline.block(run)
                run = []
                if n > 0 and is_heading[n - 1] and lines[n - 1].size == line.size and lines[n - 1].page == line.page:
                    _extend_heading(outline, line.text)  # a heading wrapped onto a second line
                else:
                    outline.heading(level[line.size], line.text)
            else:
                run.append(line.text)
        outline.block(run)
        while page < pages:
            outline.page()
            page += 1
    except TextLimitReached:
        outline.truncated = True
    return outline, bool(heading_sizes)


def _heading_like(text: str) -> bool:
    text = clean_line(text)
    return 0 < len(text) <= 100 and len(text.split()) <= 14 and any(ch.isalpha() for ch in text)


def _extend_heading(outline: Outline, text: str) -> None:
    last = outline.headings[-1]
    joined = f"{last.text} {clean_line(text)}"
    outline.headings[-1] = type(last)(last.line, last.level, joined)
    outline.lines[last.line] = joined
    outline.size += len(clean_line(text)) + 1


def _read_with_pypdf(data: bytes, limit: int, on_page) -> PdfText:
    from io import BytesIO

    try:
        from pypdf import PdfReader

        reader = PdfReader(BytesIO(data))
        count = len(reader.pages)
    except ImportError as exc:
        raise UnreadablePDF("reading PDF needs the 'pypdfium2' package (pip install pypdfium2)") from exc
    except Exception as exc:  # pypdf raises many types on damaged files
        raise UnreadablePDF(str(exc)) from exc
    outline = Outline(limit=limit)
    stopped_at = None
    for number, page in enumerate(reader.pages, start=1):
        if on_page:
            on_page(number, count)
        try:
            text = page.extract_text() or ""
        except Exception as exc:
            raise UnreadablePDF(str(exc)) from exc
        try:
            outline.page()
            outline.block(text.split("\n"))
        except TextLimitReached:
            outline.truncated, stopped_at = True, number
            break
    return PdfText(outline, False, count, [], stopped_at)
