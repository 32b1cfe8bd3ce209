"""The Practice tab as a student on a phone sees it: Debian's Chromium, headless, at a phone's width.

Skips without /usr/bin/chromium (see tests/test_browser.py); the screenshot lands in artifacts/.
"""

from __future__ import annotations

import re
import socket

import pytest

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, WAIT_MS, _require_browser
from tests.test_practice import write_course

pytestmark = [pytest.mark.slow, pytest.mark.browser]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tutor import Tutor
    from tutor.ui import build_app, launch_options

    root = tmp_path_factory.mktemp("bread-browser")
    tutor = Tutor.load(write_course(root / "corpus"), root / "index", generator="extractive", device="cpu")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = build_app(tutor, generator="extractive", examples=[])
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                           **launch_options())
    yield url
    app.close()


@pytest.fixture(scope="module")
def page(server):
    sync_playwright = _require_browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=PHONE)
        page.goto(server)
        page.get_by_role("tab", name="Practice").click(timeout=WAIT_MS)  # the tab beside the chat
        page.locator("#practice-start").wait_for(timeout=WAIT_MS)
        yield page
        browser.close()


def test_a_student_practises_on_a_phone_and_sees_what_to_review(page):
    from playwright.sync_api import expect

    page.locator("#practice-start").scroll_into_view_if_needed()
    page.locator("#practice-start").click()
    question = page.locator("#practice-question")
    question.get_by_text("Question 1 of 10").wait_for(timeout=WAIT_MS)

    page.locator("#practice-answer textarea").fill("I do not know, something about pizza")
    page.locator("#practice-check").click()
    feedback = page.locator("#practice-feedback")
    feedback.locator(".practice-verdict", has_text="Not correct").wait_for(timeout=WAIT_MS)
    assert feedback.locator(".practice-source mark").count() == 1  # the passage, the answer highlighted
    # A running score: an off-topic answer earns little (a question's score is 0–1, by meaning and key
    # terms), and is counted as not correct. The text is read whatever Gradio's re-rendering does to
    # its visibility for a moment.
    expect(page.locator("#practice-score")).to_contain_text(
        re.compile(r"Score: 0\.[0-4] of 1 · 1 not correct"), timeout=WAIT_MS
    )
    for id_ in ("#practice-check", "#practice-show", "#practice-skip", "#practice-next", "#practice-answer"):
        box = page.locator(id_).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, id_  # nothing off the screen
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "practice-phone.png"), full_page=True)

    page.locator("#practice-next").click()
    question.get_by_text("Question 2 of 10").wait_for(timeout=WAIT_MS)
    page.locator("#practice-show").click()
    feedback.locator(".practice-verdict", has_text="Answer shown").wait_for(timeout=WAIT_MS)
    for n in range(2, 11):
        page.locator("#practice-skip").click()
        if n < 10:
            question.get_by_text(f"Question {n + 1} of 10").wait_for(timeout=WAIT_MS)
    question.get_by_text("Sections to review").wait_for(timeout=WAIT_MS)
    assert question.locator("li").count() >= 5
