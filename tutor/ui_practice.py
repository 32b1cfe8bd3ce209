"""The Practice tab of the chat: the tutor asks, the student answers, the tutor grades and shows the passage.

    with gr.Blocks() as app:
        ...
        practice_tab(tutor)      # the tab, and the API endpoints /practice_item and /grade
        practice_tab(tutor_for, picker=course_picker)   # a library: each session quizzed on its picked course

Thin like the chat: it calls `Tutor.practice` and `Tutor.grade` and formats. Every piece of course text
and everything the student types is HTML-escaped before it becomes markup. A student's quiz (its
questions, the answers so far, the questions already asked) lives in Gradio's session state.
"""

import html
import random

from tutor.errors import TutorError

ALL_SECTIONS = "All sections"
DEFAULT_N, MAX_N = 10, 30
EXCERPT_CONTEXT = 160
VERDICT_LABEL = {"correct": "Correct", "partly": "Partly right", "incorrect": "Not correct", "shown": "Answer shown",
                 "skipped": "Skipped"}

PRACTICE_CSS = """
.practice-card { font-size: 1.02em; line-height: 1.5; overflow-wrap: anywhere; }
.practice-meta { color: var(--body-text-color-subdued); font-size: 0.85em; margin: 0 0 0.3em 0; }
.practice-question { font-weight: 600; font-size: 1.1em; margin: 0.2em 0 0.4em 0; }
.practice-verdict { display: inline-block; font-weight: 700; padding: 0.1em 0.6em; border-radius: 999px; }
.practice-correct { background: #dcfce7; color: #166534; }
.practice-partly { background: #fef9c3; color: #854d0e; }
.practice-incorrect { background: #fee2e2; color: #991b1b; }
.practice-shown, .practice-skipped { background: #e5e7eb; color: #374151; }
.practice-answer { white-space: pre-wrap; margin: 0.3em 0; }
.practice-source { border-left: 3px solid var(--border-color-primary); padding-left: 0.7em; margin: 0.5em 0; }
.practice-card mark { background: #fde68a; color: #1f2937; padding: 0 0.1em; border-radius: 2px; }
.practice-empty { color: var(--body-text-color-subdued); }
.practice-error { color: var(--error-text-color, #b91c1c); }
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _lines(text: str) -> str:
    return "<br>".join(_esc(line) for line in str(text).split("\n"))


def _excerpt(text: str, quote: str) -> str:
    """The passage around the quote (HTML), the quote in <mark>."""
    start = text.find(quote) if quote else -1
    if start < 0:
        return _lines(text)
    end = start + len(quote)
    lo, hi = max(0, start - EXCERPT_CONTEXT), min(len(text), end + EXCERPT_CONTEXT)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space >= 0 else start
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space >= 0 else end
    return (("…" if lo else "") + _lines(text[lo:start]) + f"<mark>{_lines(quote)}</mark>" + _lines(text[end:hi])
            + ("…" if hi < len(text) else ""))


# ------------------------------------------------------------------------------------------ rendering


def new_state() -> dict:
    return {"items": [], "at": 0, "results": [], "seen": [], "answered": False}


def render_question(state: dict) -> str:
    items, at = state.get("items") or [], int(state.get("at", 0))
    if not items:
        body = ('<p class="practice-empty">Pick a section and a number of questions, then press '
                "<b>Start</b>. The tutor asks about the course, grades each answer and shows the passage to "
                "reread.</p>")
    elif at >= len(items):
        body = render_summary(state)
    else:
        item = items[at]
        section = item["citation"].get("section") or item["citation"].get("source", "")
        body = (f'<p class="practice-meta">Question {at + 1} of {len(items)} · {_esc(item["kind"])} · '
                f"{_esc(section)}</p>"
                f'<p class="practice-question">{_esc(item["question"])}</p>')
    return f'<div class="practice-card">{body}</div>'


def render_feedback(item: dict | None, grade: dict | None = None, verdict: str | None = None) -> str:
    """The verdict, the tutor's feedback, the model answer and the passage with the answer highlighted."""
    if item is None:
        return '<div class="practice-card"></div>'
    verdict = grade["verdict"] if grade else verdict or "shown"
    citation = item["citation"]
    parts = [f'<span class="practice-verdict practice-{_esc(verdict)}">{_esc(VERDICT_LABEL.get(verdict, verdict))}'
             + (f" · {float(grade['score']):.2f}" if grade else "") + "</span>"]
    if grade:
        parts.append(f"<p>{_esc(grade['feedback'])}</p>")
    parts.append(f'<p><b>Answer from the course:</b></p><p class="practice-answer">{_esc(item["answer"])}</p>')
    for source in [citation] + [c for c in item.get("also") or [] if isinstance(c, dict)]:
        where = source.get("section") or source.get("source", "")
        parts.append(f'<div class="practice-source"><p class="practice-meta">{_esc(where)}</p>'
                     f"<p>{_excerpt(source.get('text', ''), source.get('quote', ''))}</p></div>")
    return f'<div class="practice-card">{"".join(parts)}</div>'


def render_score(state: dict) -> str:
    results = state.get("results") or []
    if not results:
        return '<div class="practice-card"><p class="practice-meta">Score: nothing answered yet.</p></div>'
    points = sum(float(r["score"]) for r in results)
    counts = {v: sum(r["verdict"] == v for r in results) for v in ("correct", "partly", "incorrect")}
    other = len(results) - sum(counts.values())
    detail = ", ".join(f"{n} {VERDICT_LABEL[v].lower()}" for v, n in counts.items() if n)
    if other:
        detail += (", " if detail else "") + f"{other} skipped or shown"
    return (f'<div class="practice-card"><p class="practice-meta">Score: <b>{points:.1f}</b> of '
            f"{len(results)} · {_esc(detail)}</p></div>")


def review_sections(state: dict) -> list[str]:
    missed: dict[str, int] = {}
    for r in state.get("results") or []:
        if r["verdict"] != "correct":
            missed[r["section"]] = missed.get(r["section"], 0) + 1
    return sorted(missed, key=lambda s: -missed[s])


def render_summary(state: dict) -> str:
    results = state.get("results") or []
    points = sum(float(r["score"]) for r in results)
    review = review_sections(state)
    head = f'<p class="practice-question">Done: {points:.1f} of {len(results)} points.</p>'
    if not review:
        return head + "<p>Every answer was correct. Press <b>Start</b> for new questions.</p>"
    items = "".join(f"<li>{_esc(s)}</li>" for s in review)
    return head + f"<p>Sections to review:</p><ul>{items}</ul><p>Press <b>Start</b> for new questions.</p>"


# ------------------------------------------------------------------------------------------ the quiz


def start_quiz(tutor, state: dict | None, section: str | None, n: object) -> dict:
    """A fresh quiz of `n` questions (none the student has seen this session, while the course has others)."""
    state = dict(state or new_state())
    seen = list(state.get("seen") or [])
    try:
        count = min(max(int(n or DEFAULT_N), 1), MAX_N)
    except (TypeError, ValueError):
        count = DEFAULT_N
    where = None if not section or section == ALL_SECTIONS else section
    seed = random.randrange(2**32)
    items = tutor.practice(count, seed=seed, section=where, seen=seen)
    if not items:  # every question has been asked: begin again
        seen = []
        items = tutor.practice(count, seed=seed, section=where)
    return {"items": [i.to_dict() for i in items], "at": 0, "results": [],
            "seen": seen + [i.id for i in items], "answered": False}


def _record(state: dict, verdict: str, score: float) -> None:
    item = state["items"][state["at"]]
    section = item["citation"].get("section") or item["citation"].get("source", "")
    state["results"] = list(state.get("results") or []) + [
        {"id": item["id"], "verdict": verdict, "score": score, "section": section}]
    state["answered"] = True


def practice_tab(tutor, picker=None) -> None:
    """The Practice tab and its API endpoints, inside the caller's gr.Blocks. `tutor`: a Tutor, or a function
    from a course key to the Tutor of that course (TutorError if it cannot be opened); with a library's
    `picker` (the course dropdown), each session is quizzed on the course it picked, and picking another starts
    afresh with that course's sections."""
    import gradio as gr

    from tutor.practice import sections

    tutor_for = tutor if callable(tutor) and not hasattr(tutor, "practice") else (lambda _key=None: tutor)
    picked = [picker] if picker is not None else []

    def current(state):
        items, at = state.get("items") or [], int(state.get("at", 0))
        return items[at] if at < len(items) else None

    def outputs(state, feedback="", answer=""):
        return (render_question(state), answer, feedback or render_feedback(None), render_score(state), state)

    def failed(state, exc):
        return (f'<div class="practice-card"><p class="practice-error">{_esc(exc)}</p></div>', "",
                render_feedback(None), render_score(state), state)

    def on_start(section, n, state, course_key=None):
        state = dict(state or new_state())
        try:
            state = start_quiz(tutor_for(course_key), state, section, n)
        except TutorError as exc:
            return failed(state, exc)
        return outputs(state)

    def on_check(answer, state, course_key=None):
        state = dict(state or new_state())
        item = current(state)
        if item is None:
            return outputs(state, answer=answer)
        if state.get("answered"):
            return outputs(state, render_feedback(item, verdict=state["results"][-1]["verdict"]), answer)
        try:
            grade = tutor_for(course_key).grade(item, answer or "").to_dict()
        except TutorError as exc:
            return outputs(state, f'<div class="practice-card"><p class="practice-error">{_esc(exc)}</p></div>', answer)
        _record(state, grade["verdict"], float(grade["score"]))
        return outputs(state, render_feedback(item, grade), answer)

    def on_show(answer, state):
        state = dict(state or new_state())
        item = current(state)
        if item is None:
            return outputs(state, answer=answer)
        if not state.get("answered"):
            _record(state, "shown", 0.0)
        return outputs(state, render_feedback(item, verdict=state["results"][-1]["verdict"]), answer)

    def on_next(state, skip=False):
        state = dict(state or new_state())
        if current(state) is None:
            return outputs(state)
        if not state.get("answered"):
            if not skip:
                return outputs(state, render_feedback(None))
            _record(state, "skipped", 0.0)
        state["at"] = int(state["at"]) + 1
        state["answered"] = False
        return outputs(state)

    def section_choices(course_key=None) -> list[str]:
        try:
            return [ALL_SECTIONS] + sections(tutor_for(course_key))
        except TutorError:
            return [ALL_SECTIONS]

    def on_course(course_key):
        """Another course picked: its sections, and a fresh start (a quiz on the other course ends)."""
        state = new_state()
        return (gr.update(choices=section_choices(course_key), value=ALL_SECTIONS),) + outputs(state)

    def practice_item(section: str = "", seed: int | None = None, seen: list[str] | None = None,
                      course: str | None = None) -> dict:
        """One practice question on the course (PracticeItem.to_dict()), none of those whose ids are in `seen`;
        `error` is set when there is none to ask. `course`: in a library, the course's folder name (as
        /courses lists them; default: the library's first)."""
        try:
            items = tutor_for(course or None).practice(1, seed=seed, section=section or None, seen=seen or ())
        except TutorError as exc:
            return {"error": str(exc)}
        if not items:
            return {"error": "Every question on this part of the course has been asked."}
        return {**items[0].to_dict(), "error": None}

    def grade(item: dict, answer: str) -> dict:
        """Grade an answer to a practice item (as practice_item returned it): verdict, score, feedback,
        model_answer, citation; `error` is set when the item is not one."""
        try:
            return {**tutor_for(None).grade(item, answer).to_dict(), "error": None}
        except TutorError as exc:
            return {"error": str(exc)}

    choices = section_choices() if picker is None else [ALL_SECTIONS]
    with gr.Tab("Practice", elem_id="practice-tab") as tab:
        state = gr.State(new_state())
        with gr.Row(equal_height=False):
            section = gr.Dropdown(choices=choices, value=ALL_SECTIONS, label="Section", scale=3, min_width=200,
                                  elem_id="practice-section")
            count = gr.Slider(1, MAX_N, value=DEFAULT_N, step=1, label="Questions", scale=2, min_width=160,
                              elem_id="practice-n")
            start = gr.Button("Start", variant="primary", scale=1, min_width=90, elem_id="practice-start")
        question = gr.HTML(render_question(new_state()), css_template=PRACTICE_CSS, elem_id="practice-question")
        answer = gr.Textbox(label="Your answer", lines=2, max_lines=8, elem_id="practice-answer",
                            placeholder="Type your answer, then press Check.")
        with gr.Row():
            check = gr.Button("Check", variant="primary", min_width=90, elem_id="practice-check")
            show = gr.Button("Show answer", variant="secondary", min_width=90, elem_id="practice-show")
            skip = gr.Button("Skip", variant="secondary", min_width=90, elem_id="practice-skip")
            following = gr.Button("Next question", variant="secondary", min_width=90, elem_id="practice-next")
        feedback = gr.HTML(render_feedback(None), css_template=PRACTICE_CSS, elem_id="practice-feedback")
        score = gr.HTML(render_score(new_state()), css_template=PRACTICE_CSS, elem_id="practice-score")

        shown = [question, answer, feedback, score, state]
        private = {"api_visibility": "private"}
        start.click(on_start, [section, count, state] + picked, shown, **private)
        check.click(on_check, [answer, state] + picked, shown, **private)
        answer.submit(on_check, [answer, state] + picked, shown, **private)
        if picker is not None:
            picker.change(on_course, [picker], [section] + shown, **private)
            tab.select(lambda key, current_section: gr.update(choices=section_choices(key), value=current_section),
                       [picker, section], [section], **private)
        show.click(on_show, [answer, state], shown, **private)
        skip.click(lambda s: on_next(s, skip=True), [state], shown, **private)
        following.click(on_next, [state], shown, **private)
        gr.api(practice_item, api_name="practice_item")
        gr.api(grade, api_name="grade")
