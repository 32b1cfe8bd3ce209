"""The Practice tab as a program and a student see it: a real Gradio server on loopback, driven through
gradio_client (the /practice_item and /grade endpoints) and through the tab's own handlers."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")

from tests.test_practice import write_course  # noqa: E402
from tutor.ui import build_app  # noqa: E402
from tutor.ui_practice import render_feedback, render_question, render_summary, start_quiz  # noqa: E402

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def bread(tmp_path_factory):
    from tutor import Tutor

    root = tmp_path_factory.mktemp("bread-ui")
    return Tutor.load(write_course(root / "corpus"), root / "index", generator="extractive", device="cpu")


@pytest.fixture(scope="module")
def client(bread):
    app = build_app(bread, generator="extractive", examples=[])
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True)
    yield gradio_client.Client(url, verbose=False)
    app.close()


def test_practice_item_endpoint_hands_out_new_questions_with_citations(client):
    first = client.predict("", 3, [], api_name="/practice_item")
    assert first["error"] is None and first["kind"] in ("definition", "comparison", "list", "cloze", "order")
    assert first["citation"]["quote"] in first["citation"]["text"]
    second = client.predict("", 3, [first["id"]], api_name="/practice_item")
    assert second["id"] != first["id"]


def test_practice_item_endpoint_reports_an_unknown_section(client):
    result = client.predict("Quantum chromodynamics", None, [], api_name="/practice_item")
    assert "No section matches" in result["error"]


def test_grade_endpoint_grades_by_the_course(client):
    item = client.predict("Baking Procedure", 1, [], api_name="/practice_item")
    assert item["kind"] == "order"
    right = client.predict(item, item["accept"][0], api_name="/grade")
    wrong = client.predict(item, "Paint the kitchen walls blue", api_name="/grade")
    assert right["verdict"] == "correct" and right["error"] is None
    assert wrong["verdict"] == "incorrect" and wrong["citation"]["quote"] in wrong["citation"]["text"]
    assert "error" in client.predict({"kind": "nonsense"}, "x", api_name="/grade")


def test_a_quiz_runs_from_start_to_the_sections_to_review(bread):
    state = start_quiz(bread, None, "All sections", 3)
    assert len(state["items"]) == 3
    assert "Question 1 of 3" in render_question(state)
    state["results"] = [{"id": i["id"], "verdict": v, "score": s, "section": i["citation"]["section"]}
                        for i, v, s in zip(state["items"], ("correct", "partly", "incorrect"), (1, 0.5, 0))]
    state["at"] = 3
    summary = render_summary(state)
    assert "1.5 of 3" in summary and "Sections to review" in summary
    assert state["items"][1]["citation"]["section"] in summary
    again = start_quiz(bread, state, "All sections", 3)
    assert not {i["id"] for i in again["items"]} & {i["id"] for i in state["items"]}  # no repeats in a session


def test_course_text_and_answers_are_escaped():
    item = {"kind": "cloze", "question": "<script>alert(1)</script> ____", "answer": "<b>x</b>",
            "citation": {"section": "<i>s</i>", "text": "a <img src=x onerror=alert(1)> b", "quote": "<img src=x onerror=alert(1)>"}}
    shown = render_feedback(item, {"verdict": "incorrect", "score": 0, "feedback": "<u>no</u>"})
    assert "<img" not in shown and "<u>" not in shown and "<b>x" not in shown and "<i>s" not in shown
    assert "<mark>&lt;img" in shown
    state = {"items": [item], "at": 0, "results": []}
    assert "<script>" not in render_question(state)
