"""Turn a course file of one format into clean text with its headings, title and pages.

Each format module (`html`, `markdown`, `pdf`) reads its files with a real parser and writes what
it finds into an `Outline`: paragraphs, list items ("- ", "1. "), table rows ("| a | b |") and code
as lines of text, and headings beside them (line and level), so that a `#` inside a code block is
never a heading. The outline's text is what passages and their offsets refer to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SPACE_RE = re.compile(r"\s+")


class TextLimitReached(Exception):
    """The outline holds as much text as one document may; the reader stops and says so."""


def clean_line(text: str) -> str:
    """One line of text: control characters dropped, runs of whitespace made one space."""
    text = "".join(ch for ch in text if ch.isprintable() or ch in "\t\u00a0" or ch.isspace())
    return SPACE_RE.sub(" ", text).strip()


@dataclass(frozen=True)
class Heading:
    line: int  # the heading's own line in the outline's text
    level: int  # 1 for a top-level heading
    text: str


@dataclass
class Outline:
    """Text built block by block, with the headings a parser found and the offsets where pages start."""

    limit: int  # most characters of text this outline may hold
    title: str = ""
    lines: list[str] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    page_lines: list[int] = field(default_factory=list)  # the first line of each page
    size: int = 0
    truncated: bool = False  # the document holds more text than `limit`; the rest was not read
    links: int = 0  # links in the content (HTML), and the words of their text
    linked_words: int = 0

    def heading(self, level: int, text: str) -> None:
        text = clean_line(text)
        if text:
            self._separate()
            self.headings.append(Heading(len(self.lines), level, text))
            self._add(text)

    def block(self, lines: list[str], *, keep_indent: bool = False) -> None:
        """A paragraph, list, table or code block: its lines, set off by a blank line."""
        cleaned = [self._clean(line, keep_indent) for line in lines]
        cleaned = [line for line in cleaned if line.strip()]
        if cleaned:
            self._separate()
            for line in cleaned:
                self._add(line)

    def page(self) -> None:
        """The next text starts a new page."""
        self._separate()
        self.page_lines.append(len(self.lines))

    def text(self) -> str:
        return "\n".join(self.lines) + "\n" if self.lines else ""

    def page_starts(self) -> tuple[int, ...]:
        """The offset in `text()` where each page starts."""
        offsets, pos, line = [], 0, 0
        for first in self.page_lines:
            while line < first:
                pos += len(self.lines[line]) + 1
                line += 1
            offsets.append(pos)
        return tuple(offsets)

    def _clean(self, line: str, keep_indent: bool) -> str:
        text = clean_line(line)
        if keep_indent and text:
            return " " * (len(line) - len(line.lstrip(" "))) + text
        return text

    def _separate(self) -> None:
        if self.lines and self.lines[-1]:
            self._add("")

    def _add(self, line: str) -> None:
        if self.size + len(line) + 1 > self.limit:
            raise TextLimitReached
        self.lines.append(line)
        self.size += len(line) + 1
