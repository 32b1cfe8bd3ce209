"""Property and fuzz tests: chunking and ingestion hold their promises on arbitrary input.

For any text, the pipeline that builds passages (clean, split into sections, chunk) must not crash;
every visible character must end up in some passage (or be a heading, which lives in the passage's
path); a passage's offsets must point at the source text it came from; no passage may be longer than
CHUNK_MAX_CHARS. And reading any bytes as a course file either gives a document or a TutorError.
"""

from __future__ import annotations

import os
import re
import string

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tutor.chunking import chunk_sections
from tutor.config import CHUNK_MAX_CHARS, CORPUS_SUFFIXES
from tutor.errors import TutorError
from tutor.ingest import Document, _markdown_headings, _plain_headings, clean_text, read_document, split_sections
from tutor.models import PATH_SEP

# TUTOR_FUZZ_EXAMPLES=5000 for a longer hunt; 200 keeps the file to seconds.
FUZZ = settings(
    max_examples=int(os.environ.get("TUTOR_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Pieces that exercise the structure rules: headings of both kinds, lists, steps, pipe tables and tables
# whose cells were run together, long unbroken words, sentence ends, blank lines, tabs.
STRUCTURE = [
    "# Title\n", "## Part Two\n", "Setext\n=====\n", "Sub\n---\n", "Industry Goals\n", "2. Data Characteristics\n",
    "Step 3: mix it.\n", "- item one\n", "  - nested item\n", "* star item\n", "1) first\n", "a. lettered\n",
    "| A | B |\n", "|---|---|\n", "| x | y |\n", "AspectAcademicIndustry\n", "Risk ToleranceHighLow\n",
    "GoalNoveltyValue\n", "\n", "\n\n\n", "\t", "    code\n", "```\n", "Researchers aim to:\n",
    "This is a sentence. ", "Is it? Yes! ", "\"Quoted.\" Then ", "(aside) ", "Ünïcödé wörds ",
    "x" * 400, " ".join(["word"] * 120), "A" * 1000, "é" * 97, "| " + "c | " * 30 + "\n",
]
text_strategy = st.one_of(
    st.text(max_size=3000),
    st.lists(
        st.one_of(st.sampled_from(STRUCTURE), st.text(alphabet=string.printable, max_size=200)), max_size=60
    ).map("".join),
)


def _alnum(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _is_subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(ch in it for ch in needle)


def _heading_lines(doc: Document, title: str, sections) -> set[str]:
    """The text of every line the splitter read as a heading: the title, the sections' paths, and
    headings with nothing under them (which head no section)."""
    lines = doc.text.split("\n")
    _, found = _markdown_headings(lines) if doc.markup == "markdown" else _plain_headings(lines)
    names = {title} if title else set()
    names.update(h.text for h in found)
    for section in sections:
        names.update(section.headings)
    return {re.sub(r"\s+", " ", n).strip() for n in names}


def _chunk(text: str, markup: str):
    doc = Document(source="corpus/fuzz.txt", text=clean_text(text), markup=markup)
    title, sections = split_sections(doc)
    return doc, title, sections, chunk_sections(sections)


def _check_chunking(text: str, markup: str) -> None:
    doc, title, sections, chunks = _chunk(text, markup)
    source = doc.text
    for c in chunks:
        assert len(c.text) <= CHUNK_MAX_CHARS, f"passage of {len(c.text)} characters"
        assert 0 <= c.start <= c.end <= len(source)
        # Offsets map back: what the source holds there is in the passage (table rows gain labels).
        assert _is_subsequence(_alnum(source[c.start : c.end]), _alnum(c.text)), (source[c.start : c.end], c.text)
        assert c.section == PATH_SEP.join(next(s.headings for s in sections if s.start <= c.start <= s.end))

    covered = [False] * len(source)
    for c in chunks:
        covered[c.start : c.end] = [True] * (c.end - c.start)
    headings = _heading_lines(doc, title, sections)
    offset = 0
    for line in source.split("\n"):
        stripped = re.sub(r"\s+", " ", line).strip()
        for i, ch in enumerate(line):
            if not ch.isspace() and not covered[offset + i]:
                # Not in a passage: it must be a heading line (its text lives in the passages' path).
                bare = re.sub(r"^#{1,6}\s+|\s*#*\s*$", "", stripped) if markup == "markdown" else stripped
                assert bare in headings or stripped in headings, f"lost {ch!r} in line {line!r}"
                break
        offset += len(line) + 1


@FUZZ
@given(text_strategy)
@example("Title\n\nIntro text.\n\n| A | B |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n")
@example("Sentence one is here. " * 80)
@example("- " + "item text goes on. " * 70 + "\n- second\n")
@example("AspectAcademicIndustry\nRisk ToleranceHigh - " + "bold " * 200 + "Low - safe\nGoalNoveltyValue\n")
def test_plain_text_chunks_cover_the_source_and_map_back(text):
    _check_chunking(text, "plain")


@FUZZ
@given(text_strategy)
@example("# Title\n\n## A\n\ntext\n\nB\n===\n\nmore\n")
def test_markdown_chunks_cover_the_source_and_map_back(text):
    _check_chunking(text, "markdown")


@FUZZ
@given(st.binary(max_size=4000), st.sampled_from(CORPUS_SUFFIXES))
@example(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF", ".pdf")
@example(b"<html><h1>T</h1><table><tr><td>a<td>b</tr></table><script>x", ".html")
@example(b"\xff\xfe\x00h\x00i", ".txt")
@example("caf\xe9 na\xefve r\xe9sum\xe9 \x80\x99".encode("latin-1"), ".md")
def test_reading_any_bytes_gives_a_document_or_a_tutor_error(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"file{suffix}"
    path.write_bytes(data)
    try:
        doc = read_document(path, f"corpus/file{suffix}")
    except TutorError as exc:
        assert f"file{suffix}" in str(exc)  # the warning names the file
        return
    assert doc.text.strip()
    # What was read goes through the rest of the pipeline too.
    title, sections = split_sections(doc)
    for chunk in chunk_sections(sections):
        assert len(chunk.text) <= CHUNK_MAX_CHARS
