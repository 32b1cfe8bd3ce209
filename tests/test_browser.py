"""The chat as a student sees it: Debian's Chromium, headless, driven by Playwright, at desktop and phone sizes.

Never downloads a browser: without /usr/bin/chromium these tests skip, unless TUTOR_REQUIRE_BROWSER=1 (CI),
where a missing browser is a failure. Screenshots land in artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
WAIT_MS = 30_000

REMOTE_COURSE = """# Account Security

## Resetting a Password

![](http://example.invalid/banner.png)

To reset your password, open the account page and follow [reset your password](http://example.invalid/reset).
The reset link expires after 30 minutes. <img src=http://example.invalid/pixel.png>

## Two-Factor Authentication

Two-factor authentication asks for a code from your phone after the password. **Always keep backup codes.**
"""

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


def serve(tutor):
    from tutor.ui import build_app, launch_options

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = build_app(tutor, generator="extractive")
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                           **launch_options())
    return app, url


@pytest.fixture(scope="module")
def server(tutor):
    app, url = serve(tutor)
    yield url
    app.close()


def open_page(browser, url: str, viewport=DESKTOP, **context):
    """A page in a fresh browser context (its own storage); `page.requests` lists every URL it asked for."""
    ctx = browser.new_context(viewport=viewport, **context)
    page = ctx.new_page()
    page.requests = []
    page.dialogs = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.locator("#tutor-question textarea").wait_for(timeout=WAIT_MS)
    return page


@pytest.fixture()
def page(browser, server):
    page = open_page(browser, server)
    yield page
    page.context.close()


def ask(page, question: str, *, press_enter: bool = False) -> None:
    box = page.locator("#tutor-question textarea")
    box.fill(question)
    if press_enter:
        box.press("Enter")
    else:
        page.locator("#tutor-ask").click()


def answer(page, n: int):
    """The n-th answer (from 0), once it is finished (its text no longer streams)."""
    bot = page.locator(f"#tutor-chat .tutor-answer.tutor-a-{n}")
    bot.wait_for(timeout=WAIT_MS)
    return bot


def cards(page):
    return page.locator("#tutor-sources .tutor-answer-sources:not([hidden]) .tutor-cards > .tutor-source")


def in_view(page, locator) -> bool:
    return page.evaluate(
        """(el) => { const r = el.getBoundingClientRect();
                    return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; }""",
        locator.element_handle(),
    )


# --------------------------------------------------------------------------------------------- desktop


def test_a_student_asks_follows_up_and_follows_a_citation(page, tutor):
    assert tutor.title in page.title()
    assert page.locator("#tutor-header h1").inner_text() == tutor.title
    ask(page, "What is the primary goal in academia?")
    first = answer(page, 0)
    assert "knowledge creation and understanding" in first.inner_text()
    ask(page, "And in industry?", press_enter=True)
    second = answer(page, 1)
    assert "value creation" in second.inner_text()
    assert "tutor-selected" in second.get_attribute("class")  # the newest answer is the selected one
    cards(page).first.locator(".tutor-leaf", has_text="Industry Goals").wait_for(timeout=WAIT_MS)

    # Clicking [1] in the first answer selects it, brings its source card into view and flashes the quote.
    first.locator(".tutor-cite").first.click()
    card = page.locator("#tutor-src-0-1")
    card.wait_for(state="visible", timeout=WAIT_MS)
    assert "tutor-selected" in first.get_attribute("class") and "tutor-selected" not in second.get_attribute("class")
    assert "tutor-flash" in card.get_attribute("class")
    assert "tutor-flash" in card.locator("mark").first.get_attribute("class")
    page.wait_for_timeout(800)  # the smooth scroll
    assert in_view(page, card)
    assert "The primary goal in academia" in card.locator("mark").first.inner_text()
    # Hovering a marker shows the quote.
    assert first.locator(".tutor-cite").first.get_attribute("title").startswith("The primary goal in academia")

    # By keyboard: focus the second answer's marker and press Enter.
    second.locator(".tutor-cite").first.focus()
    page.keyboard.press("Enter")
    page.locator("#tutor-src-1-1").wait_for(state="visible", timeout=WAIT_MS)
    assert "tutor-selected" in second.get_attribute("class")

    # The whole passage opens on a click.
    whole = page.locator("#tutor-src-1-1 details.tutor-whole")
    whole.locator("summary").click()
    assert "Companies aim to" in whole.locator(".tutor-passage").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "chat-desktop.png"))


def test_a_question_with_a_slip_says_how_it_was_read(page):
    ask(page, "What is modle drift?")
    shown = answer(page, 0)
    text = shown.inner_text()
    assert "Answered as: What is model drift?" in text and "Performance degrades" in text


def test_the_panel_holds_exactly_the_cited_passages(page, tutor):
    question = "How do academia and industry differ in risk tolerance?"
    ask(page, question)
    answer(page, 0)
    expected = tutor.ask(question).citations
    cards(page).first.wait_for(timeout=WAIT_MS)
    assert cards(page).count() == len(expected)
    leaves = [c.locator(".tutor-leaf").inner_text() for c in cards(page).all()]
    assert leaves == [c.section.split(" › ")[-1] for c in expected]
    for card, citation in zip(cards(page).all(), expected):
        assert " ".join(citation.quote.split()) in " ".join(card.locator("mark").first.inner_text().split())
        assert 0 <= int(card.locator("meter").get_attribute("value")) <= 100


def test_the_trash_icon_and_clear_chat_leave_no_stale_sources(page):
    for clear in ('#tutor-chat button[aria-label="Clear"]', "#tutor-clear"):
        ask(page, "What is model drift?")
        answer(page, 0)
        cards(page).first.wait_for(timeout=WAIT_MS)
        page.locator(clear).click()
        page.locator("#tutor-sources").get_by_text("Ask a question").wait_for(timeout=WAIT_MS)
        assert page.locator("#tutor-chat .tutor-answer").count() == 0
        assert page.locator("#tutor-sources .tutor-source").count() == 0
    page.reload()  # and nothing comes back from the browser's storage
    page.locator("#tutor-question textarea").wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1500)
    assert page.locator("#tutor-chat .tutor-answer").count() == 0


def test_an_empty_question_is_refused_in_the_box(page):
    ask_button = page.locator("#tutor-ask")
    page.wait_for_function("document.querySelector('#tutor-ask').disabled", timeout=WAIT_MS)
    box = page.locator("#tutor-question textarea")
    box.fill("   ")
    page.wait_for_timeout(400)
    assert ask_button.is_disabled()
    box.press("Enter")
    page.wait_for_timeout(1500)
    assert page.locator('#tutor-chat [data-testid="user"]').count() == 0
    box.fill("What is model drift?")
    page.wait_for_function("!document.querySelector('#tutor-ask').disabled", timeout=WAIT_MS)


def test_the_status_follows_the_passages_setting(page):
    assert "Passages to read: 3" in page.locator("#tutor-status").inner_text()
    page.get_by_text("Settings").click()
    slider = page.locator("#tutor-top-k input[type=range]")
    slider.focus()
    for _ in range(3):  # as a student moves it: by key, which fires the input and change events every time
        slider.press("ArrowRight")
    page.locator("#tutor-status", has_text="Passages to read: 6").wait_for(timeout=WAIT_MS)
    about = page.locator(".tutor-about")
    about.locator("summary").click()
    assert "Course version" in about.inner_text() and "/" not in about.inner_text()


def test_the_conversation_survives_a_reload(page):
    ask(page, "What is model drift?")
    answer(page, 0)
    page.reload()
    page.locator("#tutor-question textarea").wait_for(timeout=WAIT_MS)
    restored = answer(page, 0)
    assert "Model Drift" in restored.inner_text()
    cards(page).first.wait_for(timeout=WAIT_MS)
    ask(page, "What is the primary goal in academia?")
    answer(page, 1)


def test_export_gives_markdown_with_the_quotes_as_footnotes(page, tmp_path):
    ask(page, "What is model drift?")
    answer(page, 0)
    with page.expect_download(timeout=WAIT_MS) as download:
        page.locator("#tutor-export").click()
    path = tmp_path / "conversation.md"
    download.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert "**Question:** What is model drift?" in text
    assert "[^1]" in text and "\n[^1]: “" in text and "Industry Challenges" in text


def test_copy_with_sources_puts_the_footnotes_on_the_clipboard(browser, server):
    page = open_page(browser, server, permissions=["clipboard-read", "clipboard-write"])
    try:
        ask(page, "What is model drift?")
        answer(page, 0).locator(".tutor-copy").click()
        page.locator(".tutor-copy", has_text="Copied").wait_for(timeout=WAIT_MS)
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("Model Drift") and "\n\nSources:\n[1] “" in copied and "<" not in copied
    finally:
        page.context.close()


def test_markup_typed_by_a_student_is_shown_as_text(page):
    ask(page, "Is <img src=x onerror=alert(1)> covered?")
    page.locator('#tutor-chat [data-testid="user"]').get_by_text("<img src=x onerror=alert(1)>").wait_for(
        timeout=WAIT_MS
    )
    answer(page, 0)
    assert page.dialogs == []
    assert page.locator("#tutor-chat img[src=x]").count() == 0


def test_an_example_question_is_answered_on_click(page):
    example = page.get_by_role("button", name="What is Deep Learning?")
    example.click()
    answer(page, 0).locator(".tutor-cite").first.wait_for(timeout=WAIT_MS)
    cards(page).first.locator("mark").first.wait_for(timeout=WAIT_MS)


# ----------------------------------------------------------------------------------------------- phone


def test_on_a_phone_the_sources_open_under_their_answer(browser, server):
    page = open_page(browser, server, viewport=PHONE)
    try:
        assert not page.locator("#tutor-sources").is_visible()
        ask(page, "What is the primary goal in academia?")
        first = answer(page, 0)
        fold = first.locator("details.tutor-inline-sources")
        assert fold.is_visible() and not fold.evaluate("el => el.open")
        first.locator(".tutor-cite").first.click()
        card = fold.locator(".tutor-source.tutor-n-1")
        card.wait_for(state="visible", timeout=WAIT_MS)
        assert "tutor-flash" in card.get_attribute("class")
        box = card.bounding_box()
        assert box["y"] > first.locator("p").first.bounding_box()["y"]  # under the answer, not at the page's end
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # long heading paths fit the screen
        chat = page.locator("#tutor-chat").bounding_box()
        assert chat["height"] <= PHONE["height"]  # the chat fits the viewport
        page.wait_for_timeout(800)
        box = card.bounding_box()  # and the card is scrolled into the chat's view
        assert chat["y"] <= box["y"] < chat["y"] + chat["height"] and in_view(page, card.locator(".tutor-rank"))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "chat-phone.png"))
    finally:
        page.context.close()


# ------------------------------------------------------------------------------------- nothing remote


@pytest.fixture(scope="module")
def remote_server(tmp_path_factory):
    from tutor import Tutor

    root = tmp_path_factory.mktemp("remote")
    (root / "corpus").mkdir()
    (root / "corpus" / "security.md").write_text(REMOTE_COURSE, encoding="utf-8")
    tutor = Tutor.load(root / "corpus", root / "index", generator="extractive", device="cpu", top_k=3)
    app, url = serve(tutor)
    yield url
    app.close()


def test_no_request_leaves_the_machine_while_answering_a_course_with_remote_links(browser, remote_server):
    page = open_page(browser, remote_server)
    try:
        ask(page, "How do I reset my password?")
        first = answer(page, 0)
        cards(page).first.wait_for(timeout=WAIT_MS)
        for summary in page.locator("#tutor-sources details summary").all():  # every fold open
            summary.click()
        first.locator(".tutor-cite").first.click()
        page.wait_for_timeout(1500)
        off = [u for u in page.requests if urlparse(u).scheme not in ("data", "blob")
               and urlparse(u).hostname not in ("127.0.0.1", "localhost")]
        assert off == []
        for where in ("#tutor-chat", "#tutor-sources"):
            assert page.locator(f"{where} img").count() == 0
            assert page.locator(f'{where} a[href^="http"]').count() == 0
        assert "reset your password" in page.locator("#tutor-sources").inner_text()
        assert "example.invalid" not in page.content()
    finally:
        page.context.close()
