"""What the chat shows for an answer, tested on Answers built by hand: the page's HTML is made here."""

from __future__ import annotations

import re
import time

from tutor.models import Answer, Citation
from tutor.ui import paced, precheck
from tutor.ui_render import (
    NOT_COVERED,
    CourseFacts,
    about_html,
    copy_text,
    course_title,
    export_markdown,
    plain,
    relevance,
    render_answer,
    render_sources,
    status_line,
)

REMOTE = (
    "To recover your account, ![](http://example.invalid/x.png) follow the steps on "
    "[reset your password](http://example.invalid/reset) and never open <img src=http://example.invalid/y.png> "
    "attachments. **Passwords expire after 90 days.** See <a href='http://example.invalid/a'>the policy</a>."
)


def cite(rank: int, text: str, quote: str, *, section: str = "Accounts › Passwords", score: float = 0.8,
         source: str = "corpus/security-handbook.md", page: int | None = None) -> Citation:
    return Citation(rank=rank, chunk_id=f"c{rank}", source=source, section=section, text=text, quote=quote,
                    score=score, page=page)


def answer(text: str, citations=(), **fields) -> dict:
    defaults = {"question": "How do I reset my password?", "abstained": False, "generator": "extractive"}
    return Answer(text=text, citations=tuple(citations), **{**defaults, **fields}).to_dict()


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


# ------------------------------------------------------------------------------------- course text is text


def test_course_markup_becomes_plain_words():
    words = plain(REMOTE)
    assert "reset your password" in words and "Passwords expire after 90 days." in words and "the policy" in words
    assert "example.invalid" not in words
    assert "**" not in words and "<" not in words and "](" not in words


def test_remote_images_and_links_in_a_course_never_become_markup():
    quote = "Passwords expire after 90 days."
    a = answer("**Passwords expire after 90 days.** [1]", [cite(1, REMOTE, f"**{quote}**")])
    for page in (render_answer(a, 0), render_sources([a])):
        assert "<img" not in page and "<script" not in page and "example.invalid" not in page
        assert all(h.startswith("#") for h in hrefs(page)), hrefs(page)  # only links to the page's own sources
        assert "**" not in page
    assert f'<mark class="tutor-quote">{quote}</mark>' in render_sources([a])


def test_every_field_is_escaped():
    evil = "<b onmouseover=alert(1)>x</b> & <script>alert(2)</script>"
    a = answer(f"{evil} [1]", [cite(1, f"before {evil} after", evil, section=evil, source=f"corpus/{evil}.txt")],
               question=evil, interpreted_as=evil)
    for page in (render_answer(a, 0), render_sources([a])):
        assert "<b " not in page and "<script" not in page and not re.search(r"<[^>]*onmouseover", page)
    assert "&amp;" in render_answer(a, 0)


# ---------------------------------------------------------------------------------------------- sources


def test_sources_panel_holds_exactly_the_cited_passages_in_citation_order():
    a = answer(
        "Backups run nightly [1] and are kept for 30 days [2].",
        [cite(2, "Retention: backups are kept for 30 days.", "backups are kept for 30 days", section="Backups › Retention"),
         cite(1, "Backups run nightly at 02:00.", "Backups run nightly", section="Backups › Schedule")],
        also_retrieved=(cite(3, "Laptops are encrypted.", "", section="Devices"),),
    )
    page = render_sources([a])
    assert re.findall(r'id="tutor-src-0-(\d+)"', page) == ["1", "2"]
    assert page.index("Schedule") < page.index("Retention") < page.index("Also retrieved")
    also = page[page.index('<details class="tutor-also">'):]
    assert "Laptops are encrypted." in also and "<mark" not in also
    assert page.count('<li class="tutor-source') == 2


def test_each_answer_keeps_its_own_sources_and_the_newest_is_shown():
    first = answer("A [1]", [cite(1, "Alpha text.", "Alpha text.")], question="first?")
    second = answer("B [1]", [cite(1, "Beta text.", "Beta text.")], question="second?")
    page = render_sources([first, second])
    sections = re.findall(r'<section class="tutor-answer-sources tutor-a-(\d)"( hidden)?>', page)
    assert sections == [("0", " hidden"), ("1", "")]
    assert render_sources([first, second], selected=0).count(" hidden") == 1


def test_relevance_is_a_rounded_share_never_above_the_top():
    assert [relevance(s) for s in (1.7, 0.734, 0.0, -0.3, float("nan"), "x")] == [100, 73, 0, 0, 0, 0]
    page = render_sources([answer("x [1]", [cite(1, "Text.", "Text.", score=3.2)])])
    assert re.findall(r'<meter min="0" max="100" value="(\d+)">', page) == ["100"]


def test_a_cited_passage_says_its_document_and_page():
    page = render_sources([answer("x [1]", [cite(1, "Text.", "Text.", source="corpus/notes.pdf", page=4)])])
    assert "notes.pdf, page 4" in page and "corpus/" not in page


# ----------------------------------------------------------------------------------------------- answers


def test_markers_become_links_to_their_source_with_the_quote_on_hover():
    a = answer("Backups run nightly [1].", [cite(1, "Backups run nightly at 02:00.", "Backups run nightly at 02:00.")])
    html = render_answer(a, 3)
    assert '<a class="tutor-cite" href="#tutor-src-3-1" title="Backups run nightly at 02:00."' in html
    assert "tutor-a-3" in html


def test_list_and_procedure_answers_are_lists_with_their_highlights_bold():
    listed = answer("Three kinds of backup:\n- Full backups [1]\n- Incremental backups [1]\n- Snapshots [2]",
                    [cite(1, "Full backups and incremental backups.", "Full backups"),
                     cite(2, "Snapshots too.", "Snapshots too.")], form="list", highlights=("Incremental",))
    html = render_answer(listed, 0)
    assert "<p>Three kinds of backup:</p><ul><li>Full backups" in html
    assert html.count("<li>") == 3 and "<strong>Incremental</strong>" in html
    steps = answer("1. Open settings [1]\n2. Choose Reset [1]", [cite(1, "Open settings, choose Reset.", "Open settings")],
                   form="procedure")
    shown = render_answer(steps, 0).split('<div class="tutor-tools">')[0]  # what follows is the copy text
    assert "<ol><li>Open settings" in shown and "1. " not in shown


def test_a_rewritten_follow_up_says_what_was_answered():
    a = answer("Industry aims at value [1].", [cite(1, "Industry aims at value.", "Industry aims at value.")],
               question="And in industry?", interpreted_as="What is the primary goal in industry?")
    assert "Answered as: <q>What is the primary goal in industry?</q>" in render_answer(a, 0)


def test_an_abstention_is_a_plain_not_covered_reply_with_what_is_nearby():
    bare = answer(NOT_COVERED, abstained=True)
    html = render_answer(bare, 0)
    assert "tutor-not-covered" in html and NOT_COVERED in html and "tutor-cite" not in html
    nearby = answer(f"{NOT_COVERED} Nearby, the course says: Backups run nightly [1]", [cite(1, "Backups run nightly.", "Backups run nightly")],
                    abstained=True)
    html = render_answer(nearby, 0)
    assert "Nearby, the course says:" in html and 'href="#tutor-src-0-1"' in html
    assert html.split('<div class="tutor-tools">')[0].count(NOT_COVERED) == 1


def test_smalltalk_is_a_short_reply_without_sources():
    a = answer("Hello! Ask me anything about the course.", form="smalltalk", question="hi")
    assert "tutor-inline-sources" not in render_answer(a, 0) and "Copy with sources" not in render_answer(a, 0)
    assert "no course passage is needed" in render_sources([a])


def test_an_answer_is_one_line_of_html():
    # A blank line would end the chat's HTML block and show the rest as Markdown.
    a = answer("Lead\n- one [1]\n- two [1]", [cite(1, "Line one.\n\nLine two.", "Line two.")], form="list")
    assert "\n" not in render_answer(a, 0)


# -------------------------------------------------------------------------------------- copy and export


def test_copy_and_export_carry_the_quotes_as_footnotes():
    first = answer("Backups run nightly [1].", [cite(1, "Backups run nightly at 02:00.", "Backups run nightly at 02:00.")],
                   question="When do backups run?")
    second = answer("Kept for 30 days [1] and encrypted [2].",
                    [cite(1, "Kept for 30 days.", "Kept for 30 days.", section="Backups › Retention"),
                     cite(2, REMOTE, "Passwords expire after 90 days.")], question="How long are they kept?")
    copied = copy_text(first)
    assert copied.startswith("Backups run nightly [1].") and "[1] “Backups run nightly at 02:00.” — Accounts › Passwords" in copied
    md = export_markdown([first, second], "Security *handbook*")
    assert md.startswith("# Security \\*handbook\\*: conversation with the tutor")
    assert "Backups run nightly [^1]." in md and "Kept for 30 days [^2] and encrypted [^3]." in md
    assert "[^1]: “Backups run nightly at 02:00.” — Accounts › Passwords, security-handbook.md" in md
    assert "[^3]: “Passwords expire after 90 days.”" in md
    assert "example.invalid" not in md and "<img" not in md


# --------------------------------------------------------------------------------------- header and about


def facts(**fields) -> CourseFacts:
    base = dict(title="Security handbook", documents=2, passages=120, version="1a2b3c4d", indexed_at="2026-12-01 13:24",
                generator="extractive", device="cpu", embedding_model="all-MiniLM-L6-v2")
    return CourseFacts(**{**base, **fields})


def test_the_course_is_named_by_its_titles_never_by_a_count():
    assert course_title(["Security handbook"]) == "Security handbook"
    assert course_title(["Security handbook", "Backups"]) == "Security handbook · Backups"
    assert course_title(["A", "B", "C"]) == "A and 2 more"
    assert course_title([], "my-course") == "my course"


def test_about_says_in_plain_words_which_course_version_is_served():
    about = about_html(facts(), 3)
    assert "<summary>About this tutor</summary>" in about and "1a2b3c4d" in about and "2026-12-01 13:24" in about
    assert "quoted word for word" in about and "processor" in about
    assert "--" not in about and "/" not in about.replace("</", "")  # no flags, no paths


def test_status_says_what_the_setting_does():
    assert "Passages to read: 5" in status_line(facts(), 5)


# ------------------------------------------------------------------------------------ streaming and limits


def test_streaming_is_paced_and_the_final_answer_is_not_held_back():
    text = " ".join(f"word{i}" for i in range(120)) + " [1]"
    final = Answer(question="q", text=text, abstained=False, generator="extractive")
    words = text.split(" ")
    stream = [" ".join(words[:n]) for n in range(3, len(words), 3)] + [final]
    started = time.monotonic()
    out = list(paced(iter(stream)))
    elapsed = time.monotonic() - started
    partials = [o for o in out if isinstance(o, str)]
    assert out[-1] is final and 5 <= len(partials) <= 14
    assert all(len(a) < len(b) for a, b in zip(partials, partials[1:]))
    assert 0.2 <= elapsed <= 0.8  # visible pacing, but at most about half a second more


def test_an_abstention_is_not_streamed():
    final = Answer(question="q", text=NOT_COVERED, abstained=True, generator="extractive")
    assert list(paced(iter([final]))) == [final]


def test_a_huge_question_is_refused_without_being_read():
    huge = "x" * 50_000_000
    started = time.perf_counter()
    message = precheck(huge)
    assert time.perf_counter() - started < 0.05
    assert "50,000,000 characters" in message and "2,000" in message
    assert precheck("What is model drift?") is None and precheck(42)
