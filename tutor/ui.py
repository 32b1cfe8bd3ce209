"""The chat tutor in the browser: a Gradio app over the tutors of one `ServedCourse`, or of a library of them.

    app = build_app(Tutor.load())                   # a gr.Blocks; `tutor chat` serves it
    app.launch(**launch_options())
    app = build_app(library=ServedLibrary(find_courses(Path("courses")), "auto"))   # `tutor chat --library`

Thin like the other front doors: it calls `Tutor.stream` (the chat) and `Tutor.ask` (the `/ask` API) and
formats with `tutor.ui_render`, which turns everything a student types or a course file holds into text.
The server keeps nothing per student beyond Gradio's session state; the conversation is also kept in the
browser's storage so that it survives a reload. Request limits live in `tutor.ui_guard`; loading
generators and following course changes in `tutor.ui_course`; the course picker and a teacher's uploads in
`tutor.ui_library`.
"""

import logging
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from tutor import config
from tutor.errors import TutorError
from tutor.models import PATH_SEP, Answer
from tutor.ui_course import ServedCourse
from tutor.ui_guard import MAX_BODY_BYTES, guard_middleware, limit_waiting_per_client
from tutor.ui_library import ServedLibrary, Teachers, teacher_panel, wire_library
from tutor.ui_practice import practice_tab
from tutor.ui_render import (
    EMPTY_SOURCES,
    NOT_COVERED,
    about_html,
    esc,
    export_markdown,
    header_html,
    render_answer,
    render_partial,
    render_question,
    render_sources,
    status_line,
)

__all__ = ["NOT_COVERED", "build_app", "launch_options", "parse_auth", "serve", "example_questions"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
MAX_EXAMPLES = 4
MAX_TOP_K = 10
MAX_HISTORY_TURNS = 20  # earlier turns a follow-up may lean on (the /ask API's `history`)
SHOWN_BAD_QUESTION = 300  # characters of a rejected question kept in the chat
# A question this long is refused without being read: cleaning can only shorten it by collapsing whitespace,
# and no real question needs four times the limit in blanks.
PRECHECK_CHARS = 4 * config.MAX_QUESTION_CHARS
STREAM_TICK_S = 0.04  # a few words every 40 ms
STREAM_BUDGET_S = 0.45  # the pacing never holds back a finished answer longer than this
STREAM_MIN_WORDS = 3
EXAMPLES_CACHE = "chat-examples.json"
SAVED_TURNS = 24  # turns kept in the browser for a reload; what a reload sends back must fit MAX_BODY_BYTES
GENERIC_HEADINGS = {"introduction", "conclusion", "summary", "key takeaways", "additional resources", "topics",
                    "references", "overview", "contents", "table of contents"}


# ----------------------------------------------------------------------------------------------- helpers


def precheck(question: object) -> str | None:
    """Why a question cannot be asked, found without reading it (its type, its raw length); None if it may be."""
    if not isinstance(question, str):
        return f"A question must be text, not {type(question).__name__}."
    if len(question) > PRECHECK_CHARS:
        return (f"The question is {len(question):,} characters long; the limit is {config.MAX_QUESTION_CHARS:,}. "
                "Ask it in fewer words.")
    return None


def conversation(turns: Sequence[dict]) -> list[dict]:
    """The chat so far as role/content messages of plain text, for `Tutor.stream(history=...)`."""
    out = []
    for turn in turns or ():
        if isinstance(turn, dict) and not turn.get("error"):
            out += [{"role": "user", "content": str(turn.get("question") or "")},
                    {"role": "assistant", "content": str(turn.get("answer") or "")}]
    return out[-2 * MAX_HISTORY_TURNS :]


def chat_messages(turns: Sequence[dict]) -> list[dict]:
    """The Chatbot's messages for the finished turns; the newest answer is the selected one."""
    messages = []
    for i, turn in enumerate(turns):
        messages.append({"role": "user", "content": render_question(str(turn.get("question") or ""))})
        messages.append({"role": "assistant", "content": render_answer(turn, i, selected=i == len(turns) - 1)})
    return messages


def error_turn(question: object, message: str, generator: str) -> dict:
    text = question if isinstance(question, str) else repr(question)
    if len(text) > SHOWN_BAD_QUESTION:  # a pasted essay should not bury the message about it
        text = text[:SHOWN_BAD_QUESTION] + " …"
    return Answer(question=text, text="", abstained=False, generator=generator, error=message).to_dict()


def for_browser(turns: Sequence[dict]) -> list[dict]:
    """The turns kept in the browser for a reload: the newest ones, trimmed so that sending them back fits."""
    import json

    kept = []
    for turn in list(turns)[-SAVED_TURNS:]:
        also = [{**c, "text": str(c.get("text") or "")[:300]} for c in turn.get("also_retrieved") or []]
        kept.append({**turn, "also_retrieved": also})
    while kept and len(json.dumps(kept)) > MAX_BODY_BYTES * 3 // 4:
        kept.pop(0)
    return kept


def restored(saved: object) -> list[dict]:
    """Turns read back from the browser, only if they have the shape this app wrote."""
    if not isinstance(saved, list):
        return []
    keys = {"question", "answer", "abstained", "citations"}
    return [t for t in saved[-SAVED_TURNS:] if isinstance(t, dict) and keys <= set(t)
            and isinstance(t.get("citations"), list)]


def paced(items: Iterable, tick: float = STREAM_TICK_S, budget: float = STREAM_BUDGET_S) -> Iterator:
    """`Tutor.stream`'s items at reading pace: the growing text a few words every `tick` seconds, then the
    final Answer no more than about `budget` seconds after the tutor finished it. Errors pass through."""
    inbox: queue.Queue = queue.Queue()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                inbox.put(item)
        except BaseException as exc:  # handed to the reader, raised there
            inbox.put(exc)
        inbox.put(done)

    threading.Thread(target=produce, daemon=True, name="answer-stream").start()
    latest, final, shown, ended = "", None, 0, False
    finished_at = None
    while True:
        try:
            item = inbox.get(timeout=tick) if not ended else done
            while not ended:  # take everything already there
                if item is done:
                    ended = True
                elif isinstance(item, BaseException):
                    raise item
                elif isinstance(item, Answer):
                    final = item
                else:
                    latest = str(item)
                if not ended:
                    item = inbox.get_nowait()
        except queue.Empty:
            pass
        if ended and final is None:
            return
        if final is not None and finished_at is None:
            finished_at = time.monotonic()
            if final.abstained or final.form == "smalltalk":
                yield final
                return
            latest = final.text
        words = latest.split(" ")
        step = STREAM_MIN_WORDS
        if final is not None:
            ticks_left = max(1, int((budget - (time.monotonic() - finished_at)) / tick))
            step = max(STREAM_MIN_WORDS, -(-(len(words) - shown) // ticks_left))
        if shown < len(words) and (final is not None or len(words) - shown > STREAM_MIN_WORDS):
            shown = min(len(words), shown + step)
            if shown < len(words):
                yield " ".join(words[:shown])
                time.sleep(tick)
                continue
        if final is not None:
            yield final
            return


def example_questions(tutor, limit: int = MAX_EXAMPLES) -> list[str]:
    """Questions to click, made from the course's own headings (one per part of the course, spread over it;
    a numbered heading keeps its number) and kept only if the tutor answers them."""
    import re

    by_part: dict[str, str] = {}
    for chunk in tutor.store.chunks:
        parts = chunk.section.split(PATH_SEP) if chunk.section else []
        leaf = " ".join(parts[-1].split()).strip().strip('"') if parts else ""
        bare = re.sub(r"^\s*(\d+[.)]|[A-Z]\w* \d+:)\s*", "", leaf)
        if not bare or bare.lower() in GENERIC_HEADINGS or len(leaf) > 60:
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


def cached_example_questions(tutor, version: str) -> list[str]:
    """`example_questions`, kept in the index folder per course version: a restart then skips asking them
    (the first questions a process answers pay the model's warm-up, about a second on a small CPU)."""
    import json

    path = Path(tutor.index_dir) / EXAMPLES_CACHE
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("version") == version and saved.get("generator") == tutor.generator:
            return [str(q) for q in saved["examples"]][:MAX_EXAMPLES]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    examples = example_questions(tutor)
    try:
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"version": version, "generator": tutor.generator, "examples": examples}),
                       encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only index folder: asked again next time
    return examples


def generator_choices(spec: str) -> list[str]:
    choices = [spec, "auto", "extractive", config.default_generator()]
    return list(dict.fromkeys(c for c in choices if c))


def concurrency_limit() -> int:
    """Answers computed at once: the embedding and FAISS work releases the GIL, so two per core keeps cores busy."""
    return max(2, min(8, 2 * (os.cpu_count() or 1)))


def _top_k(value: object, default: int) -> int:
    try:
        return min(max(int(value), 1), MAX_TOP_K)
    except (TypeError, ValueError):
        return default


# -------------------------------------------------------------------------------------------------- the app


def build_app(tutor=None, *, generator: str | None = None, examples: Sequence[str] | None = None,
              course: ServedCourse | None = None, backend: str = "auto", library: ServedLibrary | None = None,
              teachers: Teachers | None = None):
    """The chat as a Gradio Blocks app (not launched). `generator` names the spec `tutor` was loaded with.

    With a `library` (and no `tutor`): a course picker, each session answered from the course it picked, and
    for `teachers` a panel that adds and removes the picked course's documents."""
    import gradio as gr

    spec = generator or (library.spec if library is not None else config.default_generator())
    if library is None:
        course = course or ServedCourse(tutor, spec, backend=backend)
        if examples is None:
            examples = example_questions(tutor)
        default_k = tutor.top_k
    else:
        examples = ()  # made from one course's headings; the picked course changes per session
        default_k = library.top_k
        teachers = teachers or Teachers()

    def served(course_key: str | None) -> ServedCourse:
        """The course a request answers from: the one served, or the library course the session picked."""
        return course if library is None else library.wait(course_key)

    def facts_of(course_key: str | None, generator_choice: str | None = None):
        if library is None:
            return course.facts(generator_choice)
        known = course_key in library.courses or library.gone(course_key)
        return library.facts(course_key if known else library.default, generator_choice)

    facts = facts_of(library.default if library is not None else None)
    answering = {"concurrency_limit": concurrency_limit(), "concurrency_id": "answer"}

    def respond(question: str, turns: list, top_k: float, generator_choice: str,
                course_key: str | None = None) -> Iterator:
        """Stream the answer into the chat; the sources panel follows the newest answer."""
        turns = list(turns or [])
        if isinstance(question, str) and not question.strip():
            yield (gr.skip(),) * 6
            return
        if library is not None and not library.ready(course_key) and not library.gone(course_key):
            waiting = chat_messages(turns) + [
                {"role": "user", "content": render_question(str(question)[:SHOWN_BAD_QUESTION])},
                {"role": "assistant", "content": render_partial("Opening the course (reading and indexing its "
                                                                "documents)…")}]
            yield (waiting, "") + (gr.skip(),) * 4
        try:
            active = served(course_key)
        except TutorError as exc:
            turns.append(error_turn(question, str(exc), spec))
            yield chat_messages(turns), question, turns, render_sources(turns), gr.skip(), gr.skip()
            return
        current, note = active.tutor(generator_choice)
        k = _top_k(top_k, current.top_k)
        problem = precheck(question)
        shown = question if isinstance(question, str) and len(question) <= SHOWN_BAD_QUESTION else \
            error_turn(question, "", "")["question"]
        messages = chat_messages(turns)
        messages += [{"role": "user", "content": render_question(shown)},
                     {"role": "assistant", "content": render_partial("…")}]
        yield (messages, "") + (gr.skip(),) * 4
        answer = None
        if problem:
            answer = error_turn(question, problem, current.generator)
        else:
            try:
                for item in paced(current.stream(question, history=conversation(turns), top_k=k)):
                    if isinstance(item, Answer):
                        answer = item.to_dict()
                    else:
                        messages[-1] = {"role": "assistant", "content": render_partial(item)}
                        yield (messages, "") + (gr.skip(),) * 4
            except TutorError as exc:
                answer = error_turn(question, str(exc), current.generator)
        turns.append(answer)
        facts_now = facts_of(course_key, generator_choice)
        status = status_line(facts_now, k) if not note else status_line(facts_now, k).replace(
            "</p>", f" · {esc(note)}</p>")
        # A refused question stays in the box so that the student can shorten or fix it.
        box = question if answer.get("error") and isinstance(question, str) else ""
        yield chat_messages(turns), box, turns, render_sources(turns), status, about_html(facts_now, k)

    def restore(saved, top_k, generator_choice):
        """The conversation kept in the browser, back after a reload; and the name and facts of the version
        served now (the course may have changed since the app was built)."""
        turns = restored(saved)
        facts_now = course.facts(generator_choice)
        k = _top_k(top_k, default_k)
        return (chat_messages(turns), turns, render_sources(turns), status_line(facts_now, k),
                about_html(facts_now, k), header_html(facts_now))

    def reset():
        return [], "", [], EMPTY_SOURCES, []

    def settings_changed(top_k, generator_choice, course_key=None):
        note = None
        if library is None or library.ready(course_key):
            note = served(course_key).prepare(generator_choice)
        facts_now = facts_of(course_key, generator_choice)
        k = _top_k(top_k, default_k)
        status = status_line(facts_now, k)
        if note:
            status = status.replace("</p>", f" · {esc(note)}</p>")
        return status, about_html(facts_now, k)

    def export(turns, course_key=None):
        return export_markdown(list(turns or []), facts_of(course_key).title)

    def ask(question: str, history: list | None = None, top_k: int | None = None) -> dict:
        """Answer one question from the course material: the answer JSON (Answer.to_dict()), `error` set if the
        question cannot be asked. `history`: the earlier questions (or role/content messages) for a follow-up;
        `top_k`: how many passages to read (1–10)."""
        return ask_course(question, history, top_k, None)

    def ask_in(question: str, course: str, history: list | None = None, top_k: int | None = None) -> dict:
        """Answer one question from one course of the library (`course`: its folder name, as /courses lists
        them): the answer JSON (Answer.to_dict()), `error` set if it cannot be asked. `history`, `top_k`: as
        for /ask."""
        return ask_course(question, history, top_k, course)

    def courses() -> list[dict]:
        """The library's courses: each one's folder name (what /ask takes as `course`) and title."""
        return [{"course": name, "title": title} for title, name in library.choices()]

    def ask_course(question, history, top_k, course_key) -> dict:
        try:
            current, _ = served(course_key).tutor(None)
        except TutorError as exc:
            return error_turn(question, str(exc), spec)
        problem = precheck(question)
        if problem is None and history is not None and not isinstance(history, list):
            problem = "history must be a list of earlier questions."
        if problem:
            return error_turn(question, problem, current.generator)
        past = [h for h in (history or [])[-2 * MAX_HISTORY_TURNS :] if isinstance(h, (str, dict))]
        try:
            k = None if top_k is None else _top_k(top_k, current.top_k)
            return current.ask(question, history=past, top_k=k).to_dict()
        except TutorError as exc:
            return error_turn(question, str(exc), current.generator)

    title = f"{facts.title} · tutor" if library is None else "Course tutor"
    # analytics off: no telemetry and no version check, which an offline tutor has no business making.
    with gr.Blocks(title=title, analytics_enabled=False) as app:
        turns = gr.State([])
        saved = gr.BrowserState([], storage_key="tutor-conversation")
        if library is not None:
            picker = gr.Dropdown(choices=library.choices(), value=library.default, label="Course",
                                 elem_id="tutor-course", allow_custom_value=False, filterable=False)
            saved_course = gr.BrowserState(library.default, storage_key="tutor-course")
        header = gr.HTML(header_html(facts), elem_id="tutor-header", padding=False)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                status = gr.HTML(status_line(facts, default_k), label="Status", elem_id="tutor-status-box",
                                 padding=False)
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=340):
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            elem_id="tutor-chat",
                            allow_tags=False,
                            feedback_options=None,
                            buttons=[],
                            latex_delimiters=[],
                            line_breaks=False,
                            placeholder="Ask a question about the course below, or click an example.",
                        )
                        with gr.Row():
                            box = gr.Textbox(
                                label="Question",
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
                            export_button = gr.Button("Export conversation", size="sm", variant="secondary",
                                                      elem_id="tutor-export")
                        exported = gr.Textbox(label="Exported conversation", visible=False)
                        if examples:
                            example_list = gr.Examples(examples=[[q] for q in examples], inputs=[box],
                                                       label="Example questions")
                    with gr.Column(scale=2, min_width=300, elem_id="tutor-side"):
                        sources = gr.HTML(EMPTY_SOURCES, label="Sources", show_label=True, elem_id="tutor-sources",
                                          container=True, padding=True)
                        with gr.Accordion("Settings", open=False):
                            top_k = gr.Slider(1, MAX_TOP_K, value=min(default_k, MAX_TOP_K), step=1,
                                              label="Passages to read", elem_id="tutor-top-k",
                                              info="How many course passages each answer reads before answering")
                            generator_box = gr.Dropdown(
                                choices=generator_choices(spec), value=spec, label="How answers are made",
                                allow_custom_value=False,
                                info="extractive: quotes from the course; auto: a local language model if this "
                                     "computer has one, else quotes",
                            )
                        about = gr.HTML(about_html(facts, default_k), label="About this tutor", padding=False)
                        if library is not None:
                            panel = teacher_panel(library, teachers)
            # Each session is quizzed on the course it answers from (a library's: the one it picked, else the first).
            practice_tab(lambda key=None: served(key or (library.default if library is not None else None)).tutor()[0],
                         picker=picker if library is not None else None)

        picked = [picker] if library is not None else []
        chat_inputs = [box, turns, top_k, generator_box] + picked
        chat_outputs = [chatbot, box, turns, sources, status, about]
        keep = dict(fn=for_browser, inputs=[turns], outputs=[saved], api_visibility="private", queue=False)
        send.click(respond, chat_inputs, chat_outputs, api_name="chat", **answering).then(**keep)
        box.submit(respond, chat_inputs, chat_outputs, api_visibility="private", **answering).then(**keep)
        if examples:
            example_list.load_input_event.then(respond, chat_inputs, chat_outputs, api_visibility="private",
                                               **answering).then(**keep)
        clear.click(reset, None, [chatbot, box, turns, sources, saved], api_visibility="private", queue=False)
        chatbot.clear(reset, None, [chatbot, box, turns, sources, saved], api_visibility="private", queue=False)
        export_button.click(export, [turns] + picked, [exported], api_visibility="private", queue=False).then(
            None, [exported], None, js="(markdown) => window.tutorChat.download(markdown, 'conversation.md')",
            api_visibility="private")
        settings = dict(fn=settings_changed, inputs=[top_k, generator_box] + picked, outputs=[status, about],
                        api_visibility="private", queue=False)
        top_k.change(**settings)
        generator_box.change(**settings)
        if library is None:
            app.load(restore, [saved, top_k, generator_box], [chatbot, turns, sources, status, about, header],
                     api_visibility="private")
            gr.api(ask, api_name="ask", **answering)
        else:
            wire_library(app, library, teachers, panel, picker=picker, saved_course=saved_course, top_k=top_k,
                         generator_box=generator_box, conversation=[chatbot, box, turns, sources, saved],
                         course_view=[header, status, about], saved=saved, default_k=default_k)
            gr.api(ask_in, api_name="ask", **answering)
            gr.api(courses, api_name="courses", queue=False)

    app.queue(default_concurrency_limit=concurrency_limit(), max_size=256)
    limit_waiting_per_client(app)
    app.tutor_course = course  # for `serve` and tests: the tutors this app answers with (None for a library)
    app.tutor_library = library
    return app


# ------------------------------------------------------------------------------------------------ serving


def launch_options(upload_gate=None, max_upload: int = 0) -> dict:
    """Options for `app.launch(**launch_options())`: the look (Gradio 6 takes theme, CSS and head at launch) and
    the request limits. `upload_gate(scope)`: whether a request may upload a file of up to `max_upload` bytes
    (a library's teacher); without one, uploads are refused.

    System fonts: the default theme fetches its fonts from the web, which an offline tutor cannot reach.
    """
    import gradio as gr

    sans = ["system-ui", "Segoe UI", "Roboto", "DejaVu Sans", "Liberation Sans", "sans-serif"]
    mono = ["ui-monospace", "DejaVu Sans Mono", "Liberation Mono", "monospace"]
    script = (STATIC / "chat.js").read_text(encoding="utf-8")
    page_css = (STATIC / "page.css").read_text(encoding="utf-8")
    return {
        "theme": gr.themes.Default(primary_hue="blue", font=sans, font_mono=mono),
        "css": (STATIC / "chat.css").read_text(encoding="utf-8"),
        "head": f"<style>{page_css}</style><script>{script}</script>",
        # Offline and private: no run-history page (it offers uploading runs to the Hugging Face Hub).
        "run_history": False,
        "footer_links": ["api"],
        # The chat takes no files but a teacher's: other uploads are refused by the guard; this is the limit
        # should one get through.
        "max_file_size": max_upload if upload_gate is not None else "1kb",
        "app_kwargs": {"middleware": guard_middleware(upload_gate=upload_gate, max_upload=max_upload)},
    }


def parse_auth(value: str | None, option: str = "--auth") -> tuple[str, str] | None:
    """--auth USER:PASS as a (user, password) pair; TutorError if it is not of that form."""
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise TutorError(f"{option} takes USER:PASS, a user name and a password joined by a colon "
                         "(e.g. alice:s3cret).")
    return user.strip(), password


def sign_ins(args) -> tuple[list[tuple[str, str]], str | None]:
    """The accounts that may sign in (--auth, once or more, and --teacher) and the teacher's user name."""
    given = getattr(args, "auth", None)
    students = [parse_auth(a) for a in ([given] if isinstance(given, str) else given or [])]
    teacher = parse_auth(getattr(args, "teacher", None), "--teacher")
    if teacher and not getattr(args, "library", None):
        raise TutorError("--teacher lets a teacher add course documents in a library: use it with --library DIR.")
    if teacher and any(user == teacher[0] for user, _ in students):
        raise TutorError(f"The teacher's user name “{teacher[0]}” is also a student's (--auth): give them "
                         "different names.")
    return students + ([teacher] if teacher else []), teacher[0] if teacher else None


def _say_what_loading_does(args) -> bool:
    """Print "Building the index for N documents…" when the index must be built; True if it must."""
    from tutor.ingest import corpus_files
    from tutor.store import corpus_fingerprint, read_manifest

    corpus = Path(args.corpus) if args.corpus else config.default_corpus_dir()
    index = Path(args.index) if args.index else config.default_index_dir()
    if not corpus.is_dir():
        return False  # Tutor.load says what to do
    manifest = read_manifest(index)  # cheap: a damaged index is found (and rebuilt) by Tutor.load itself
    if manifest is not None and manifest.get("corpus") == corpus_fingerprint(corpus):
        return False
    n = len(list(corpus_files(corpus)))
    print(f"Building the index for {n} document{'s' if n != 1 else ''}…", flush=True)
    return True


def _warm_up(tutor, upgrade_encoder: bool) -> None:
    if upgrade_encoder:
        from tutor.embeddings import load_embedder

        try:
            tutor.retriever.embedder = load_embedder(tutor.device, engine="auto")
        except Exception:  # the NumPy encoder keeps answering; nothing a student should see
            log.exception("could not load the torch encoder; questions stay on the NumPy one")
    tutor.covers(["What is this course about?"])
    tutor.words.warm()


def serve(args) -> int:
    """`tutor chat`: load the tutor once, print the address, serve until interrupted."""
    from tutor.loading import load_from_args

    if getattr(args, "library", None):
        return serve_library(args)
    accounts, _ = sign_ins(args)  # before the slow part: a typo fails at once
    auth = accounts or None
    building = _say_what_loading_does(args)
    # On a CPU the chat starts on the NumPy encoder, which needs no torch import (about 2 s here), and
    # moves to the faster torch encoder in the background once it is serving: both give the same vectors.
    on_cpu = getattr(args, "device", None) in (None, "auto", "cpu")
    tutor = load_from_args(args, progress=building, embedding_engine="numpy" if on_cpu else "auto")
    course = ServedCourse(tutor, getattr(args, "generator", None) or config.default_generator(),
                          backend=getattr(args, "backend", "auto"))
    # Gradio's own temporary files (none are expected: uploads are refused) go to a folder removed on exit.
    scratch = tempfile.mkdtemp(prefix="tutor-chat-")
    os.environ["GRADIO_TEMP_DIR"] = scratch
    examples = cached_example_questions(tutor, course.served.version)
    app = build_app(tutor, generator=course.default_spec, course=course, examples=examples)
    title = course.facts().title
    local_url, share_url = _launch(app, args, auth, f"Sign in to the tutor for “{esc(title)}”.", scratch,
                                   launch_options())
    course.start_watching()
    # Warm the model up now, not on the first student's question (and on a CPU, move to the torch encoder).
    threading.Thread(target=_warm_up, args=(tutor, on_cpu), daemon=True).start()
    print(f"Tutor for “{title}” is open at {local_url}", flush=True)
    return _serve_until_stopped(app, share_url, course.stop, scratch)


def serve_library(args) -> int:
    """`tutor chat --library DIR`: every course folder under DIR, opened in the background; a course picker;
    uploads for the teacher (see `tutor.ui_library.Teachers`)."""
    from tutor.embeddings import resolve_device
    from tutor.library import MAX_UPLOAD_BYTES, find_courses
    from tutor.ui_library import Teachers, upload_gate

    accounts, teacher = sign_ins(args)
    if args.corpus:
        raise TutorError("--library serves every course folder under it: leave out --corpus.")
    courses = find_courses(Path(args.library), Path(args.index) if args.index else None)
    if teacher and len(accounts) == 1:
        print("note: --teacher turns sign-in on, and only the teacher has an account: give students one with "
              "--auth USER:PASS.", file=sys.stderr)
    spec = getattr(args, "generator", None) or config.default_generator()
    library = ServedLibrary(courses, spec, device=resolve_device(args.device or config.default_device()),
                            top_k=getattr(args, "top_k", 3), backend=getattr(args, "backend", "auto"),
                            library_dir=Path(args.library), index_root=Path(args.index) if args.index else None)
    students = any(user != teacher for user, _ in accounts)
    teachers = Teachers.for_server(args.host, teacher=teacher, students=students, share=bool(args.share))
    scratch = tempfile.mkdtemp(prefix="tutor-chat-")
    os.environ["GRADIO_TEMP_DIR"] = scratch  # a teacher's uploads wait here until they are checked and saved
    app = build_app(library=library, generator=spec, teachers=teachers)
    gate = upload_gate(app, teachers) if teachers.uploads_on else None
    local_url, share_url = _launch(app, args, accounts or None, "Sign in to the course tutor.", scratch,
                                   launch_options(gate, MAX_UPLOAD_BYTES))
    library.start()
    names = ", ".join(c.name for c in courses)
    print(f"Course library of {len(courses)} course{'s' if len(courses) != 1 else ''} ({names}) is open at "
          f"{local_url}; the courses are opened in the background.", flush=True)
    if teachers.user:
        print(f"Course documents: the teacher “{teachers.user}” may add and remove them.", flush=True)
    elif teachers.local:
        print("Course documents: you may add and remove them from this computer's browser.", flush=True)
    else:
        print("Course documents: adding and removing them is off (no --teacher account).", flush=True)
    return _serve_until_stopped(app, share_url, library.stop, scratch)


def _launch(app, args, auth, auth_message: str, scratch: str, options: dict) -> tuple[str, str | None]:
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
            auth_message=auth_message if auth else None,
            prevent_thread_lock=True,
            quiet=True,
            **options,
        )
    except OSError as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        why = "the port is in use" if "empty port" in str(exc) else str(exc)
        raise TutorError(f"Cannot serve on {args.host}:{args.port}: {why}. Pick another port with --port.") from exc
    return local_url, share_url


def _serve_until_stopped(app, share_url: str | None, stop, scratch: str) -> int:
    if share_url:
        print(f"Public share link: {share_url}", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    try:
        app.block_thread()
    finally:
        stop()
        app.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0
