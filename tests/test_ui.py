"""The chat as a program sees it: a real Gradio server on loopback, driven through gradio_client and raw HTTP."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from tests.test_question import course_tutor

pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from tutor import TutorError  # noqa: E402
from tutor.ui import NOT_COVERED, build_app, example_questions, launch_options, parse_auth  # noqa: E402
from tutor.ui_course import ServedCourse  # noqa: E402
from tutor.ui_guard import MAX_BODY_BYTES, RequestGuard, limit_waiting_per_client  # noqa: E402

pytestmark = pytest.mark.slow

HOSTILE = """Browser Safety

Cross-site scripting
A page that shows untrusted text as markup runs code such as <script>alert(1)</script> in the reader's browser.
An image tag like <img src=x onerror=alert(1)> runs its onerror code when the image fails to load.
"""

NUMBERED = """# Training Neural Networks

## 1. Gradient Descent

Gradient descent lowers the loss by stepping the weights against the gradient. The step size is the learning rate.

## 2. Backpropagation

Backpropagation computes the gradient of the loss for every weight with the chain rule, layer by layer.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(app, **kwargs) -> str:
    options = {**launch_options(), **kwargs}
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True,
                           **options)
    return url


@pytest.fixture(scope="module")
def server(tutor):
    app = build_app(tutor, generator="extractive")
    url = launch(app)
    yield url
    app.close()


@pytest.fixture()
def client(server):
    """A fresh client: its own session, so its own conversation."""
    return gradio_client.Client(server, verbose=False)


def chat(client, question: str, top_k: int = 3):
    """Ask through the chat endpoint: (every streamed update, the final one as a dict of named outputs)."""
    job = client.submit(question, top_k, "extractive", api_name="/chat")
    job.result(timeout=60)
    updates = job.outputs()
    names = ("messages", "box", "sources", "status", "about")
    return updates, dict(zip(names, updates[-1]))


def last_reply(messages) -> str:
    assert messages[-1]["role"] == "assistant"
    content = messages[-1]["content"]
    return " ".join(p["text"] for p in content if p.get("type") == "text") if isinstance(content, list) else content


def shown_sources(sources_html: str) -> str:
    """The section of the sources panel that is shown (the selected answer's)."""
    sections = re.findall(r'<section class="tutor-answer-sources tutor-a-\d+">(.*?)</section>', sources_html, re.S)
    assert len(sections) == 1
    return sections[0]


# ------------------------------------------------------------------------------------------------ /ask


def test_ask_endpoint_returns_the_answer_json_with_citations(server, tutor):
    client = gradio_client.Client(server, verbose=False)
    result = client.predict("What is model drift?", api_name="/ask")
    assert result["error"] is None and not result["abstained"]
    assert "[1]" in result["answer"]
    assert result["answer"] == tutor.ask("What is model drift?").text
    assert result["citations"][0]["section"].endswith("Industry Challenges")
    assert set(tutor.ask("What is model drift?").to_dict()) == set(result)


def test_ask_endpoint_takes_history_and_top_k(server, tutor):
    client = gradio_client.Client(server, verbose=False)
    history = ["What is the primary goal in academia?"]
    result = client.predict("And in industry?", history, 1, api_name="/ask")
    expected = tutor.ask("And in industry?", history=history, top_k=1)
    assert result["answer"] == expected.text and "value creation" in result["answer"]
    assert len(result["citations"]) + len(result["also_retrieved"]) == 1


@pytest.mark.parametrize("bad", ["", "x" * 2_500, "x" * 20_000])
def test_ask_endpoint_reports_a_bad_question_as_json(server, bad):
    result = gradio_client.Client(server, verbose=False).predict(bad, api_name="/ask")
    assert result["error"]
    assert result["answer"] == "" and result["citations"] == []


def test_many_students_at_once_get_their_own_answers(server, tutor):
    client = gradio_client.Client(server, verbose=False)
    questions = ["What is model drift?", "What is the primary goal in academia?",
                 "What is the primary goal in industry?", "What is the capital city of France?"]
    with ThreadPoolExecutor(len(questions)) as pool:
        results = list(pool.map(lambda q: client.predict(q, api_name="/ask"), questions))
    assert [r["question"] for r in results] == questions
    assert [r["answer"] for r in results] == [a.text for a in tutor.ask_many(questions)]


def test_chat_endpoint_outputs_have_names(client):
    info = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    returns = [r["label"] for r in info["/chat"]["returns"]]
    assert returns == ["Conversation", "Question", "Sources", "Status", "About this tutor"]
    params = [p["parameter_name"] for p in info["/ask"]["parameters"]]
    assert params == ["question", "history", "top_k"]


# ----------------------------------------------------------------------------------------------- /chat


def test_chat_streams_the_answer_then_shows_exactly_its_cited_passages(client, tutor):
    question = "What is the primary goal in academia?"
    started = time.monotonic()
    updates, final = chat(client, question)
    assert time.monotonic() - started < 10
    partials = [last_reply(u[0]) for u in updates[:-1] if "tutor-streaming" in last_reply(u[0])]
    assert len(partials) > 2, "the answer should arrive in several steps"
    answer = last_reply(final["messages"])
    assert "knowledge creation" in answer and 'class="tutor-cite" href="#tutor-src-0-1"' in answer
    assert final["box"] == ""  # the question box is emptied for the next question
    expected = tutor.ask(question)
    panel = shown_sources(final["sources"])
    assert re.findall(r'id="tutor-src-0-(\d+)"', panel) == [str(c.rank) for c in expected.citations]
    headings = re.findall(r'<span class="tutor-leaf">(.*?)</span>', panel.split('<details class="tutor-also">')[0])
    assert headings == [c.section.split(" › ")[-1] for c in expected.citations]
    assert '<mark class="tutor-quote">The primary goal in academia' in panel


def test_follow_up_question_is_answered_in_the_context_of_the_conversation(client):
    _, first = chat(client, "What is the primary goal in academia?")
    _, second = chat(client, "And in industry?")
    assert "value creation" in last_reply(second["messages"])
    assert "Industry Goals" in shown_sources(second["sources"])
    assert len(second["messages"]) == 4  # both turns are kept
    assert second["sources"].count("<section") == 2  # and each answer keeps its own sources


@pytest.mark.parametrize("top_k", [1, 5])
def test_passages_to_read_sets_how_many_passages_are_read(client, top_k):
    _, final = chat(client, "What is model drift?", top_k=top_k)
    panel = shown_sources(final["sources"])
    assert panel.count('<li class="tutor-source') + panel.count('<li class="tutor-also-item') == top_k
    assert f"Passages to read: {top_k}" in final["status"]


def test_the_chat_api_cannot_ask_for_a_generator_the_page_does_not_offer(client, server):
    with pytest.raises(Exception, match="not in the list of choices"):  # noqa: B017
        client.predict("What is model drift?", 3, "/some/other/model", api_name="/chat")


def test_off_topic_question_is_shown_as_not_covered(client):
    _, final = chat(client, "What is the capital city of France?")
    assert NOT_COVERED in last_reply(final["messages"]) and "tutor-not-covered" in last_reply(final["messages"])
    assert "tutor-source" not in shown_sources(final["sources"])


def test_too_long_question_shows_the_tutors_message_in_the_chat(client):
    question = "why " * 600
    _, final = chat(client, question)
    assert "the limit is 2,000" in last_reply(final["messages"])
    assert final["box"] == question  # kept in the box so that the student can shorten it
    shown = final["messages"][-2]["content"][0]["text"]
    assert shown.startswith("why why") and len(shown) < 400  # and not pasted in full above the message


def test_page_is_titled_after_the_course_and_says_which_version_it_serves(server, tutor):
    with urllib.request.urlopen(server + "config", timeout=10) as response:
        config = json.load(response)
    assert tutor.title in config["title"]
    page = json.dumps(config["components"])
    assert tutor.title in page and "About this tutor" in page and "Course version" in page
    assert str(tutor.index_dir) not in page and "--generator" not in page


def test_example_questions_come_from_the_course_and_are_answered(tutor):
    examples = example_questions(tutor)
    assert 2 <= len(examples) <= 4
    headings = " ".join(c.section for c in tutor.store.chunks)
    for question in examples:
        assert question.removeprefix("What does the course say about ").rstrip("?") in headings
        assert not tutor.ask(question).abstained


def test_a_restart_reads_its_example_questions_instead_of_asking_them_again(tmp_path, corpus_dir, index_dir):
    from tutor import Tutor
    from tutor.ui import cached_example_questions

    shutil.copytree(index_dir, tmp_path / "index")
    tutor = Tutor.load(corpus_dir, tmp_path / "index", generator="extractive", device="cpu")
    first = cached_example_questions(tutor, "v1")
    assert first == example_questions(tutor)

    def no_asking(questions):
        raise AssertionError("asked again")

    tutor.covers = no_asking
    assert cached_example_questions(tutor, "v1") == first
    with pytest.raises(AssertionError, match="asked again"):  # another course version asks anew
        cached_example_questions(tutor, "v2")


# ------------------------------------------------------------------------------- a course of one's own


@pytest.fixture(scope="module")
def numbered_tutor(tmp_path_factory):
    return course_tutor(tmp_path_factory.mktemp("numbered"), NUMBERED)


def test_example_questions_keep_the_numbers_of_numbered_headings(numbered_tutor):
    examples = example_questions(numbered_tutor)
    assert any(re.search(r"\b[12]\. (Gradient Descent|Backpropagation)", q) for q in examples), examples


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
        _, final = chat(client, "What happens when a page shows untrusted text as markup <img src=x onerror=alert(2)>?", 5)
    finally:
        app.close()
    sources = final["sources"]
    assert "<script" not in sources and "<img" not in sources and "onerror=alert(1)>" not in sources
    question = final["messages"][0]["content"][0]["text"]
    assert "&lt;img src=x onerror=alert(2)&gt;" in question and "<img" not in question
    assert "<script" not in last_reply(final["messages"]) and "<img" not in last_reply(final["messages"])


# ------------------------------------------------------------------------------------- serving the course


def test_a_generator_is_loaded_in_the_background_never_inside_a_request(tutor):
    course = ServedCourse(tutor, "extractive")
    started = time.monotonic()
    answering, note = course.tutor("auto")
    assert time.monotonic() - started < 0.5
    assert answering is tutor and "Loading" in note
    assert course.wait_loaded("auto")
    auto, note = course.tutor("auto")
    assert note is None and auto is not tutor and course.tutor("auto")[0] is auto
    assert auto.store is tutor.store  # the same index: nothing was rebuilt
    answering, note = course.tutor("/no/such/model")
    course.wait_loaded("/no/such/model")
    answering, note = course.tutor("/no/such/model")
    assert answering is tutor and "could not be loaded" in note


def test_a_changed_course_is_re_read_and_swapped_in_while_serving(tmp_path, corpus_dir, index_dir):
    from tutor import Tutor

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(corpus_dir, corpus)
    shutil.copytree(index_dir, index)
    tutor = Tutor.load(corpus, index, generator="extractive", device="cpu")
    course = ServedCourse(tutor, "extractive", watch_seconds=0.2)
    course.prepare("auto")
    assert course.wait_loaded("auto")
    before = course.served.version
    question = "What colour is the course mascot?"
    assert tutor.ask(question).abstained
    (corpus / "mascot.md").write_text(
        "# Course Mascot\n\nThe course mascot is a teal octopus named Tensor, which is the colour of the logo.\n",
        encoding="utf-8")
    course.start_watching()
    try:
        deadline = time.monotonic() + 120
        while course.served.version == before and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        course.stop()
    served = course.served
    assert served.version != before
    new, _ = course.tutor("extractive")
    assert "teal octopus" in new.ask(question).text
    assert course.tutor("auto")[0].store is new.store  # every generator moved to the new version together
    assert tutor.ask(question).abstained  # the old tutor, still answering requests in flight, is untouched


# ---------------------------------------------------------------------------------------------- limits


def post(url: str, body: bytes, *, path: str = "gradio_api/queue/join", content_length: int | None = None,
         timeout: float = 10):
    """(status, seconds) of a raw POST; `content_length` may claim more than is sent."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        head = (f"POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {content_length or len(body)}\r\nConnection: close\r\n\r\n").encode()
        try:
            s.sendall(head + body)
        except OSError:
            pass  # refused before the body was read
        reply = s.recv(200).decode("latin-1")
    return int(reply.split(" ")[1]), time.monotonic() - started


def test_oversized_requests_and_uploads_are_refused_from_their_headers(server):
    status, seconds = post(server, b"{}" * 1000, content_length=50_000_000)
    assert status == 413 and seconds < 2
    assert post(server, b"x" * (MAX_BODY_BYTES + 10))[0] == 413
    status, _ = post(server, b"--b\r\n", path="gradio_api/upload")
    assert status == 403


def test_a_body_sent_without_its_length_is_cut_off_at_the_limit(server):
    host, port = server.split("//")[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"POST /gradio_api/queue/join HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Type: application/json\r\nConnection: close\r\n\r\n".encode())
        chunk = b"x" * 16384
        try:
            for _ in range(MAX_BODY_BYTES // len(chunk) + 4):
                s.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        assert s.recv(200).decode("latin-1").split(" ")[1] == "413"


def test_a_normal_question_is_answered_quickly_during_a_flood_of_oversized_posts(server):
    stop = threading.Event()
    refused = []

    def flood():
        while not stop.is_set():
            try:
                refused.append(post(server, b"x" * 4096, content_length=50_000_000)[0])
            except OSError:
                pass

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        client = gradio_client.Client(server, verbose=False)
        started = time.monotonic()
        result = client.predict("What is model drift?", api_name="/ask")
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        for t in threads:
            t.join(5)
    assert result["citations"] and elapsed < 2.0, elapsed
    assert len(refused) > 20 and set(refused) == {413}


def test_one_address_cannot_fill_the_queue():
    def event(host):
        return SimpleNamespace(request=SimpleNamespace(client=SimpleNamespace(host=host)))

    async def accept(body, request, username):
        return True, "event", "success"

    queue = SimpleNamespace(event_ids_to_events={str(i): event("10.0.0.1") for i in range(3)}, push=accept)
    limit_waiting_per_client(SimpleNamespace(_queue=queue), cap=3)
    flooder, other = event("10.0.0.1").request, event("10.0.0.2").request
    ok, message, kind = asyncio.run(queue.push(None, flooder, None))
    assert not ok and kind == "queue_full" and "Too many questions" in message
    assert asyncio.run(queue.push(None, other, None))[0]


def test_failed_sign_ins_from_one_address_wait_longer_each_time(tutor):
    app = build_app(tutor, examples=[])
    url = launch(app, auth=("alice", "s3cret"))

    def sign_in(password: str) -> tuple[int, float]:
        data = f"username=alice&password={password}".encode()
        request = urllib.request.Request(url + "login", data=data, method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        return status, time.monotonic() - started

    try:
        attempts = [sign_in("guess") for _ in range(5)]
        assert [s for s, _ in attempts] == [400] * 5
        assert attempts[0][1] < 0.4 and attempts[3][1] >= 0.45 and attempts[4][1] >= 0.9
        status, _ = sign_in("s3cret")  # the right password still works, after the wait
        assert status == 200
        assert sign_in("guess")[1] < 0.4  # and clears the count
    finally:
        app.close()


def test_login_delay_grows_and_is_capped():
    guard = RequestGuard(None, login_max_delay=4)
    guard._failures["a"] = (2, time.monotonic())
    assert guard.login_delay("a") == 0.5 and guard.login_delay("b") == 0
    guard._failures["a"] = (40, time.monotonic())
    assert guard.login_delay("a") == 4


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


def test_the_chat_starts_on_the_numpy_encoder_and_moves_to_torch_after_serving(corpus_dir, index_dir):
    from tutor import Tutor
    from tutor.embeddings import NumpyMiniLM, TorchMiniLM
    from tutor.ui import _warm_up

    tutor = Tutor.load(corpus_dir, index_dir, generator="extractive", device="cpu", embedding_engine="numpy")
    assert isinstance(tutor.retriever.embedder, NumpyMiniLM)
    before = tutor.ask("What is model drift?")
    _warm_up(tutor, upgrade_encoder=True)
    assert isinstance(tutor.retriever.embedder, TorchMiniLM)
    assert tutor.ask("What is model drift?").text == before.text  # the same vectors, the same answer
