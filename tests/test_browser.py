"""The chat as a student sees it: Debian's Chromium, headless, driven by Playwright.

Never downloads a browser: without /usr/bin/chromium these tests skip, unless TUTOR_REQUIRE_BROWSER=1 (CI),
where a missing browser is a failure. The screenshot lands in artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WAIT_MS = 30_000

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _require_browser():
    required = os.environ.get("TUTOR_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("TUTOR_REQUIRE_BROWSER=1 but Playwright is not installed (pip install -e '.[test]')")
        pytest.skip("Playwright is not installed")
    if not CHROMIUM.exists():
        if required:
            pytest.fail(f"TUTOR_REQUIRE_BROWSER=1 but {CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    return sync_playwright


@pytest.fixture(scope="module")
def server(tutor):
    from tutor.ui import build_app, launch_options

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = build_app(tutor, generator="extractive")
    _, url, _ = app.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True, **launch_options()
    )
    yield url
    app.close()


@pytest.fixture(scope="module")
def page(server):
    sync_playwright = _require_browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 960})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.dialogs = dialogs
        page.goto(server)
        page.locator("#tutor-question textarea").wait_for(timeout=WAIT_MS)
        yield page
        browser.close()


def ask(page, question: str, *, press_enter: bool = False) -> None:
    box = page.locator("#tutor-question textarea")
    box.fill(question)
    if press_enter:
        box.press("Enter")
    else:
        page.locator("#tutor-ask").click()


def bot_messages(page):
    return page.locator('#tutor-chat [data-testid="bot"]')


def test_a_student_asks_sees_sources_and_follows_up(page, tutor):
    assert tutor.title in page.title()
    assert page.locator("#tutor-header h1").inner_text() == tutor.title
    assert "extractive" in page.locator("#tutor-header").inner_text()

    ask(page, "What is the primary goal in academia?")
    first = bot_messages(page).nth(0)
    first.get_by_text("knowledge creation and understanding").wait_for(timeout=WAIT_MS)
    sources = page.locator("#tutor-sources")
    sources.locator(".tutor-excerpt mark", has_text="The primary goal in academia").wait_for(timeout=WAIT_MS)
    assert "[1]" in first.inner_text()
    assert "Academic Goals" in sources.inner_text()

    ask(page, "And in industry?", press_enter=True)
    second = bot_messages(page).nth(1)
    second.get_by_text("value creation").wait_for(timeout=WAIT_MS)
    sources.get_by_text("Industry Goals").first.wait_for(timeout=WAIT_MS)

    # The whole passage opens on a click.
    sources.locator("details summary").first.click()
    passage = sources.locator("details .tutor-passage").first
    assert passage.is_visible() and "Companies aim to" in passage.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)

    # Clicking the earlier answer brings its sources back.
    first.click()
    sources.locator(".tutor-for", has_text="What is the primary goal in academia?").wait_for(timeout=WAIT_MS)
    assert "Academic Goals" in sources.locator(".tutor-source").first.locator(".tutor-section").inner_text()


def test_markup_typed_by_a_student_is_shown_as_text(page):
    ask(page, "Is <img src=x onerror=alert(1)> covered?")
    page.locator('#tutor-chat [data-testid="user"]').get_by_text("<img src=x onerror=alert(1)>").wait_for(
        timeout=WAIT_MS
    )
    bot_messages(page).last.get_by_text("course material").wait_for(timeout=WAIT_MS)
    assert page.dialogs == []
    assert page.locator("#tutor-chat img[src=x]").count() == 0


def test_an_example_question_is_answered_on_click_and_clear_empties_the_chat(page):
    page.locator("#tutor-clear").click()
    page.locator("#tutor-sources").get_by_text("Ask a question").wait_for(timeout=WAIT_MS)
    assert bot_messages(page).count() == 0
    example = page.get_by_role("button", name="What is Deep Learning?")
    example.click()
    bot_messages(page).first.get_by_text("[1]").wait_for(timeout=WAIT_MS)
    page.locator("#tutor-sources mark").first.wait_for(timeout=WAIT_MS)
