"""Structure-aware chunking: heading paths, whole list items and steps, readable table rows."""

from __future__ import annotations

from pathlib import Path

from tutor.chunking import chunk_sections, split_sentences, split_units
from tutor.config import CHUNK_MAX_CHARS
from tutor.ingest import Document, read_document, split_sections

from .conftest import ARTICLE


def article_chunks():
    doc = read_document(ARTICLE, "corpus/" + ARTICLE.name)
    title, sections = split_sections(doc)
    return title, chunk_sections(sections)


def chunk_holding(chunks, text):
    return next(c for c in chunks if text in c.text)


def test_the_article_title_is_found_and_kept_out_of_heading_paths():
    title, chunks = article_chunks()
    assert title == "Deep Learning: Academic vs Industry Perspectives"
    assert not any(c.section.startswith(title) for c in chunks)


def test_chunks_keep_their_nested_heading_path():
    _, chunks = article_chunks()
    chunk = chunk_holding(chunks, "ImageNet, MNIST, or CIFAR-10")
    assert chunk.section == (
        "Key Differences Between Academic and Industry Approaches › Detailed Comparison › 2. Data Characteristics"
    )
    assert chunk_holding(chunks, "Performance degrades").section.endswith(
        "Challenges in Each Perspective › Industry Challenges"
    )
    assert chunk_holding(chunks, "Publish papers in top conferences").section.endswith("› Academic Goals")


def test_flattened_table_rows_come_out_readable():
    _, chunks = article_chunks()
    row = "Risk Tolerance — Academic Perspective: High - encouraged to try new things; Industry Perspective: Low - must ensure reliability"
    chunk = chunk_holding(chunks, row)
    assert "ToleranceHigh" not in chunk.text
    # Each cell is quotable on its own, labelled with its row and column.
    assert "Risk Tolerance — Academic Perspective: High - encouraged to try new things" in split_units_text(chunk.text)
    assert "Risk Tolerance — Industry Perspective: Low - must ensure reliability" in split_units_text(chunk.text)


def split_units_text(text):
    return [u.text for u in split_units(text)]


def test_no_list_item_step_or_row_is_cut_in_half():
    _, chunks = article_chunks()
    source = ARTICLE.read_text(encoding="utf-8")
    items = [
        line.strip().lstrip("•").strip() for line in source.splitlines() if line.strip().startswith(("•", "Step "))
    ]
    for item in items:
        assert any(item in c.text for c in chunks), item
    for c in chunks:
        assert len(c.text) < 1000 and len(c.text) <= CHUNK_MAX_CHARS


def test_a_list_item_stays_with_its_nested_items():
    _, chunks = article_chunks()
    chunk = chunk_holding(chunks, "Theoretical Foundations")
    assert "Mathematical proofs of convergence" in chunk.text
    units = split_units(chunk.text)
    assert any(u.text == "Optimization theory" and u.context == "Theoretical Foundations" for u in units)


def test_a_paragraph_label_carries_over_to_its_later_sentences():
    units = split_units("Industry: Large budgets. Trains many models. Focuses on time.\nA plain sentence. Another one.")
    assert [(u.text, u.context) for u in units] == [
        ("Industry: Large budgets.", ""),
        ("Trains many models.", "Industry"),
        ("Focuses on time.", "Industry"),
        ("A plain sentence.", ""),
        ("Another one.", ""),
    ]


def test_markdown_headings_give_the_path(tmp_path: Path):
    md = tmp_path / "notes.md"
    md.write_text(
        "# Photosynthesis\n\nIntro text about plants.\n\n## Light reactions\n\nThey happen in the thylakoid.\n\n"
        "### Products\n\n- ATP\n- NADPH\n\n## Calvin cycle\n\n| Stage | Input | Output |\n|---|---|---|\n"
        "| Fixation | CO2 | 3-PGA |\n| Reduction | ATP | G3P |\n",
        encoding="utf-8",
    )
    title, sections = split_sections(read_document(md, "corpus/notes.md"))
    chunks = chunk_sections(sections)
    assert title == "Photosynthesis"
    assert chunk_holding(chunks, "thylakoid").section == "Light reactions"
    assert chunk_holding(chunks, "NADPH").section == "Light reactions › Products"
    fixation = chunk_holding(chunks, "Fixation")
    assert fixation.section == "Calvin cycle"
    assert "Fixation — Input: CO2; Output: 3-PGA" in fixation.text


def test_plain_text_headings_and_wrapped_paragraphs(tmp_path: Path):
    txt = tmp_path / "lecture.txt"
    txt.write_text(
        "Cell Biology Lecture 3\n\nMembranes\n\nThe cell membrane is a lipid bilayer that separates the interior\n"
        "of the cell from the outside world and controls what enters.\n\nTransport\n\n"
        "Small molecules cross by diffusion. Larger ones need transport proteins.\n\n"
        "  1. Passive transport needs no energy\n  2. Active transport uses ATP\n",
        encoding="utf-8",
    )
    title, sections = split_sections(read_document(txt, "corpus/lecture.txt"))
    chunks = chunk_sections(sections)
    assert title == "Cell Biology Lecture 3"
    membranes = chunk_holding(chunks, "lipid bilayer")
    assert membranes.section == "Membranes"
    # A hard-wrapped paragraph is one sentence, not two broken lines.
    assert "separates the interior of the cell" in membranes.text
    assert chunk_holding(chunks, "Active transport uses ATP").section.endswith("Transport")


def test_offsets_point_back_into_the_source():
    _, chunks = article_chunks()
    source = Document("x", ARTICLE.read_text(encoding="utf-8"), "plain").text
    for c in chunks:
        span = source[c.start : c.end]
        assert span.strip()
        first_word = c.text.split()[0].lstrip("•")
        assert first_word[:4] in span


def test_a_sentence_does_not_end_at_an_initial_or_an_abbreviation():
    text = ("Nixon named William E. Simon as the first Administrator. Mount St. Helens erupted in 1980. "
            "See Fig. 3 for the U.S. figures, e.g. The Times. Results rose by 0.5%. The team won!")
    assert split_sentences(text) == [
        "Nixon named William E. Simon as the first Administrator.",
        "Mount St. Helens erupted in 1980.",
        "See Fig. 3 for the U.S. figures, e.g. The Times.",
        "Results rose by 0.5%.",
        "The team won!",
    ]
