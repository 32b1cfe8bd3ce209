"""The chat as a program sees it: a real Gradio server on loopback, driven through gradio_client."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from tutor import TutorError  # noqa: E402
from tutor.ui import NOT_COVERED, Tutors, build_app, example_questions, parse_auth, render_sources  # noqa: E402

pytestmark = pytest.mark.slow

HOSTILE = """Browser Safety

Cross-site scripting
A page that shows untrusted text as markup runs code such as <script>alert(1)</script> in the reader's browser.
An image tag like <img src=x onerror=alert(1)> runs its onerror code when the image fails to load.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(app, **kwargs) -> str:
    _, url, _ = app.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True, **kwargs
    )
    return url


@pytest.fixture(scope="module")
def server(tutor):
    app = build_app(tutor, generator="extractive")
    url = launch(app)
    yield url
    app.close()


@pytest.fixture(scope="module")
def client(server):
    return gradio_client.Client(server, verbose=False)


def chat(client, question: str, history: list | None = None):
    """Ask through the chat endpoint: (every streamed update, the final one)."""
    job = client.submit(question, history or [], api_name="/chat")
    job.result(timeout=60)
    updates = job.outputs()
    return updates, updates[-1]


def last_reply(update) -> str:
    messages = update[0]
    assert messages[-1]["role"] == "assistant"
    return " ".join(part["text"] for part in messages[-1]["content"] if part.get("type") == "text")


# ------------------------------------------------------------------------------------------------ /ask


def test_ask_endpoint_returns_the_answer_json_with_citations(client, tutor):
    result = client.predict("What is model drift?", api_name="/ask")
    assert result["error"] is None and not result["abstained"]
    assert "[1]" in result["answer"]
    assert result["answer"] == tutor.ask("What is model drift?").text
    assert result["citations"][0]["section"].endswith("Industry Challenges")
    assert result == tutor.ask("What is model drift?").to_dict() | {"latency_ms": result["latency_ms"]}


@pytest.mark.parametrize("bad", ["", "x" * 2_500])
def test_ask_endpoint_reports_a_bad_question_as_json(client, bad):
    result = client.predict(bad, api_name="/ask")
    assert result["error"]
    assert result["answer"] == "" and result["citations"] == []


def test_many_students_at_once_get_their_own_answers(client, tutor):
    questions = [
        "What is model drift?",
        "What is the primary goal in academia?",
        "What is the primary goal in industry?",
        "What is the capital city of France?",
    ]
    with ThreadPoolExecutor(len(questions)) as pool:
        results = list(pool.map(lambda q: client.predict(q, api_name="/ask"), questions))
    assert [r["question"] for r in results] == questions
    assert [r["answer"] for r in results] == [a.text for a in tutor.ask_many(questions)]


# ----------------------------------------------------------------------------------------------- /chat


def test_chat_streams_the_answer_then_shows_its_sources(client):
    updates, final = chat(client, "What is the primary goal in academia?")
    partials = [last_reply(u) for u in updates[:-1] if last_reply(u) not in ("", "…")]
    assert len(partials) > 1, "the answer should arrive in several steps"
    answer = last_reply(final)
    assert answer.startswith("The primary goal in academia is knowledge creation") and "[1]" in answer
    growing = [p.rstrip(" ▌") for p in partials]
    assert all(answer.startswith(p) for p in growing) and growing == sorted(growing, key=len)
    history, box, sources = final
    assert box == ""  # the question box is emptied for the next question
    assert "Academic Goals" in sources and "<mark>The primary goal in academia" in sources
    assert "<details>" in sources and "relevance" in sources


def test_follow_up_question_is_answered_in_the_context_of_the_conversation(client):
    _, first = chat(client, "What is the primary goal in academia?")
    _, second = chat(client, "And in industry?", first[0])
    answer = last_reply(second)
    assert "industry" in answer.lower() and "value creation" in answer
    assert "Industry Goals" in second[2]
    assert len(second[0]) == 4  # both turns of the conversation are kept


def test_the_sources_panel_shows_the_cited_passages_only(client, tutor):
    job = client.submit("What is model drift?", [], 5, api_name="/chat")
    job.result(timeout=60)
    sources = job.outputs()[-1][2]
    cited = tutor.ask("What is model drift?", top_k=5).citations
    assert sources.count('<li class="tutor-source"') == len(cited)


def test_off_topic_question_is_shown_as_not_covered(client):
    _, final = chat(client, "What is the capital city of France?")
    assert NOT_COVERED in last_reply(final)
    assert NOT_COVERED in final[2] and "<li" not in final[2]


def test_too_long_question_shows_the_tutors_message_in_the_chat(client):
    question = "why " * 600
    _, final = chat(client, question)
    assert "the limit is 2,000" in last_reply(final)
    assert final[1] == question  # kept in the box so that the student can shorten it
    shown = final[0][-2]["content"][0]["text"]
    assert shown.startswith("why why") and len(shown) < 400  # and not pasted in full above the message


def test_page_is_titled_after_the_course(server, tutor):
    with urllib.request.urlopen(server + "config", timeout=10) as response:
        config = json.load(response)
    assert tutor.title in config["title"]
    assert tutor.title in json.dumps(config["components"])


def test_example_questions_come_from_the_course_and_are_answered(tutor):
    examples = example_questions(tutor)
    assert 2 <= len(examples) <= 4
    headings = " ".join(c.section for c in tutor.store.chunks)
    for question in examples:
        assert question.removeprefix("What does the course say about ").rstrip("?") in headings
        assert not tutor.ask(question).abstained


def test_generator_choice_is_loaded_once_and_shared(tutor):
    tutors = Tutors(tutor, "extractive")
    assert tutors.get("extractive") is tutor
    auto = tutors.get("auto")
    assert auto is not tutor and tutors.get("auto") is auto
    assert auto.corpus_dir == tutor.corpus_dir and auto.device == tutor.device
    with pytest.raises(TutorError):
        tutors.get("/no/such/model")


# -------------------------------------------------------------------------------------------- escaping


@pytest.fixture(scope="module")
def hostile_tutor(tmp_path_factory):
    from tutor import Tutor

    root = tmp_path_factory.mktemp("hostile")
    (root / "corpus").mkdir()
    (root / "corpus" / "safety.txt").write_text(HOSTILE, encoding="utf-8")
    return Tutor.load(root / "corpus", root / "index", generator="extractive", device="cpu", top_k=5)


def test_markup_in_the_course_and_the_question_is_shown_as_text(hostile_tutor):
    app = build_app(hostile_tutor, examples=[])
    url = launch(app)
    try:
        client = gradio_client.Client(url, verbose=False)
        _, final = chat(client, "What happens when a page shows untrusted text as markup <img src=x onerror=alert(2)>?")
    finally:
        app.close()
    history, _, sources = final
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sources
    assert "&lt;img src=x onerror=alert(1)&gt;" in sources
    assert "<script" not in sources and "<img" not in sources
    question = history[0]["content"][0]["text"]
    assert "&lt;img src=x onerror=alert(2)&gt;" in question and "<img" not in question
    assert "<script" not in last_reply(final) and "<img" not in last_reply(final)


def test_sources_panel_escapes_every_field():
    evil = "<b onmouseover=alert(1)>x</b>"
    page = render_sources({"question": evil, "abstained": False, "citations": [
        {"rank": 1, "chunk_id": "c", "source": f"corpus/{evil}.txt", "section": evil, "text": f"before {evil} after",
         "quote": evil, "score": 0.5}]})
    assert "<b" not in page
    assert "<mark>&lt;b onmouseover=alert(1)&gt;x&lt;/b&gt;</mark>" in page


# ------------------------------------------------------------------------------------------------ auth


def test_with_auth_an_unauthenticated_request_is_refused(tutor):
    app = build_app(tutor, examples=[])
    url = launch(app, auth=("alice", "s3cret"))
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "config", timeout=10)
        assert refused.value.code == 401
        with pytest.raises(Exception):  # noqa: B017  (the client's error type is its own business)
            gradio_client.Client(url, verbose=False).predict("What is model drift?", api_name="/ask")
        signed_in = gradio_client.Client(url, auth=("alice", "s3cret"), verbose=False)
        assert signed_in.predict("What is model drift?", api_name="/ask")["citations"]
    finally:
        app.close()


@pytest.mark.parametrize("bad", ["alice", ":s3cret", "alice:", ""])
def test_malformed_auth_is_a_clear_error(bad):
    with pytest.raises(TutorError, match="USER:PASS"):
        parse_auth(bad)


def test_chat_command_rejects_malformed_auth_before_loading(capsys):
    from tutor.cli import main

    assert main(["chat", "--auth", "alice"]) == 2
    assert "USER:PASS" in capsys.readouterr().err
    assert parse_auth("alice:s3:cret") == ("alice", "s3:cret")
