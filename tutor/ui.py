"""The chat tutor in the browser: a Gradio app over one shared `Tutor`.

    app = build_app(Tutor.load())     # a gr.Blocks; `tutor chat` serves it
    app.launch()

Thin like the other front doors: it calls `Tutor.stream` (the chat) and `Tutor.ask` (the `/ask` API) and
formats. Everything a student types or a course file contains is HTML-escaped before it becomes markup.
The server keeps no state of its own per student: each conversation and its answers live in Gradio's
session state; the models are loaded once and shared by every session.
"""

import html
import os
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from tutor import config
from tutor.errors import TutorError
from tutor.models import PATH_SEP, Answer
from tutor.ui_practice import practice_tab

NOT_COVERED = "The course material does not cover this"
EXCERPT_CONTEXT = 160  # characters of the passage shown on either side of the supporting quote
MAX_EXAMPLES = 4
MAX_TOP_K = 10
SHOWN_BAD_QUESTION = 300  # characters of a rejected question kept in the chat
GENERIC_HEADINGS = {"introduction", "conclusion", "summary", "key takeaways", "additional resources", "topics",
                    "references", "overview", "contents", "table of contents"}

SOURCES_CSS = """
.tutor-sources { font-size: 0.95em; line-height: 1.45; }
.tutor-sources ol { list-style: none; padding: 0; margin: 0; }
.tutor-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 0.6em 0.8em;
                margin: 0 0 0.7em 0; }
.tutor-source-head { display: flex; gap: 0.5em; align-items: baseline; flex-wrap: wrap; }
.tutor-rank { font-weight: 700; }
.tutor-section { font-weight: 600; flex: 1; }
.tutor-score { color: var(--body-text-color-subdued); font-size: 0.85em; white-space: nowrap; }
.tutor-file { color: var(--body-text-color-subdued); font-size: 0.8em; margin: 0.15em 0 0.4em 0; }
.tutor-excerpt { margin: 0.3em 0; }
.tutor-sources mark { background: #fde68a; color: #1f2937; padding: 0 0.1em; border-radius: 2px; }
.tutor-sources details summary { cursor: pointer; color: var(--link-text-color); font-size: 0.9em; }
.tutor-passage { white-space: pre-wrap; margin: 0.4em 0 0 0; }
.tutor-for { color: var(--body-text-color-subdued); margin: 0 0 0.6em 0; }
.tutor-empty { color: var(--body-text-color-subdued); }
.tutor-error { color: var(--error-text-color, #b91c1c); }
"""

HEADER_CSS = """
h1 { margin: 0 0 0.2em 0; font-size: 1.6em; }
.tutor-lead { margin: 0 0 0.3em 0; }
.tutor-status { color: var(--body-text-color-subdued); font-size: 0.85em; margin: 0; }
"""


# ---------------------------------------------------------------------------------------------- formatting


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def format_reply(answer: Answer) -> str:
    """The assistant's chat message (Markdown) for a finished answer."""
    if answer.abstained:
        return f"**{NOT_COVERED}.** No passage supports an answer, so I do not guess: try other words or a topic " \
               "from the example questions."
    return _esc(answer.text)


def format_error(message: str) -> str:
    return f"⚠️ {_esc(message)}"


def _highlight(text: str, quote: str) -> tuple[str, str] | None:
    """(excerpt, full passage) as HTML with the quote in <mark>, or None when the quote is not in the text."""
    start = text.find(quote) if quote else -1
    if start < 0:
        return None
    end = start + len(quote)
    marked = f"<mark>{_esc(quote)}</mark>"
    full = f"{_esc(text[:start])}{marked}{_esc(text[end:])}"
    lo = max(0, start - EXCERPT_CONTEXT)
    hi = min(len(text), end + EXCERPT_CONTEXT)
    # Cut at word boundaries so an excerpt never starts or ends mid-word.
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space >= 0 else start
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space >= 0 else end
    excerpt = (
        ("…" if lo > 0 else "") + _esc(text[lo:start]) + marked + _esc(text[end:hi]) + ("…" if hi < len(text) else "")
    )
    return excerpt, full


def _source_item(c: dict) -> str:
    """One cited passage: [rank], heading path, score, file; the quote in context; the whole passage on expand."""
    rank = int(c["rank"])
    source = Path(c.get("source", "")).name
    marked = _highlight(c.get("text", ""), c.get("quote", ""))
    excerpt, full = marked if marked else ("", _esc(c.get("text", "")))
    head = (
        f'<span class="tutor-rank">[{rank}]</span><span class="tutor-section">{_esc(c.get("section") or source)}</span>'
        f'<span class="tutor-score" title="retrieval score: higher is more relevant">'
        f'relevance {float(c.get("score", 0.0)):.3f}</span>'
    )
    return (
        f'<li class="tutor-source" id="tutor-source-{rank}"><div class="tutor-source-head">{head}</div>'
        f'<div class="tutor-file">{_esc(source)}</div>'
        + (f'<p class="tutor-excerpt">{excerpt}</p>' if excerpt else "")
        + f'<details><summary>{"Show the whole passage" if excerpt else "Show the passage"}</summary>'
        f'<p class="tutor-passage">{full}</p></details></li>'
    )


def render_sources(answer: dict | None) -> str:
    """The sources panel (HTML) for one answer, given as `Answer.to_dict()` (what the session keeps)."""
    if not answer:
        return '<div class="tutor-sources"><p class="tutor-empty">Ask a question: the passages each answer ' \
               "quotes appear here, with the supporting sentence highlighted.</p></div>"
    question = f'<p class="tutor-for">Sources for: <q>{_esc(answer.get("question", ""))}</q></p>'
    if answer.get("error"):
        body = f'<p class="tutor-error">{_esc(answer["error"])}</p>'
        return f'<div class="tutor-sources">{question}{body}</div>'
    if answer.get("abstained") or not answer.get("citations"):
        body = f'<p class="tutor-empty">{NOT_COVERED}: no passage supports an answer, so none is cited.</p>'
        return f'<div class="tutor-sources">{question}{body}</div>'
    items = "".join(_source_item(c) for c in answer["citations"])
    return f'<div class="tutor-sources">{question}<ol>{items}</ol></div>'


def status_line(tutor) -> str:
    """Which generator and device answer, and the tutor's notes (HTML)."""
    notes = " ".join(_esc(n) for n in tutor.notes)
    return (f'<p class="tutor-status">Answering with <b>{_esc(tutor.generator)}</b> on <b>{_esc(tutor.device)}</b>'
            f" · top-k {int(tutor.top_k)}. {notes}</p>")


def header_html(tutor, status: str | None = None) -> str:
    """Title, a line on how to use the chat, and the status line (or `status`, already HTML)."""
    return (f"<h1>{_esc(tutor.title)}</h1>"
            '<p class="tutor-lead">Ask about the course material. Each answer quotes it and marks its sources '
            "[1], [2]; click an answer to see its passages beside the chat.</p>" + (status or status_line(tutor)))


# ----------------------------------------------------------------------------------------------- helpers


def message_text(content: object) -> str:
    """The text of a chat message's content: Gradio 6 hands messages over as lists of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "") if content.get("type", "text") == "text" else ""
    if isinstance(content, (list, tuple)):
        return " ".join(t for t in (message_text(part) for part in content) if t)
    return ""


def conversation(history: Sequence | None) -> list[dict]:
    """The chat as role/content messages of plain text, for `Tutor.stream(history=...)`."""
    out = []
    for message in history or ():
        if isinstance(message, dict) and message.get("role") in ("user", "assistant"):
            # The chat shows escaped text; the tutor reads what the student typed.
            out.append({"role": message["role"], "content": html.unescape(message_text(message.get("content")))})
    return out


def example_questions(tutor, limit: int = MAX_EXAMPLES) -> list[str]:
    """Questions to click, made from the course's own headings (one per part of the course, spread over it)
    and kept only if the tutor answers them."""
    by_part: dict[str, str] = {}
    for chunk in tutor.store.chunks:
        parts = chunk.section.split(PATH_SEP) if chunk.section else []
        leaf = re.sub(r"^\s*(\d+[.)]|[A-Z]\w* \d+:)\s*", "", parts[-1]).strip().strip('"') if parts else ""
        if not leaf or leaf.lower() in GENERIC_HEADINGS or len(leaf) > 60:
            continue
        # Within a part, prefer a heading that is a question, then a subsection ("Industry Goals") to the
        # part's own, often long, title.
        current = by_part.get(parts[0])
        if current is None or (len(parts) > 1 and current == parts[0] and not current.endswith("?")):
            by_part[parts[0]] = leaf
    candidates = [leaf if leaf.endswith("?") else f"What does the course say about {leaf}?"
                  for leaf in by_part.values()]
    if not candidates:
        return []
    spread = max(1, len(candidates) / (2 * limit))  # ask about twice as many as needed, not all of them
    candidates = [candidates[int(i * spread)] for i in range(min(2 * limit, len(candidates)))]
    # The abstention rule alone: a seq2seq tutor would otherwise generate a dozen answers at start-up.
    answered = [q for q, covered in zip(candidates, tutor.covers(candidates)) if covered]
    step = max(1, len(answered) / limit)
    return [answered[int(i * step)] for i in range(min(limit, len(answered)))]


class Tutors:
    """One loaded Tutor per generator choice, shared by every session; each is loaded once, on first use."""

    def __init__(self, tutor, spec: str) -> None:
        self._loaded = {spec: tutor}
        self._base = tutor
        self._lock = threading.Lock()

    def get(self, spec: str | None):
        spec = (spec or "").strip() or next(iter(self._loaded))
        with self._lock:
            if spec not in self._loaded:
                from tutor.core import Tutor

                base = self._base
                self._loaded[spec] = Tutor.load(
                    base.corpus_dir, base.index_dir, generator=spec, device=base.device, top_k=base.top_k
                )
            return self._loaded[spec]


def generator_choices(spec: str) -> list[str]:
    choices = [spec, "auto", "extractive", config.default_generator()]
    return list(dict.fromkeys(c for c in choices if c))


def concurrency_limit() -> int:
    """Chats answered at once: the embedding and FAISS work releases the GIL, so two per core keeps cores busy."""
    return max(2, min(8, 2 * (os.cpu_count() or 1)))


# -------------------------------------------------------------------------------------------------- the app


def build_app(tutor, *, generator: str | None = None, examples: Sequence[str] | None = None):
    """The chat as a Gradio Blocks app (not launched). `generator` names the spec `tutor` was loaded with."""
    import gradio as gr

    spec = generator or config.default_generator()
    tutors = Tutors(tutor, spec)
    if examples is None:
        examples = example_questions(tutor)

    def respond(message: str, history: list, answers: list, top_k: float, generator_choice: str) -> Iterator:
        """Stream the answer into the chat; the sources panel follows the newest answer."""
        question = message if isinstance(message, str) else ""
        past = conversation(history)
        history = list(history or []) + [{"role": "user", "content": _esc(question)}]
        answers = list(answers or [])
        reply = {"role": "assistant", "content": "…"}
        history.append(reply)
        yield history, "", answers, gr.skip()
        try:
            current = tutors.get(generator_choice)
            answer = None
            k = min(max(int(top_k or current.top_k), 1), MAX_TOP_K)
            for item in current.stream(question, history=past, top_k=k):
                if isinstance(item, Answer):
                    answer = item
                else:
                    reply["content"] = _esc(item) + " ▌"
                    yield history, "", answers, gr.skip()
        except TutorError as exc:
            if len(question) > SHOWN_BAD_QUESTION:  # a pasted essay should not bury the message about it
                history[-2] = {"role": "user", "content": _esc(question[:SHOWN_BAD_QUESTION]) + " …"}
            reply["content"] = format_error(str(exc))
            answers.append({"question": question[:200], "error": str(exc)})
            # Keep the question in the box so that the student can shorten or fix it.
            yield history, question, answers, render_sources(answers[-1])
            return
        reply["content"] = format_reply(answer)
        answers.append(answer.to_dict())
        yield history, "", answers, render_sources(answers[-1])

    # No `from __future__ import annotations` in this module: Gradio finds the SelectData parameter by its
    # annotation, which must therefore be the class itself, not a string.
    def show_selected(answers: list, history: list, evt: gr.SelectData):
        """Show the sources of the answer the student clicked (or of the answer to the question clicked)."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not isinstance(index, int) or not history:
            return gr.skip()
        # The n-th assistant message holds the n-th answer; a click on a question selects its answer.
        roles = [m.get("role") if isinstance(m, dict) else None for m in history]
        if index < len(roles) and roles[index] == "user":
            index += 1
        n = sum(1 for r in roles[: index + 1] if r == "assistant") - 1
        if 0 <= n < len(answers or []):
            return render_sources(answers[n])
        return gr.skip()

    def switch_generator(choice: str):
        try:
            return header_html(tutors.get(choice))
        except TutorError as exc:
            return header_html(tutor, f'<p class="tutor-status tutor-error">{_esc(exc)}</p>')

    def ask(question: str) -> dict:
        """Answer one question from the course material: the answer JSON (Answer.to_dict()), `error` set if the
        question cannot be asked."""
        try:
            return tutor.ask(question).to_dict()
        except TutorError as exc:
            text = question if isinstance(question, str) else repr(question)
            return Answer(question=text[:200], text="", abstained=False, generator=tutor.generator,
                          error=str(exc)).to_dict()

    title = f"{tutor.title} · tutor"
    # analytics off: no telemetry and no version check, which an offline tutor has no business making.
    with gr.Blocks(title=title, analytics_enabled=False) as app:
        answers = gr.State([])
        with gr.Row():
            header = gr.HTML(header_html(tutor), css_template=HEADER_CSS, elem_id="tutor-header")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    height=520,
                    elem_id="tutor-chat",
                    allow_tags=False,
                    feedback_options=None,
                    buttons=["copy"],
                    placeholder="Ask a question about the course material below, or click an example.",
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder=f"Ask a question (up to {config.MAX_QUESTION_CHARS:,} characters)…",
                        show_label=False,
                        max_lines=6,
                        scale=5,
                        elem_id="tutor-question",
                        submit_btn=False,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="tutor-ask")
                with gr.Row():
                    clear = gr.Button("Clear chat", size="sm", variant="secondary", elem_id="tutor-clear")
                if examples:
                    example_list = gr.Examples(
                        examples=[[q] for q in examples], inputs=[box], label="Example questions"
                    )
            with gr.Column(scale=2, min_width=300):
                sources = gr.HTML(render_sources(None), label="Sources", show_label=True, css_template=SOURCES_CSS,
                                  elem_id="tutor-sources", container=True, padding=True)
                with gr.Accordion("Settings", open=False):
                    top_k = gr.Slider(
                        1, MAX_TOP_K, value=min(tutor.top_k, MAX_TOP_K), step=1, label="Passages to retrieve (top-k)"
                    )
                    generator_box = gr.Dropdown(
                        choices=generator_choices(spec), value=spec, label="Generator", allow_custom_value=False,
                        info="auto: a local seq2seq model if there is one, else extractive quotes",
                    )

        chat_inputs = [box, chatbot, answers, top_k, generator_box]
        chat_outputs = [chatbot, box, answers, sources]
        send.click(respond, chat_inputs, chat_outputs, api_name="chat")
        box.submit(respond, chat_inputs, chat_outputs, api_visibility="private")
        if examples:
            example_list.load_input_event.then(respond, chat_inputs, chat_outputs, api_visibility="private")
        chatbot.select(show_selected, [answers, chatbot], [sources], api_visibility="private", queue=False)
        clear.click(lambda: ([], "", [], render_sources(None)), None, chat_outputs, api_visibility="private",
                    queue=False)
        generator_box.change(switch_generator, [generator_box], [header], api_visibility="private")
        gr.api(ask, api_name="ask")
        practice_tab(tutor)

    app.queue(default_concurrency_limit=concurrency_limit(), max_size=256)
    return app


# ------------------------------------------------------------------------------------------------ serving


def launch_options() -> dict:
    """Options for `app.launch(**launch_options())`: Gradio 6 takes the theme at launch, not in Blocks.

    System fonts: the default theme fetches its fonts from the web, which an offline tutor cannot reach.
    """
    import gradio as gr

    sans = ["system-ui", "Segoe UI", "Roboto", "DejaVu Sans", "Liberation Sans", "sans-serif"]
    mono = ["ui-monospace", "DejaVu Sans Mono", "Liberation Mono", "monospace"]
    return {
        "theme": gr.themes.Default(primary_hue="blue", font=sans, font_mono=mono),
        # Offline and private: no run-history page (it offers uploading runs to the Hugging Face Hub).
        "run_history": False,
        "footer_links": ["api"],
    }


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """--auth USER:PASS as a (user, password) pair; TutorError if it is not of that form."""
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise TutorError("--auth takes USER:PASS, a user name and a password joined by a colon (e.g. alice:s3cret).")
    return user.strip(), password


def serve(args) -> int:
    """`tutor chat`: load the tutor once, print the address, serve until interrupted."""
    from tutor.loading import load_from_args

    auth = parse_auth(getattr(args, "auth", None))  # before the slow part: a typo fails at once
    tutor = load_from_args(args)
    app = build_app(tutor, generator=getattr(args, "generator", None))
    loopback = args.host in ("127.0.0.1", "localhost", "::1")
    if not loopback and auth is None:
        print(f"note: listening on {args.host} without --auth: anyone who can reach this port can use the tutor.",
              file=sys.stderr)
    try:
        _, local_url, share_url = app.launch(
            server_name=args.host,
            server_port=args.port,
            share=bool(args.share),
            auth=auth,
            auth_message=f"Sign in to the tutor for “{_esc(tutor.title)}”." if auth else None,
            prevent_thread_lock=True,
            quiet=True,
            **launch_options(),
        )
    except OSError as exc:
        why = "the port is in use" if "empty port" in str(exc) else str(exc)
        raise TutorError(f"Cannot serve on {args.host}:{args.port}: {why}. Pick another port with --port.") from exc
    print(f"Tutor for “{tutor.title}” is open at {local_url}", flush=True)
    if share_url:
        print(f"Public share link: {share_url}", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    try:
        app.block_thread()
    finally:
        app.close()
    return 0
