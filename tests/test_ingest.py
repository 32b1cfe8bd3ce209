"""Reading course files: each format by its parser, and the files a course folder should not break on.

Every test builds its own small files: a web page with navigation and scripts, Markdown with emphasis
and tables, a two-page PDF written by hand, text in odd encodings, links out of the folder, a file
name that is not UTF-8, and a document large enough to show whether reading it is linear.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

from tutor.chunking import chunk_sections
from tutor.ingest import Document, course_title, load_corpus, read_document, split_sections
from tutor.models import Section

from .tiny_pdf import make_pdf


def passages(path: Path, source: str | None = None):
    doc = read_document(path, source or f"corpus/{path.name}")
    title, sections = split_sections(doc)
    return doc, title, chunk_sections(sections)


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def said(chunks) -> set[str]:
    """Every word a passage shows: its text and its heading path."""
    return set().union(*(words(f"{c.section}\n{c.text}") for c in chunks))


# --------------------------------------------------------------------------- HTML

PAGE = """<!doctype html>
<html lang="en"><head><title>Cell Biology</title><meta charset="utf-8">
<style>body { color: crimson }</style><script>var tracker = "beacon";</script></head>
<body>
<header><a href="/">Homepage</a> <a href="/about">Aboutus</a><form><input name=q><button>Searchbox</button></form></header>
<nav><ul><li><a href="/a">Menuone<li><a href="/b">Menutwo</ul></nav>
<article>
  <h1>Cell Biology</h1>
  <p>Cells are the <b>basic</b> unit of <a href="/life">life</a>.</p>
  <h2>Membranes</h2>
  <p>The membrane is a lipid bilayer.<br>It controls transport.</p>
  <ul><li>Diffusion needs no energy<li>Pumps use ATP<ul><li>sodium potassium pump</ul></ul>
  <h2>Organelles</h2>
  <table>
    <tr><th>Organelle<th>Role
    <tr><td>Nucleus<td>stores DNA
    <tr><td>Ribosome<td>builds proteins <table><tr><td>nested ribonucleoprotein</table>
    <tr><td>Golgi<td>packages vesicles
  </table>
  <p>Mitochondria follow the table.</p>
  <h3>Code</h3>
  <pre><code># counting cells
cells = 2 ** generations</code></pre>
  <footer>Written by Doctor Hooke</footer>
</article>
<aside>Sidebarpromo</aside>
<footer>Copyrightnotice footerlink</footer>
<script>document.write("injected")</script>
</body></html>
"""
BODY_WORDS = words(
    "Cells are the basic unit of life Membranes The membrane is a lipid bilayer It controls transport "
    "Diffusion needs no energy Pumps use ATP sodium potassium pump Organelles Organelle Role Nucleus stores DNA "
    "Ribosome builds proteins nested ribonucleoprotein Golgi packages vesicles Mitochondria follow the table "
    "Code counting cells cells 2 generations Written by Doctor Hooke"
)
FURNITURE = words("Homepage Aboutus Searchbox Menuone Menutwo Sidebarpromo Copyrightnotice footerlink tracker "
                  "beacon crimson injected")


def test_a_web_page_gives_its_article_text_and_title_without_its_furniture(tmp_path):
    page = tmp_path / "cells.html"
    page.write_text(PAGE, encoding="utf-8")
    _, title, chunks = passages(page)
    assert title == "Cell Biology"
    shown = said(chunks)
    assert BODY_WORDS <= shown, BODY_WORDS - shown
    assert not FURNITURE & shown
    assert next(c for c in chunks if "Pumps use ATP" in c.text).section == "Membranes"
    assert "Nucleus — Role: stores DNA" in next(c for c in chunks if "Nucleus" in c.text).text
    assert next(c for c in chunks if "counting cells" in c.text).section == "Organelles › Code"


@pytest.mark.parametrize(
    "table",
    [
        "<table><tr><td>alpha<td>beta<tr><td>gamma<td>delta</table>",  # no </td>, no </tr>
        "<table><tr><td>alpha</td><td>beta</td></tr><tr><td>gamma</td><td>delta</td></table>",  # last </tr> missing
        "<table><tr><td>alpha<table><tr><td>beta</td></tr></table></td><td>gamma</td></tr><tr><td>delta</tr></table>",
        "<table><tr><td>alpha<td>beta<tr><td>gamma<td>delta",  # never closed at all
    ],
    ids=["optional end tags", "missing last tr", "nested table", "unclosed table"],
)
def test_a_table_never_swallows_its_text_or_what_follows_it(tmp_path, table):
    page = tmp_path / "t.html"
    page.write_text(f"<h1>Tables</h1><p>Before the table.</p>{table}<p>Epsilon comes after.</p><h2>Zeta</h2><p>eta</p>")
    _, _, chunks = passages(page)
    assert words("before the table alpha beta gamma delta epsilon comes after zeta eta") <= said(chunks)


def test_a_small_article_beside_the_page_text_does_not_hide_it(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<h1>Genetics</h1><p>Genes are units of heredity carried on chromosomes in every cell.</p>"
                    "<p>Alleles are variants of one gene.</p><article>Related: a news item.</article>")
    _, _, chunks = passages(page)
    assert words("genes heredity alleles variants related news") <= said(chunks)


DOCS_PAGE = """<!doctype html>
<html><head><title>Gearboxes — Widget documentation</title></head><body>
<div class="related" role="navigation"><h3>Navigation</h3>
  <ul><li><a href="genindex.html">index</a></li><li><a href="modules.html">modules</a> |</li>
  <li><a href="next.html">next</a> |</li><li><a href="prev.html">previous</a> |</li></ul></div>
<div class="document"><div class="bodywrapper"><div class="body"{role}>
<section id="gearboxes"><h1>Gearboxes<a class="headerlink" href="#gearboxes" title="Permalink">¶</a></h1>
<p>A gearbox trades speed for torque.</p>
<section id="ratios"><h2>Ratios<a class="headerlink" href="#ratios" title="Permalink">¶</a></h2>
<p>The ratio is driven teeth over driving teeth, as in <a href="#ratios">that section</a>.</p>
<dl><dt id="box.shift"><code>shift(gear)</code><a href="#box.shift" title="Permalink">¶</a></dt>
<dd><p>Moves the selector to <em>gear</em>.</p></dd></dl>
<div class="highlight"><pre><span class="k">for</span> gear <span class="ow">in</span> box:
    shift(gear)</pre></div>
<footer><p>Chapter footnote: ratios above one reduce speed.</p></footer>
</section></section>
</div></div>
<div class="sidebar-wrapper"><h3>Table of Contents</h3><ul><li><a href="#">Sidebartoc</a></li></ul>
  <h4>Previous topic</h4><p><a href="prev.html">Clutches</a></p>
  <h3>This Page</h3><ul><li><a href="bugs.html">Report a Bug</a></li><li><a href="src.txt">Show Source</a></li></ul>
  <div class="searchbox"><h3>Quick search</h3><form><input type="text" name="q"><input type="submit" value="Go"></form></div>
</div></div>
<div class="footer">© Copyright 2026 Widgetworks. Found a bug?</div>
</body></html>
"""


@pytest.mark.parametrize("role", ['', ' role="main"'], ids=["content in the body", "content marked main"])
def test_a_documentation_page_loses_its_bars_sidebar_footer_and_permalink_marks(tmp_path, role):
    page = tmp_path / "gearboxes.html"
    page.write_text(DOCS_PAGE.replace("{role}", role), encoding="utf-8")
    doc, title, chunks = passages(page)
    shown = said(chunks)
    assert words("gearbox trades speed for torque ratio driven teeth that section shift gear moves selector "
                 "for in box chapter footnote ratios above one reduce") <= shown
    furniture = words("Navigation index modules next previous Sidebartoc Table Contents Previous topic Clutches "
                      "This Page Report Bug Show Source Quick search Go Copyright Widgetworks Found")
    assert not furniture & shown, furniture & shown
    text = "\n".join(c.text for c in chunks)
    assert "¶" not in text + title and [h.text for h in doc.headings] == ["Ratios"]
    assert "shift(gear)" in text.split("\n") and next(c for c in chunks if "torque" in c.text).section == ""
    assert next(c for c in chunks if "Moves the selector" in c.text).section == "Ratios"


def test_html_course_files_lose_scripts_and_hidden_text(tmp_path):
    page = tmp_path / "x.html"
    page.write_text('<p>Seen text.</p><p hidden>secretone</p><div aria-hidden="true">secrettwo</div>'
                    '<template><p>secretthree</p></template><noscript>secretfour</noscript>')
    doc, _, _ = passages(page)
    assert "Seen text." in doc.text and not re.search("secret", doc.text)


def test_a_page_of_links_is_left_out_with_a_warning_and_a_page_of_text_with_links_is_kept(tmp_path):
    from tutor.ingest import load_corpus

    course = tmp_path / "course"
    course.mkdir()
    entries = "".join(f'<li><a href="ch{n}.html">{n}. Chapter {n}: plate boundaries and faults</a></li>'
                      for n in range(1, 31))
    (course / "contents.html").write_text(f"<title>Contents</title><h1>Contents</h1><p>The chapters:</p><ul>{entries}"
                                          "</ul>", encoding="utf-8")
    linked = "".join(f'<p>Plates move apart at <a href="r{n}.html">ridges</a>, where magma rises, cools and '
                     f'forms new crust; the sea floor spreads a few centimetres a year (reading {n}).</p>'
                     for n in range(30))
    (course / "ridges.html").write_text(f"<title>Ridges</title>{linked}", encoding="utf-8")
    documents, warnings = load_corpus(course)
    assert [d.source for d in documents] == ["course/ridges.html"]
    assert any("Skipped course/contents.html: a page of links (30 links" in w and "table of contents" in w
               for w in warnings), warnings


# --------------------------------------------------------------------------- Markdown

NOTES = """---
title: "Photosynthesis: how plants eat"
author: A. Teacher
---

# Photosynthesis

Plants make **sugar** from *light*, as [the primer](https://example.com/primer) says. ![A leaf cross-section](https://example.com/leaf.png)![](https://example.com/deco.png)

## 2.1 Light-dependent reactions

They happen in the `thylakoid`
membrane and make ATP.

- ATP carries **energy**
- NADPH carries electrons
  1. made by photosystem I
  2. used in the Calvin cycle

```
# a comment in code, not a heading
rate = light * area
```

## 2.2 Calvin cycle

| Stage | Input | Output |
|---|---|---|
| Fixation | CO2 | **3-PGA** |
| Reduction | `ATP` | G3P |
"""


def test_markdown_passages_are_clean_text_under_numbered_headings(tmp_path):
    md = tmp_path / "notes.md"
    md.write_text(NOTES, encoding="utf-8")
    doc, title, chunks = passages(md)
    assert title == "Photosynthesis: how plants eat"
    text = "\n".join(c.text for c in chunks)
    for mark in ("**", "`", "](", "![", "https://", "leaf.png", "author", "---"):
        assert mark not in text, mark
    assert "Plants make sugar from light, as the primer says. A leaf cross-section" in text
    light = next(c for c in chunks if "thylakoid" in c.text)
    assert light.section == "2.1 Light-dependent reactions"
    assert "They happen in the thylakoid membrane and make ATP." in light.text
    assert "1. made by photosystem I" in light.text
    assert "a comment in code" in light.text  # code is kept, and its '#' is not a heading
    assert not any("comment" in c.section for c in chunks)
    row = next(c for c in chunks if "Fixation" in c.text)
    assert row.section == "2.2 Calvin cycle"
    assert "Fixation — Input: CO2; Output: 3-PGA" in row.text
    assert "Reduction — Input: ATP; Output: G3P" in row.text


def test_a_single_top_heading_names_a_markdown_file_without_front_matter(tmp_path):
    md = tmp_path / "n.md"
    md.write_text("# Genetics\n\nIntro.\n\n## Alleles\n\nVariants of a gene.\n")
    _, title, chunks = passages(md)
    assert title == "Genetics"
    assert next(c for c in chunks if "Variants" in c.text).section == "Alleles"


# --------------------------------------------------------------------------- PDF

BODY = 11
PAGE_ONE = [
    (20, "Photosynthesis"),
    (15, "1. Light reactions"),
    (BODY, "Plants capture light in the thylakoid membrane of the chloroplast."),
    (BODY, "The energy splits water and releases oxygen as a by-product."),
]
PAGE_TWO = [
    (BODY, "The reactions also make ATP and NADPH for the next stage."),
    (15, "2. Calvin cycle"),
    (BODY, "The Calvin cycle fixes carbon dioxide into three-carbon sugars."),
]


def test_a_pdf_gives_passages_with_their_pages_and_headings_from_font_size(tmp_path):
    pdf = tmp_path / "plants.pdf"
    pdf.write_bytes(make_pdf([PAGE_ONE, PAGE_TWO]))
    _, title, chunks = passages(pdf)
    assert title == "Photosynthesis"
    pages = {c.text.split("\n")[0][:20]: (c.page, c.section) for c in chunks}
    assert pages["Plants capture light"] == (1, "1. Light reactions")
    # A section that runs over a page break is cut there, so each passage cites one page.
    assert pages["The reactions also m"] == (2, "1. Light reactions")
    assert pages["The Calvin cycle fix"] == (2, "2. Calvin cycle")


def test_running_heads_and_page_numbers_are_not_passages(tmp_path):
    pdf = tmp_path / "unit.pdf"
    body = [[(BODY, text)] for text in ("Cells are the unit of life.", "Membranes hold cells together.",
                                        "Ribosomes build proteins.", "Mitochondria release energy.")]
    pdf.write_bytes(make_pdf([[(9, "Biology 101: Unit 2")] + lines + [(9, f"Page {n + 1} of 4")]
                              for n, lines in enumerate(body)]))
    _, _, chunks = passages(pdf)
    text = "\n".join(c.text for c in chunks)
    assert [c.page for c in chunks] == [1, 2, 3, 4]
    assert "Mitochondria release energy." in text and "Unit 2" not in text and "of 4" not in text


def test_without_pypdfium2_pypdf_reads_the_pages(tmp_path, monkeypatch):
    pytest.importorskip("pypdf")
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # as if it were not installed
    pdf = tmp_path / "plants.pdf"
    pdf.write_bytes(make_pdf([PAGE_ONE, PAGE_TWO]))
    _, _, chunks = passages(pdf)
    assert next(c for c in chunks if "thylakoid" in c.text).page == 1
    assert next(c for c in chunks if "Calvin cycle fixes" in c.text).page == 2


def test_scanned_pdf_pages_are_reported_by_file_and_page(tmp_path):
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(make_pdf([PAGE_ONE, None, [], None]))
    doc = read_document(pdf, "corpus/scan.pdf")
    assert doc.warnings == ("corpus/scan.pdf: pages 2, 4 hold only images (scanned?) and no text; "
                            "run OCR on the file to use them.",)
    only_images = tmp_path / "images.pdf"
    only_images.write_bytes(make_pdf([None, None]))
    with pytest.raises(Exception, match=r"Skipped corpus/images.pdf: it holds no text, only images"):
        read_document(only_images, "corpus/images.pdf")


def test_a_pdf_that_repeats_one_page_thousands_of_times_stops_at_the_text_limit(tmp_path, monkeypatch):
    monkeypatch.setattr("tutor.ingest.MAX_DOCUMENT_CHARS", 300_000)
    line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt."
    pdf = tmp_path / "bomb.pdf"
    pdf.write_bytes(make_pdf([[(BODY, line)] * 400], shared_pages=5000))  # ~37,000 characters a page
    assert pdf.stat().st_size < 1_000_000
    started = time.perf_counter()
    doc = read_document(pdf, "corpus/bomb.pdf")
    assert len(doc.text) <= 300_000
    assert doc.warnings == ("Only the first 300,000 characters of corpus/bomb.pdf were read (pages 1 to 8 of "
                            "5001): split it into smaller files to use the rest.",)
    assert time.perf_counter() - started < 30


# --------------------------------------------------------------------------- encodings


def test_one_stray_byte_does_not_turn_a_utf8_file_into_mojibake(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes("Café au lait\n\nA naïve résumé costs 5\x92 today.\n".encode().replace(b"\xc2\x92", b"\x92"))
    doc = read_document(path, "corpus/notes.txt")
    assert "Café au lait" in doc.text and "naïve résumé" in doc.text
    assert "5\ufffd today" in doc.text
    assert doc.warnings == ("corpus/notes.txt: 1 byte that is not UTF-8 was replaced by \ufffd; "
                            "the rest is read as UTF-8.",)


def test_a_latin1_file_is_still_read_as_latin_text(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\xe9 notes\n\nThe r\xe9sum\xe9 of a na\xefve model.\n".encode("latin-1"))
    doc = read_document(path, "corpus/latin.txt")
    assert "résumé of a naïve model" in doc.text
    assert "Windows-1252" in doc.warnings[0]


@pytest.mark.parametrize(
    "text, encoding",
    [("Глубокое обучение\n\nМодель учится на данных и ошибается.\n", "cp1251"),
     ("深層学習\n\nモデルはデータから学ぶ。学術界と産業界では目標が異なる。\n", "shift_jis")],
)
def test_a_legacy_file_in_another_script_is_read_in_its_encoding(tmp_path, text, encoding):
    pytest.importorskip("charset_normalizer")
    path = tmp_path / "notes.txt"
    path.write_bytes(text.encode(encoding))
    doc = read_document(path, "corpus/notes.txt")
    assert doc.text == text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_a_bom_are_text(tmp_path, encoding):
    path = tmp_path / "wide.md"
    data = "# Wide\n\n## Énergie\n\nLa lumière donne l'énergie.\n".encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path.write_bytes(data)
    _, _, chunks = passages(path)
    assert [(c.section, c.text) for c in chunks] == [("Énergie", "La lumière donne l'énergie.")]


# --------------------------------------------------------------------------- the course folder


def test_links_that_leave_the_course_folder_are_not_followed(tmp_path):
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "secret.txt").write_text("Passwords\n\nThe secret is swordfish.\n")
    corpus = tmp_path / "corpus"
    (corpus / "unit").mkdir(parents=True)
    (corpus / "unit" / "lesson.txt").write_text("Lesson\n\nCells divide.\n")
    (corpus / "leak.txt").symlink_to(outside / "secret.txt")
    (corpus / "private").symlink_to(outside, target_is_directory=True)
    (corpus / "again.txt").symlink_to(corpus / "unit" / "lesson.txt")  # inside, but read once already
    (corpus / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    documents, warnings = load_corpus(corpus)
    assert [d.source for d in documents] == ["corpus/unit/lesson.txt"]
    assert not any("swordfish" in d.text for d in documents)
    assert "Skipped corpus/leak.txt: a link to a file outside the course folder." in warnings
    assert "Skipped corpus/private: a link to a folder outside the course folder." in warnings
    assert "Skipped corpus/dangling.txt: a link to a file that does not exist." in warnings


def test_a_link_inside_the_folder_is_read(tmp_path):
    shared = tmp_path / "corpus" / "shared"
    shared.mkdir(parents=True)
    real = tmp_path / "corpus" / ".store" / "notes.txt"
    real.parent.mkdir()
    real.write_text("Notes\n\nMitosis has four phases.\n")
    (shared / "notes.txt").symlink_to(real)
    documents, warnings = load_corpus(tmp_path / "corpus")
    assert [d.source for d in documents] == ["corpus/shared/notes.txt"] and not warnings


def test_a_file_name_that_is_not_utf8_is_read_under_an_escaped_name(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "intro.txt").write_text("Intro\n\nOsmosis moves water.\n")
    with open(os.path.join(os.fsencode(corpus), b"r\xe9sum\xe9.txt"), "wb") as f:  # a name from a Latin-1 zip
        f.write(b"Summary\n\nDiffusion moves solutes.\n")
    documents, warnings = load_corpus(corpus)
    assert sorted(d.source for d in documents) == ["corpus/intro.txt", "corpus/r\\xe9sum\\xe9.txt"]
    for doc in documents:
        doc.source.encode("utf-8")  # can be written to the index and shown
    assert any("corpus/r\\xe9sum\\xe9.txt is not valid UTF-8" in w for w in warnings)


@pytest.mark.slow
def test_a_folder_with_an_odd_file_name_indexes_and_answers(tmp_path, corpus_dir, index_dir):
    from tutor import Tutor

    corpus = Path(shutil.copytree(corpus_dir, tmp_path / "corpus"))
    with open(os.path.join(os.fsencode(corpus), b"r\xe9sum\xe9.txt"), "wb") as f:
        f.write(b"Glossary\n\nA perceptron is a single artificial neuron.\n")
    index = Path(shutil.copytree(index_dir, tmp_path / "index"))
    tutor = Tutor.load(corpus, index, generator="extractive", device="cpu")
    answer = tutor.ask("What is a perceptron?")
    assert answer.citations[0].source == "corpus/r\\xe9sum\\xe9.txt"


@pytest.mark.slow
def test_pdf_pages_are_stored_in_the_index(tmp_path):
    from tutor.store import load_index, open_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "plants.pdf").write_bytes(make_pdf([PAGE_ONE, PAGE_TWO]))
    open_index(corpus, tmp_path / "index")
    chunks = load_index(tmp_path / "index").chunks
    assert {c.page for c in chunks} == {1, 2}
    assert next(c for c in chunks if "Calvin cycle fixes" in c.text).page == 2


def test_the_course_is_named_by_course_toml_else_by_its_first_document(tmp_path):
    corpus = tmp_path / "biology-101"
    corpus.mkdir()
    assert course_title(corpus, ["Cell Biology"]) == "Cell Biology"
    assert course_title(corpus, ["Cell Biology", "Genetics"]) == "Cell Biology"
    assert course_title(corpus, []) == "biology-101"
    (corpus / "course.toml").write_text('title = "Biology 101"\ndescription = "Cells and genes"\nlanguage = "en"\n')
    assert course_title(corpus, ["Cell Biology", "Genetics"]) == "Biology 101"
    (corpus / "course.toml").write_text('title = "unclosed\n')
    assert course_title(corpus, ["Cell Biology"]) == "Cell Biology"


def test_the_tutor_is_titled_by_its_course(tutor, tmp_path):
    from tutor import Tutor

    assert tutor.title == "Deep Learning: Academic vs Industry Perspectives"
    (tmp_path / "course.toml").write_text('title = "Machine Learning in Practice"\n')
    same = Tutor(tutor.store, tutor.retriever, tutor.answerer, corpus_dir=tmp_path, index_dir=tutor.index_dir,
                 device="cpu")
    assert same.title == "Machine Learning in Practice"


# --------------------------------------------------------------------------- large inputs


def test_heading_inference_is_linear_in_the_length_of_a_document():
    # ~4 MB of short paragraphs under headings. Looking ahead from every line over the rest of
    # the file made this take minutes; linear, it takes a few seconds on a busy 2-core machine.
    part = "Heading Number {n}\n\nA short paragraph of body text for part {n}.\n\n"
    text = "".join(part.format(n=n) for n in range(60_000))
    doc = Document("corpus/big.txt", text, "plain")
    started = time.perf_counter()
    title, sections = split_sections(doc)
    assert title == "Heading Number 0" and len(sections) == 60_000
    assert sections[-1].headings[-1] == "Heading Number 59999"
    assert time.perf_counter() - started < 30


def test_chunking_a_long_list_is_linear():
    # 100,000 list items separated by blank lines: each blank line once copied the rest of the body.
    text = "".join(f"- item {n} of the list\n\n" for n in range(100_000))
    started = time.perf_counter()
    chunks = chunk_sections([Section("corpus/list.txt", ("Items",), text, 0, len(text))])
    assert sum(c.text.count("\n- ") + 1 for c in chunks) == 100_000
    assert time.perf_counter() - started < 30


def test_long_reading_prints_progress_lines_even_without_a_terminal(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("tutor.ingest.PROGRESS_EVERY_S", 0.0)
    for n in range(3):
        (tmp_path / f"part{n}.txt").write_text(f"Part {n}\n\nSome text.\n")
    (tmp_path / "book.pdf").write_bytes(make_pdf([PAGE_ONE, PAGE_TWO]))
    load_corpus(tmp_path)
    lines = capsys.readouterr().err.splitlines()
    assert f"Reading course files: 0 of 4 read; now {tmp_path.name}/book.pdf" in lines
    assert f"Reading course files: 0 of 4 read; now {tmp_path.name}/book.pdf, page 2 of 2" in lines
    assert f"Reading course files: 3 of 4 read; now {tmp_path.name}/part2.txt" in lines


def test_skipped_files_are_logged_once(tmp_path, caplog):
    (tmp_path / "empty.md").write_text("")
    with caplog.at_level(logging.WARNING):
        _, warnings = load_corpus(tmp_path)
    assert warnings == [f"Skipped {tmp_path.name}/empty.md: it holds no text."]
    assert [r.getMessage() for r in caplog.records] == warnings


# --------------------------------------------------------------------------- any page


def _html_fragment():
    from hypothesis import strategies as st

    word = st.integers(0, 10_000).map(lambda n: f"w{n}")
    text = st.lists(word, min_size=1, max_size=4).map(" ".join)

    def wrap(children):
        inner = st.lists(st.one_of(text, children), min_size=1, max_size=4).map("".join)
        close = st.booleans()  # end tags that HTML lets a page leave out
        return st.one_of(
            st.tuples(st.sampled_from(["p", "div", "section", "span", "b", "blockquote", "h2", "h3", "pre"]), inner)
            .map(lambda t: f"<{t[0]}>{t[1]}</{t[0]}>"),
            st.tuples(inner, close).map(lambda t: f"<p>{t[0]}" + ("</p>" if t[1] else "")),
            st.tuples(st.lists(st.tuples(inner, close), min_size=1, max_size=3), close).map(
                lambda t: "<ul>" + "".join(f"<li>{c}" + ("</li>" if e else "") for c, e in t[0]) + ("</ul>" if t[1] else "")
            ),
            # (A table is closed: text after an open one is moved before it, into the words it touches.)
            st.tuples(st.lists(st.lists(st.tuples(inner, close), min_size=1, max_size=3), min_size=1, max_size=3), close)
            .map(lambda t: "<table>" + "".join(
                "<tr>" + "".join(f"<td>{c}" + ("</td>" if e else "") for c, e in row) + ("</tr>" if t[1] else "")
                for row in t[0]
            ) + "</table>"),
        )

    return st.lists(st.one_of(text, st.recursive(text, wrap, max_leaves=12)), min_size=1, max_size=5).map(" ".join)


def test_any_page_keeps_every_word_of_its_body(tmp_path_factory):
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=int(os.environ.get("TUTOR_FUZZ_EXAMPLES", "150")), deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(_html_fragment(), _html_fragment())
    def check(body, after):
        page = tmp_path_factory.mktemp("page") / "p.html"
        # (Furniture first: an unclosed table would take in a footer after it, making it the cell's own.)
        page.write_text(f"<nav>navonly</nav><footer>footonly</footer><h1>Top</h1>{body}<p>endword {after}</p>")
        doc, title, chunks = passages(page)
        shown = said(chunks) | words(title) | set().union(*(words(h.text) for h in doc.headings))
        # What a reader sees as words: inline tags join the text around them, other tags separate it.
        source = re.sub(r"</?(?:span|b)>", "", f"{body} endword {after}")
        expected = words(re.sub(r"<[^>]*>", " ", source))
        assert expected <= shown, expected - shown
        assert not words("navonly footonly") & shown

    check()


# --------------------------------------------------------------------------- documents that repeat another

TOPICS = ("membrane cell protein enzyme gradient pump channel vesicle ribosome nucleus energy signal receptor "
          "lipid sugar water ion charge voltage current transport binding folding chain acid base salt").split()
VERBS = "moves binds opens closes carries builds breaks holds sends needs keeps turns".split()


def prose(seed: int, sentences: int) -> str:
    """Distinct, readable-looking text: different seeds share no run of eight words."""
    import random

    rng = random.Random(seed)
    return " ".join(f"The {rng.choice(TOPICS)} {rng.choice(VERBS)} the {rng.choice(TOPICS)} and "
                    f"{rng.choice(VERBS)} a {rng.choice(TOPICS)} near the {rng.choice(TOPICS)}." for _ in range(sentences))


def course(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "course"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_a_markdown_file_and_its_plain_text_copy_are_read_once(tmp_path, caplog):
    text = prose(1, 30)
    root = course(tmp_path, {"notes.md": f"# Transport\n\n{text}\n", "notes.txt": f"Transport\n\n{text}\n"})
    with caplog.at_level(logging.WARNING):
        documents, warnings = load_corpus(root)
    assert [d.source for d in documents] == ["course/notes.md"]  # the copy with structure is kept
    assert warnings == ["course/notes.txt repeats course/notes.md: left out (100% of its text is there)."]
    assert warnings[0] in caplog.text


def test_a_site_export_keeps_the_page_and_leaves_out_its_rest_source(tmp_path):
    paragraphs = [prose(seed, 6) for seed in (2, 3, 4)]
    html = ("<html><body><main><h1>Pumps</h1>" + "".join(
        f"<p>{p} See <code>pump.open()</code> and the <a href='x.html'>channel guide</a>.</p>" for p in paragraphs
    ) + "</main></body></html>")
    rest = "Pumps\n=====\n\n.. _pumps:\n\n" + "".join(
        f"{p} See :func:`pump.open` and the `channel guide <x.html>`_.\n\n" for p in paragraphs)
    root = course(tmp_path, {"pumps.html": html, "_sources/pumps.rst.txt": rest})
    documents, warnings = load_corpus(root)
    assert [d.source for d in documents] == ["course/pumps.html"]
    assert len(warnings) == 1 and warnings[0].startswith("course/_sources/pumps.rst.txt repeats course/pumps.html")


def test_different_documents_that_share_a_long_header_and_footer_are_both_kept(tmp_path):
    header, footer = prose(10, 8), prose(11, 8)  # together 40 % of each document
    files = {f"week{n}.txt": f"{header}\n\n{prose(20 + n, 24)}\n\n{footer}\n" for n in (1, 2, 3)}
    documents, warnings = load_corpus(course(tmp_path, files))
    assert [d.source for d in documents] == ["course/week1.txt", "course/week2.txt", "course/week3.txt"]
    assert warnings == []


def test_a_short_note_held_in_a_longer_document_is_kept(tmp_path):
    note = prose(30, 2)  # under 50 words
    assert len(note.split()) < 50
    files = {"note.txt": note + "\n", "chapter.txt": f"{prose(31, 20)}\n\n{note}\n\n{prose(32, 20)}\n"}
    documents, warnings = load_corpus(course(tmp_path, files))
    assert sorted(d.source for d in documents) == ["course/chapter.txt", "course/note.txt"]
    assert warnings == []


def test_a_longer_part_held_in_a_larger_document_is_left_out_whatever_its_format(tmp_path):
    part = prose(40, 12)
    files = {"part.md": f"# Part\n\n{part}\n", "book.txt": f"{prose(41, 30)}\n\n{part}\n\n{prose(42, 30)}\n"}
    documents, warnings = load_corpus(course(tmp_path, files))
    assert [d.source for d in documents] == ["course/book.txt"]
    assert warnings[0].startswith("course/part.md repeats course/book.txt: left out")


def test_the_copy_kept_is_the_same_on_every_load(tmp_path):
    text = prose(50, 30)
    # Same format: the longer text is kept; same length too: the first name in sorted order.
    root = course(tmp_path, {"b.txt": text, "c.txt": text + " " + prose(51, 1), "a.txt": text, "d.txt": text})
    for _ in range(3):
        documents, warnings = load_corpus(root)
        assert [d.source for d in documents] == ["course/c.txt"]
        assert sorted(w.split(" repeats ")[0] for w in warnings) == ["course/a.txt", "course/b.txt", "course/d.txt"]
    for name in ("c.txt", "d.txt"):
        (root / name).unlink()
    assert [d.source for d in load_corpus(root)[0]] == ["course/a.txt"]


def test_hundreds_of_repeats_are_printed_as_one_line_and_other_warnings_are_capped():
    from tutor.repeats import Repeat, brief

    repeats = [Repeat(f"site/_sources/page{n}.rst.txt", f"site/page{n}.html", 0.97).warning() for n in range(300)]
    others = [f"course/broken{n}.pdf: cannot be read" for n in range(12)]
    shown = brief(others + repeats)
    assert shown[:8] == others[:8] and shown[8] == "… and 4 more warnings about course files."
    assert shown[9].startswith("300 documents repeat another document's text and were left out, such as: ")
    assert len(shown) == 10
    assert brief(repeats[:2]) == repeats[:2]  # a few are each named
