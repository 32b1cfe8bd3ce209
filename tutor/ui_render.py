"""HTML and Markdown for the chat: answers, their sources, the header, the export. Pure functions, no Gradio.

Everything here takes answers as `Answer.to_dict()` (what a chat session keeps) and returns strings.
Course text is text: Markdown and HTML in a course file are reduced to their words (`plain`), then
escaped, so nothing a course or a student writes can become a tag, a link or a request for a remote
resource. The only markup on the page is what these functions write themselves.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from tutor.models import PATH_SEP

NOT_COVERED = "The course material does not cover this question."
NEARBY = "Nearby, the course says:"
EXCERPT_CONTEXT = 160  # characters of the passage shown on either side of the quote
MARKER_RE = re.compile(r"\[(\d{1,3})\]")
LIST_ITEM_RE = re.compile(r"^(?:- |• |\* )(.*)$")
STEP_RE = re.compile(r"^(\d{1,3})[.)] (.*)$")

# Markup a course file may carry, reduced to its words. Order matters: an image inside a link
# ("[![logo](a.png)](b)") loses the image first.
_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_MD_REF_LINK = re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]")
_MD_LINK_DEF = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*\S+.*$", re.M)
_ANGLE_URL = re.compile(r"<((?:https?|ftp|mailto):[^<>\s]+)>", re.I)
# HTML elements by name, so that "if a<b and c>d" in a course stays as it is.
_TAG_NAMES = ("a|abbr|audio|b|base|blockquote|body|br|button|canvas|center|code|del|details|div|em|embed|font|form|"
              "frame|h[1-6]|head|hr|html|i|iframe|img|input|ins|kbd|label|li|link|map|mark|meta|object|ol|p|picture|"
              "pre|q|s|samp|script|section|select|small|source|span|strong|style|sub|summary|sup|svg|table|tbody|td|"
              "template|textarea|tfoot|th|thead|title|tr|track|u|ul|video")
_TAG = re.compile(rf"<!--.*?-->|</?(?:{_TAG_NAMES})(?=[\s/>])[^<>]*>", re.S | re.I)
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.S)
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_CODE = re.compile(r"`{1,3}([^`]*)`{1,3}")
_HEADING_MARK = re.compile(r"^\s{0,3}#{1,6}\s+", re.M)
_QUOTE_MARK = re.compile(r"^\s{0,3}>\s?", re.M)


def plain(text: str) -> str:
    """Course text without its Markdown or HTML: `**bold**` → bold, `[reset](http://…)` → reset,
    `![](http://…)` and `<img …>` → nothing. The result is still to be escaped."""
    if not text:
        return ""
    text = html.unescape(text)
    text = _MD_IMAGE.sub(lambda m: m.group(1), text)
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = _MD_REF_LINK.sub(lambda m: m.group(1), text)
    text = _MD_LINK_DEF.sub("", text)
    text = _ANGLE_URL.sub(lambda m: m.group(1), text)
    text = _TAG.sub("", text)
    text = _BOLD.sub(lambda m: m.group(2), text)
    text = _ITALIC.sub(lambda m: m.group(1) or m.group(2), text)
    text = _CODE.sub(lambda m: m.group(1), text)
    text = _HEADING_MARK.sub("", text)
    return _QUOTE_MARK.sub("", text)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def text_html(text: str) -> str:
    """Course text as safe HTML: its words only, escaped; line breaks as <br> (a chat message is one line of
    HTML, which Markdown would otherwise cut at a blank line)."""
    return "<br>".join(esc(line) for line in plain(text).split("\n"))


def attr(text: object) -> str:
    """A value for an HTML attribute: one line, escaped."""
    return esc(" ".join(str(text).split()))


def relevance(score: object) -> int:
    """A retrieval score as 0–100: never below the bottom, never above the top."""
    try:
        value = float(score)
    except (TypeError, ValueError):
        return 0
    if value != value:  # NaN
        return 0
    return int(round(100 * min(1.0, max(0.0, value))))


def document_name(citation: dict) -> str:
    name = PurePath(str(citation.get("source") or "")).name
    page = citation.get("page")
    return f"{name}, page {int(page)}" if isinstance(page, int) and page > 0 else name


def _citations(answer: dict) -> list[dict]:
    return list(answer.get("citations") or [])


def shows_sources(answer: dict) -> bool:
    return bool(_citations(answer)) and not answer.get("error") and answer.get("form") != "smalltalk"


# ------------------------------------------------------------------------------------------ answer text


def _spans(line: str, highlights: Sequence[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, kind) spans of markers ("cite") and highlights ("bold") in a line."""
    spans = [(m.start(), m.end(), "cite") for m in MARKER_RE.finditer(line)]
    for phrase in sorted({h for h in highlights if h and h.strip()}, key=len, reverse=True):
        start = line.find(phrase)
        while start >= 0:
            end = start + len(phrase)
            if all(end <= s or start >= e for s, e, _ in spans):
                spans.append((start, end, "bold"))
            start = line.find(phrase, end)
    return sorted(spans)


def _inline(line: str, answer_no: int, answer: dict) -> str:
    """One line of an answer as HTML: words escaped, highlights bold, markers as links to their source."""
    by_rank = {int(c.get("rank", 0)): c for c in _citations(answer)}
    smalltalk = answer.get("form") == "smalltalk"
    out, pos = [], 0
    for start, end, kind in _spans(line, tuple(answer.get("highlights") or ())):
        out.append(text_html(line[pos:start]))
        piece = line[start:end]
        if kind == "bold":
            out.append(f"<strong>{text_html(piece)}</strong>")
        else:
            n = int(piece[1:-1])
            citation = by_rank.get(n)
            if citation is None or smalltalk:
                out.append(esc(piece))
            else:
                out.append(_cite_link(answer_no, n, citation))
        pos = end
    out.append(text_html(line[pos:]))
    return "".join(out)


def _cite_link(answer_no: int, n: int, citation: dict) -> str:
    quote = plain(citation.get("quote") or citation.get("text") or "")
    section = plain(citation.get("section") or document_name(citation))
    # The chat's sanitiser keeps class, href and title only: the link's target names the answer and the source.
    return (f'<a class="tutor-cite" href="#tutor-src-{answer_no}-{n}" title="{attr(quote)}" '
            f'aria-label="Source {n}: {attr(section)}">[{n}]</a>')


def _body(text: str, answer_no: int, answer: dict) -> str:
    """The answer's lines: a lead paragraph, "- item" lines as a bulleted list, "1. step" lines numbered."""
    blocks: list[str] = []
    items: list[str] = []
    kind = ""

    def close() -> None:
        nonlocal items, kind
        if items:
            blocks.append(f"<{kind}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{kind}>")
        items, kind = [], ""

    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            close()
            continue
        bullet, step = LIST_ITEM_RE.match(line), STEP_RE.match(line)
        if bullet or step:
            want = "ul" if bullet else "ol"
            if kind != want:
                close()
                kind = want
            items.append(_inline(bullet.group(1) if bullet else step.group(2), answer_no, answer))
        else:
            close()
            blocks.append(f"<p>{_inline(line, answer_no, answer)}</p>")
    close()
    return "".join(blocks)


def render_answer(answer: dict, answer_no: int, *, selected: bool = False) -> str:
    """The chat message (HTML, one block) for a finished answer: its text with [n] links, "Answered as" for a
    rewritten follow-up, a "not covered" reply for an abstention, and (shown on narrow screens) its sources."""
    classes = ["tutor-answer", f"tutor-a-{answer_no}"] + (["tutor-selected"] if selected else [])
    attrs = 'tabindex="0"'
    if answer.get("error"):
        return f'<div class="tutor-answer tutor-error" role="alert"><p>⚠️ {esc(answer["error"])}</p></div>'
    text = str(answer.get("answer") or "")
    if answer.get("form") == "smalltalk":
        body = _body(text, answer_no, answer)
        return f'<div class="tutor-answer tutor-a-{answer_no} tutor-smalltalk" {attrs}>{body}</div>'
    if answer.get("abstained"):
        classes.append("tutor-not-covered")
        rest = text[len(NOT_COVERED):].strip() if text.startswith(NOT_COVERED) else ""
        if not text.startswith(NOT_COVERED) and _citations(answer):
            rest = text  # an abstention that still quotes something nearby
        body = f'<p class="tutor-nc-lead">{esc(NOT_COVERED)}</p>'
        if rest:
            body += f'<div class="tutor-nearby">{_body(rest, answer_no, answer)}</div>'
        else:
            body += '<p class="tutor-nc-hint">Try other words, or a topic from the example questions.</p>'
    else:
        body = _body(text, answer_no, answer)
    if answer.get("interpreted_as"):
        body += f'<p class="tutor-interpreted">Answered as: <q>{esc(answer["interpreted_as"])}</q></p>'
    if shows_sources(answer):
        body += (
            '<div class="tutor-tools"><a class="tutor-copy" href="#copy" role="button" '
            'title="Copy this answer with its sources as footnotes">Copy with sources</a>'
            f'<span class="tutor-copy-text">{"<br>".join(esc(line) for line in copy_text(answer).split(chr(10)))}'
            "</span></div>"
            f'<details class="tutor-inline-sources"><summary>Sources ({len(_citations(answer))})</summary>'
            f"{_cards(answer, answer_no, inline=True)}</details>"
        )
    return f'<div class="{" ".join(classes)}" {attrs}>{body}</div>'


def render_partial(text: str) -> str:
    """A growing answer while it streams: plain words and a cursor (links and lists come with the final one)."""
    lines = [text_html(line) for line in text.split("\n")]
    cursor = '<span class="tutor-cursor">▌</span>'
    return f'<div class="tutor-answer tutor-streaming"><p>{"<br>".join(lines)}{cursor}</p></div>'


def render_question(question: str) -> str:
    return esc(question)


# ----------------------------------------------------------------------------------------------- sources


def _marked(text: str, quote: str) -> tuple[str, str] | None:
    """(excerpt, whole passage) as HTML with the quote in <mark>, or None when the quote is not in the text."""
    start = text.find(quote) if quote else -1
    if start < 0:
        return None
    end = start + len(quote)
    mark = f'<mark class="tutor-quote">{text_html(quote)}</mark>'
    whole = f"{text_html(text[:start])}{mark}{text_html(text[end:])}"
    lo, hi = max(0, start - EXCERPT_CONTEXT), min(len(text), end + EXCERPT_CONTEXT)
    if lo > 0:  # cut at word boundaries: an excerpt never starts or ends mid-word
        space = text.find(" ", lo, start)
        lo = space + 1 if space >= 0 else start
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space >= 0 else end
    excerpt = (("…" if lo > 0 else "") + text_html(text[lo:start]) + mark + text_html(text[end:hi])
               + ("…" if hi < len(text) else ""))
    return excerpt, whole


def _heading(citation: dict) -> str:
    """The heading path, its last part always visible; the parts above it shorten first on a narrow screen."""
    parts = [plain(p) for p in str(citation.get("section") or "").split(PATH_SEP) if p.strip()]
    if not parts:
        return f'<span class="tutor-path"><span class="tutor-leaf">{esc(document_name(citation))}</span></span>'
    full = attr(PATH_SEP.join(parts))
    above = (f'<span class="tutor-above">{esc(PATH_SEP.join(parts[:-1]) + PATH_SEP)}</span>'
             if len(parts) > 1 else "")
    return f'<span class="tutor-path" title="{full}">{above}<span class="tutor-leaf">{esc(parts[-1])}</span></span>'


def _meter(score: object) -> str:
    value = relevance(score)
    return (f'<span class="tutor-score" title="How closely this passage matches the question (0–100)">'
            f'<meter min="0" max="100" value="{value}"></meter> {value}</span>')


def _card(citation: dict, answer_no: int, *, inline: bool) -> str:
    n = int(citation.get("rank", 0))
    text = str(citation.get("text") or "")
    marked = _marked(text, str(citation.get("quote") or ""))
    excerpt, whole = marked if marked else ("", text_html(text))
    ident = "" if inline else f' id="tutor-src-{answer_no}-{n}"'
    return (
        f'<li class="tutor-source tutor-n-{n}"{ident}><div class="tutor-source-head">'
        f'<span class="tutor-rank">[{n}]</span>{_heading(citation)}{_meter(citation.get("score"))}</div>'
        f'<div class="tutor-file">{esc(document_name(citation))}</div>'
        + (f'<p class="tutor-excerpt">{excerpt}</p>' if excerpt else "")
        + ("" if excerpt == whole else  # a short passage is shown whole already
           f'<details class="tutor-whole"><summary>{"Show the whole passage" if excerpt else "Show the passage"}'
           f'</summary><p class="tutor-passage">{whole}</p></details>')
        + "</li>"
    )


def _cards(answer: dict, answer_no: int, *, inline: bool) -> str:
    cited = sorted(_citations(answer), key=lambda c: int(c.get("rank", 0)))
    out = '<ol class="tutor-cards">' + "".join(_card(c, answer_no, inline=inline) for c in cited) + "</ol>"
    also = list(answer.get("also_retrieved") or [])
    if also and not inline:
        rows = "".join(
            f'<li class="tutor-also-item"><div class="tutor-source-head">{_heading(c)}{_meter(c.get("score"))}</div>'
            f'<div class="tutor-file">{esc(document_name(c))}</div>'
            f'<p class="tutor-passage">{text_html(str(c.get("text") or ""))}</p></li>'
            for c in also
        )
        out += (f'<details class="tutor-also"><summary>Also retrieved ({len(also)}), not quoted</summary>'
                f"<ul>{rows}</ul></details>")
    return out


EMPTY_SOURCES = ('<div class="tutor-sources"><p class="tutor-empty">Ask a question: the passages each answer '
                 "quotes appear here, the quoted sentence highlighted.</p></div>")


def render_sources(answers: Sequence[dict], selected: int | None = None) -> str:
    """The sources panel: one section per answer (only the selected one shown; the newest by default), each
    with exactly the passages its answer cites, in citation order."""
    if not answers:
        return EMPTY_SOURCES
    selected = len(answers) - 1 if selected is None else selected
    sections = []
    for i, answer in enumerate(answers):
        hidden = "" if i == selected else " hidden"
        head = f'<p class="tutor-for">Sources for: <q>{esc(answer.get("question", ""))}</q></p>'
        if answer.get("error"):
            body = f'<p class="tutor-empty">{esc(answer["error"])}</p>'
        elif answer.get("form") == "smalltalk":
            body = '<p class="tutor-empty">A reply to a greeting: no course passage is needed.</p>'
        elif not _citations(answer):
            body = f'<p class="tutor-empty">{esc(NOT_COVERED)} No passage is cited.</p>'
        else:
            body = _cards(answer, i, inline=False)
        sections.append(f'<section class="tutor-answer-sources tutor-a-{i}"{hidden}>{head}{body}</section>')
    return f'<div class="tutor-sources">{"".join(sections)}</div>'


# --------------------------------------------------------------------------------------- copy and export


def _footnote(citation: dict) -> str:
    quote = " ".join(plain(citation.get("quote") or citation.get("text") or "").split())
    where = ", ".join(x for x in (" ".join(plain(citation.get("section") or "").split()), document_name(citation)) if x)
    return f"“{quote}” — {where}"


def copy_text(answer: dict) -> str:
    """An answer as plain text with its sources as numbered footnotes (what "Copy with sources" copies)."""
    notes = "\n".join(f"[{int(c.get('rank', 0))}] {_footnote(c)}" for c in _citations(answer))
    text = plain(str(answer.get("answer") or ""))
    return f"{text}\n\nSources:\n{notes}" if notes else text


def export_markdown(answers: Sequence[dict], title: str) -> str:
    """The conversation as Markdown: each question, its answer, and every cited quote as a footnote."""
    out = [f"# {_md_line(title)}: conversation with the tutor", ""]
    footnote = 0
    for answer in answers:
        out += [f"**Question:** {_md_line(answer.get('question', ''))}", ""]
        if answer.get("error"):
            out += [f"**Tutor:** {_md_line(answer['error'])}", ""]
            continue
        labels: dict[int, str] = {}
        notes = []
        for c in sorted(_citations(answer), key=lambda c: int(c.get("rank", 0))):
            footnote += 1
            labels[int(c.get("rank", 0))] = f"[^{footnote}]"
            notes.append(f"[^{footnote}]: {_md_line(_footnote(c))}")
        text = _md_text(plain(str(answer.get("answer") or "")))
        text = MARKER_RE.sub(lambda m, labels=labels: labels.get(int(m.group(1)), "\\" + m.group(0)), text)
        out += ["**Tutor:**", "", text, ""]
        if answer.get("interpreted_as"):
            out += [f"_Answered as: {_md_line(answer['interpreted_as'])}_", ""]
        if notes:
            out += notes + [""]
    return "\n".join(out).rstrip() + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_{}<>#|!]|\[(?!\d+\]))")


def _md_line(text: object) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _md_text(text: str) -> str:
    """Answer text kept line by line (its lists stay lists), Markdown characters escaped."""
    lines = []
    for line in text.split("\n"):
        bullet, step = LIST_ITEM_RE.match(line.strip()), STEP_RE.match(line.strip())
        if bullet:
            lines.append("- " + _md_line(bullet.group(1)))
        elif step:
            lines.append(f"{step.group(1)}. " + _md_line(step.group(2)))
        else:
            lines.append(_md_line(line))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ page header


@dataclass(frozen=True)
class CourseFacts:
    """What the "About this tutor" fold says, gathered by the server from the served tutor and its index."""

    title: str
    documents: int
    passages: int
    version: str  # a short fingerprint of the course files served
    indexed_at: str  # when that version was indexed, as "2026-12-01 13:24"
    generator: str  # "extractive" or "seq2seq:<model>"
    device: str
    embedding_model: str
    loading: str | None = None  # a generator being loaded in the background, said plainly


def course_title(titles: Sequence[str], corpus_name: str = "") -> str:
    """The course's name: its one title; for several documents, the first and how many more."""
    names = list(dict.fromkeys(" ".join(t.split()) for t in titles if t and t.strip()))
    if len(names) == 1:
        return names[0]
    if names:
        return f"{names[0]} and {len(names) - 1} more" if len(names) > 2 else f"{names[0]} · {names[1]}"
    return corpus_name.replace("-", " ").replace("_", " ").strip() or "Course material"


def course_version(fingerprint: dict) -> str:
    """A short, stable name for one state of the course files (their hashes)."""
    blob = "\n".join(f"{k}\t{v}" for k, v in sorted((fingerprint or {}).items()))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:8]


def answerer_words(generator: str) -> str:
    if generator.startswith("seq2seq:"):
        model = PurePath(generator.split(":", 1)[1]).name
        return (f"written by the language model {model}, then traced back to the course material; "
                "sentences it cannot trace are replaced by quotes")
    return "quoted word for word from the course material"


def device_words(device: str) -> str:
    return "this computer's graphics card" if str(device).startswith("cuda") else "this computer's processor"


def status_line(facts: CourseFacts, top_k: int) -> str:
    """The line under the title: what the settings do, said plainly. It follows the settings."""
    how = "Answers quote the course" if not facts.generator.startswith("seq2seq:") else "Answers are generated"
    loading = f" · {esc(facts.loading)}" if facts.loading else ""
    return (f'<p class="tutor-status" id="tutor-status">Passages to read: {int(top_k)} · {how}{loading}</p>')


def header_html(facts: CourseFacts) -> str:
    """The course's name and one line on how to read an answer."""
    return (f'<h1>{esc(facts.title)}</h1><p class="tutor-lead">Ask about the course. Each answer quotes the '
            "material and marks its sources [1], [2]: click a marker to see the passage.</p>")


def about_html(facts: CourseFacts, top_k: int) -> str:
    """"About this tutor", folded: the course version served, how answers are made, where it runs."""
    docs = f"{facts.documents} document" + ("s" if facts.documents != 1 else "")
    items = [
        f"Course: <b>{esc(facts.title)}</b> ({docs}, {facts.passages:,} passages).",
        f"Course version: <b>{esc(facts.version)}</b>, indexed {esc(facts.indexed_at)}. When the course files "
        "change, the tutor re-reads them and this version changes.",
        f"Answers are {esc(answerer_words(facts.generator))}.",
        f"Passages are found by meaning (the {esc(facts.embedding_model)} sentence model) and by keywords; "
        f"each answer reads the best {int(top_k)}.",
        f"Everything runs on {esc(device_words(facts.device))}; nothing is sent anywhere.",
    ]
    if facts.loading:
        items.append(esc(facts.loading))
    return ('<details class="tutor-about"><summary>About this tutor</summary><ul>'
            + "".join(f"<li>{i}</li>" for i in items) + "</ul></details>")
