"""A course library in one chat: the picker, per-session courses, and a teacher's uploads and removals.

Real parts throughout: two small courses written here, their FAISS indexes on disk, a real Gradio server,
`gradio_client` and plain HTTP for what a student's or a teacher's program can send, and Debian's Chromium
(skipped without it, see tests/test_browser.py) for what a teacher does in the page.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from tutor.errors import TutorError

ASTRONOMY = """# Stars

## Red Giants

A red giant is a dying star that has used up the hydrogen in its core and swollen to many times its former size.

## Neutron Stars

A neutron star is the collapsed core of a massive star, packed almost entirely with neutrons.
"""

BOTANY = """# Plant Biology

## Photosynthesis

Photosynthesis is the process by which green plants turn sunlight, water and carbon dioxide into glucose and
oxygen inside their chloroplasts.

## Roots

Roots anchor a plant in the soil and draw up water and minerals.
"""

MITOSIS = """# Cell Division

## Mitosis

Mitosis is the division of one cell nucleus into two identical nuclei, each holding the same chromosomes as
the parent cell.
"""

MITOSIS_Q = "What is mitosis?"
OPEN_MS = 120_000  # opening or re-indexing a course, which loads the sentence model, on a busy machine


def write_library(root: Path) -> Path:
    """Two courses: one titled by its course.toml, one by its only document; and two folders that are not courses."""
    (root / "astro").mkdir(parents=True)
    (root / "astro" / "course.toml").write_text('title = "Introduction to Astronomy"\n', encoding="utf-8")
    (root / "astro" / "stars.md").write_text(ASTRONOMY, encoding="utf-8")
    (root / "botany").mkdir()
    (root / "botany" / "plants.md").write_text(BOTANY, encoding="utf-8")
    (root / "empty").mkdir()  # no documents: not a course
    (root / ".hidden").mkdir()
    (root / ".hidden" / "notes.md").write_text(BOTANY, encoding="utf-8")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(root: Path, teachers, auth=None, max_upload: int = 64 * 1024, watch_seconds: float = 2.0):
    from tutor.library import find_courses
    from tutor.ui import build_app, launch_options
    from tutor.ui_library import ServedLibrary, upload_gate

    library = ServedLibrary(find_courses(root), "extractive", device="cpu", max_upload=max_upload, library_dir=root,
                            watch_seconds=watch_seconds)
    app = build_app(library=library, generator="extractive", teachers=teachers)
    gate = upload_gate(app, teachers) if teachers.uploads_on else None
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True,
                           auth=auth, **launch_options(gate, max_upload))
    library.start()
    return app, url


# ------------------------------------------------------------------------------------------ the library


def test_find_courses_takes_each_folder_with_documents_and_indexes_it_beside_the_courses(tmp_path):
    from tutor.library import find_courses

    root = write_library(tmp_path / "courses")
    courses = find_courses(root)
    assert [c.name for c in courses] == ["astro", "botany"]
    assert courses[1].folder == root / "botany"
    assert courses[1].index_dir == root / ".tutor-indexes" / "botany"
    assert [c.index_dir for c in find_courses(root, tmp_path / "idx")] == [tmp_path / "idx" / "astro",
                                                                            tmp_path / "idx" / "botany"]


def test_find_courses_refuses_an_index_inside_a_course_and_a_library_without_courses(tmp_path):
    from tutor.library import find_courses

    root = write_library(tmp_path / "courses")
    with pytest.raises(TutorError, match="course folder"):
        find_courses(root, root)  # courses/astro would be its own index
    (tmp_path / "bare" / "empty").mkdir(parents=True)
    with pytest.raises(TutorError, match="holds no course folders"):
        find_courses(tmp_path / "bare")
    with pytest.raises(TutorError, match="not found"):
        find_courses(tmp_path / "missing")


@pytest.mark.parametrize("name, why", [
    ("../../outside.md", "not a plain file name"),
    ("..\\outside.md", "not a plain file name"),
    ("/etc/passwd.md", "not a plain file name"),
    ("..", "not a plain file name"),
    (".bashrc.md", "starts with a dot"),
    ("notes\x1b[31m.md", "control characters"),
    ("virus.exe", "not a course document"),
    ("notes.md.sh", "not a course document"),
    ("x" * 200 + ".md", "the limit is 150"),
    ("", "no name"),
])
def test_a_bad_file_name_is_refused_with_the_reason(name, why):
    from tutor.library import check_file_name

    with pytest.raises(TutorError, match=why):
        check_file_name(name)


def test_add_document_saves_inside_the_course_and_refuses_bad_files_untouched(tmp_path):
    from tutor.library import add_document, course_documents

    course = write_library(tmp_path / "courses") / "botany"
    upload = tmp_path / "upload"
    upload.write_text(MITOSIS, encoding="utf-8")
    assert add_document(course, "mitosis.md", upload) == ("mitosis.md", False)
    assert (course / "mitosis.md").read_text(encoding="utf-8") == MITOSIS
    assert add_document(course, "mitosis.md", upload) == ("mitosis.md", True)

    with pytest.raises(TutorError, match="too large"):
        add_document(course, "big.md", upload, max_bytes=10)
    upload.write_bytes(b"")
    with pytest.raises(TutorError, match="empty"):
        add_document(course, "empty.md", upload)
    upload.write_bytes(b"%PDF-1.4 this is not really a PDF")
    with pytest.raises(TutorError, match="broken.pdf"):
        add_document(course, "broken.pdf", upload)
    with pytest.raises(TutorError, match="not a plain file name"):
        add_document(course, "../astro/stolen.md", upload)
    assert course_documents(course) == ["mitosis.md", "plants.md"]
    assert sorted(p.name for p in course.iterdir()) == ["mitosis.md", "plants.md"]  # no staged leftovers
    assert not (course.parent / "astro" / "stolen.md").exists()


def test_an_upload_replaces_a_link_of_its_name_and_never_writes_through_it(tmp_path):
    from tutor.library import add_document

    course = write_library(tmp_path / "courses") / "botany"
    outside = tmp_path / "outside.md"
    outside.write_text("# Keep me\n\nUntouched.\n", encoding="utf-8")
    (course / "notes.md").symlink_to(outside)
    upload = tmp_path / "upload"
    upload.write_text(MITOSIS, encoding="utf-8")
    add_document(course, "notes.md", upload)
    assert outside.read_text(encoding="utf-8") == "# Keep me\n\nUntouched.\n"
    assert not (course / "notes.md").is_symlink()


def test_remove_document_takes_only_a_listed_document_and_keeps_a_copy(tmp_path):
    from tutor.library import REMOVED_FOLDER, course_documents, remove_document

    course = write_library(tmp_path / "courses") / "botany"
    (course / "mitosis.md").write_text(MITOSIS, encoding="utf-8")
    with pytest.raises(TutorError, match="not a document of this course"):
        remove_document(course, "../astro/stars.md")
    with pytest.raises(TutorError, match="not a document of this course"):
        remove_document(course, "course.toml")
    assert remove_document(course, "mitosis.md") == "mitosis.md"
    assert course_documents(course) == ["plants.md"]
    assert [p.read_text(encoding="utf-8") for p in (course / REMOVED_FOLDER).iterdir()] == [MITOSIS]
    with pytest.raises(TutorError, match="only document"):
        remove_document(course, "plants.md")
    assert (tmp_path / "courses" / "astro" / "stars.md").exists()


@pytest.mark.parametrize("host, teacher, students, share, local_user, teacher_user, student_user", [
    ("127.0.0.1", None, False, False, True, False, False),   # at this computer, no sign-in: you are the teacher
    ("127.0.0.1", None, True, False, False, False, False),   # sign-in for students, no teacher account: nobody
    ("127.0.0.1", None, False, True, False, False, False),   # a share link reaches the internet: nobody
    ("0.0.0.0", None, False, False, False, False, False),    # open to the network: nobody
    ("0.0.0.0", "teach", True, False, False, True, False),   # only the teacher's account
])
def test_who_may_change_course_documents(host, teacher, students, share, local_user, teacher_user, student_user):
    from tutor.ui_library import Teachers

    teachers = Teachers.for_server(host, teacher=teacher, students=students, share=share)
    assert teachers.allows(None, "127.0.0.1") is local_user
    assert teachers.allows("teach", "10.0.0.5") is teacher_user
    assert teachers.allows("student", "127.0.0.1") is student_user
    assert teachers.allows(None, "10.0.0.5") is False


@pytest.mark.parametrize("title, folder", [
    ("Cell Biology 2", "cell-biology-2"),
    ("  Écologie   générale ", "ecologie-generale"),
    ("C++ & Rust: systems", "c-rust-systems"),
])
def test_a_new_course_is_named_after_its_title_in_letters_digits_and_dashes(title, folder):
    from tutor.library import check_course_title, course_folder_name

    assert course_folder_name(check_course_title(title)) == folder


@pytest.mark.parametrize("title, why", [
    ("../outside", "not a course name"),
    ("..", "not a course name"),
    ("a\\b", "not a course name"),
    (".hidden", "not a course name"),
    ("bio\x1b[31m", "control characters"),
    ("x" * 101, "the limit is 100"),
    ("", "Type the new course"),
    (None, "Type the new course"),
    ("???", "no letters or digits"),
])
def test_a_bad_course_name_is_refused_with_the_reason(title, why):
    from tutor.library import check_course_title, course_folder_name

    with pytest.raises(TutorError, match=why):
        course_folder_name(check_course_title(title))


def test_create_course_makes_the_folder_whole_or_not_at_all(tmp_path):
    from tutor.library import configured_title, create_course, scan_courses

    root = write_library(tmp_path / "courses")
    upload = tmp_path / "upload"
    upload.write_text(MITOSIS, encoding="utf-8")
    title = 'Cells "and" genes: #1 ✓'
    assert create_course(root, title, "cells.md", upload) == "cells-and-genes-1"
    assert configured_title(root / "cells-and-genes-1") == title
    assert [c.name for c in scan_courses(root)] == ["astro", "botany", "cells-and-genes-1"]
    with pytest.raises(TutorError, match="already has a folder named “botany”"):
        create_course(root, "Botany", "cells.md", upload)
    with pytest.raises(TutorError, match="already has a folder named “empty”"):
        create_course(root, "Empty", "cells.md", upload)  # a folder that is not a course is not replaced
    (tmp_path / "blank.md").write_text("", encoding="utf-8")
    with pytest.raises(TutorError, match="empty"):
        create_course(root, "Genetics", "blank.md", tmp_path / "blank.md")
    with pytest.raises(TutorError, match="not a course document"):
        create_course(root, "Genetics", "run.exe", upload)
    assert sorted(p.name for p in root.iterdir()) == [".hidden", "astro", "botany", "cells-and-genes-1", "empty"]


# ------------------------------------------------------------------------------ a server with sign-in


STUDENT = ("student", "apple-pie-7")
TEACHER = ("teach", "chalk-board-9")


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory):
    """A library served with a student and a teacher account."""
    from tutor.ui_library import Teachers

    root = write_library(tmp_path_factory.mktemp("signed-in") / "courses")
    app, url = launch(root, Teachers(user=TEACHER[0]), auth=[STUDENT, TEACHER])
    yield root, url
    app.tutor_library.stop()
    app.close()


def client(url, account):
    from gradio_client import Client

    return Client(url, auth=account, verbose=False)


def test_the_api_lists_both_courses_and_answers_from_the_one_named(signed_in):
    _, url = signed_in
    student = client(url, STUDENT)
    titles = {c["course"]: c["title"] for c in student.predict(api_name="/courses")}
    assert titles["astro"] == "Introduction to Astronomy"
    assert set(titles) == {"astro", "botany"}
    star = student.predict("What is a red giant?", "astro", api_name="/ask")
    assert "dying star" in star["answer"] and star["citations"][0]["source"] == "astro/stars.md"
    same_in_botany = student.predict("What is a red giant?", "botany", api_name="/ask")
    assert same_in_botany["abstained"] and "dying star" not in same_in_botany["answer"]
    assert "no course" in student.predict("What is a red giant?", "../astro", api_name="/ask")["error"]
    assert {c["title"] for c in student.predict(api_name="/courses")} == {"Introduction to Astronomy",
                                                                          "Plant Biology"}


def test_the_api_quizzes_on_the_course_named_and_grades_the_answer(signed_in):
    _, url = signed_in
    student = client(url, STUDENT)
    for course, source in (("astro", "astro/stars.md"), ("botany", "botany/plants.md")):
        asked, items = set(), []
        for seed in range(6):  # until the course has no question left that was not asked
            item = student.predict("", seed, sorted(asked), course, api_name="/practice_item")
            if item["error"]:
                assert "has been asked" in item["error"] and items
                break
            assert item["citation"]["source"] == source and item["id"] not in asked, item
            asked.add(item["id"])
            items.append(item)
        item = items[-1]
        graded = student.predict(item, item["answer"], api_name="/grade")
        assert graded.get("verdict") == "correct" and graded["citation"]["source"] == source, graded
    assert "no course" in student.predict("", 0, [], "../astro", api_name="/practice_item")["error"]


def _signed_in_http(url: str, account):
    import httpx

    http = httpx.Client(base_url=url, timeout=30)
    assert http.post("/login", data={"username": account[0], "password": account[1]}).status_code == 200
    return http


def test_a_student_cannot_upload_or_remove_a_document(signed_in):
    root, url = signed_in
    http = _signed_in_http(url, STUDENT)
    refused = http.post("/gradio_api/upload", files={"files": ("mitosis.md", MITOSIS.encode(), "text/markdown")})
    assert refused.status_code == 403 and "Only the teacher" in refused.json()["error"]
    said = client(url, STUDENT).predict("plants.md", "botany", 3, "extractive", api_name="/remove_document")[0]
    assert "Only the teacher may change" in said
    assert (root / "botany" / "plants.md").exists()
    assert not (root / "botany" / "mitosis.md").exists()


def test_the_teacher_is_refused_a_bad_type_or_a_file_too_large_with_a_message(signed_in, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    root, url = signed_in
    http = _signed_in_http(url, TEACHER)
    big = http.post("/gradio_api/upload", files={"files": ("big.md", b"x" * (200 * 1024), "text/markdown")})
    assert big.status_code == 413 and "too large" in big.json()["error"]
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ not a document")
    # The upload component's own check, on the server, before the handler's (which says the same, see above).
    with pytest.raises(AppError, match=r"Invalid file type.*'\.md'"):
        client(url, TEACHER).predict(handle_file(str(program)), "botany", 3, "extractive", api_name="/add_document")
    assert sorted(p.name for p in (root / "botany").iterdir()) == ["plants.md"]


def test_the_teacher_adds_and_removes_a_document_over_the_api(signed_in, tmp_path):
    from gradio_client import handle_file

    _, url = signed_in
    teacher, student = client(url, TEACHER), client(url, STUDENT)
    assert student.predict(MITOSIS_Q, "botany", api_name="/ask")["abstained"]
    upload = tmp_path / "cells.md"
    upload.write_text(MITOSIS, encoding="utf-8")
    said = teacher.predict(handle_file(str(upload)), "botany", 3, "extractive", api_name="/add_document")[0]
    assert "Added “cells.md”" in said and "2 documents" in said
    answer = student.predict(MITOSIS_Q, "botany", api_name="/ask")
    assert not answer["abstained"] and "two identical nuclei" in answer["answer"]
    assert answer["citations"][0]["source"] == "botany/cells.md"
    assert student.predict(MITOSIS_Q, "astro", api_name="/ask")["abstained"]  # the other course is unchanged
    said = teacher.predict("cells.md", "botany", 3, "extractive", api_name="/remove_document")[0]
    assert "Removed “cells.md”" in said
    assert student.predict(MITOSIS_Q, "botany", api_name="/ask")["abstained"]


GEOLOGY = """# Rocks

## Basalt

Basalt is a dark volcanic rock formed from lava that cooled quickly near the surface of the Earth.
"""


def courses_now(url, account) -> dict:
    return {c["course"]: c["title"] for c in client(url, account).predict(api_name="/courses")}


def wait_for(condition, seconds: float = OPEN_MS / 1000):
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def test_a_course_folder_made_while_the_chat_runs_joins_the_library_and_one_removed_leaves_it(signed_in):
    import shutil

    root, url = signed_in
    student = client(url, STUDENT)
    (root / "geology").mkdir()
    (root / "geology" / "rocks.md").write_text(GEOLOGY, encoding="utf-8")
    try:
        wait_for(lambda: "geology" in courses_now(url, STUDENT))
        answer = student.predict("What is basalt?", "geology", api_name="/ask")
        assert "dark volcanic rock" in answer["answer"] and answer["citations"][0]["source"] == "geology/rocks.md"
        assert courses_now(url, STUDENT)["geology"] == "Rocks"
    finally:
        shutil.rmtree(root / "geology")
    wait_for(lambda: "geology" not in courses_now(url, STUDENT))
    said = student.predict("What is basalt?", "geology", api_name="/ask")
    assert "“Rocks” is no longer in the library" in said["error"] and "pick another course" in said["error"]
    assert "dying star" in student.predict("What is a red giant?", "astro", api_name="/ask")["answer"]


def test_the_teacher_creates_a_course_with_its_first_document_and_students_can_ask_it(signed_in, tmp_path):
    import shutil

    from gradio_client import handle_file

    from tutor.library import configured_title

    root, url = signed_in
    teacher, student = client(url, TEACHER), client(url, STUDENT)
    upload = tmp_path / "cells.md"
    upload.write_text(MITOSIS, encoding="utf-8")
    try:
        said = teacher.predict("Cell Biology", handle_file(str(upload)), 3, "extractive", api_name="/create_course")
        assert "Created the course “Cell Biology” (folder “cell-biology”)" in said[0], said[0]
        assert sorted(p.name for p in (root / "cell-biology").iterdir()) == ["cells.md", "course.toml"]
        assert configured_title(root / "cell-biology") == "Cell Biology"
        assert courses_now(url, STUDENT)["cell-biology"] == "Cell Biology"
        answer = student.predict(MITOSIS_Q, "cell-biology", api_name="/ask")
        assert "two identical nuclei" in answer["answer"] and answer["citations"][0]["source"] == "cell-biology/cells.md"
        again = teacher.predict("cell  biology", handle_file(str(upload)), 3, "extractive", api_name="/create_course")
        assert "already has a folder named “cell-biology”" in again[0]
    finally:
        shutil.rmtree(root / "cell-biology", ignore_errors=True)
    assert not [p for p in root.iterdir() if p.name.startswith(".new-course")]


@pytest.mark.parametrize("title, says", [
    ("../astro", "not a course name"),
    ("a/b", "not a course name"),
    (".secret", "not a course name"),
    ("!!!", "no letters or digits"),
    ("", "Type the new course"),
])
def test_the_teacher_is_refused_a_bad_course_name_and_nothing_is_made(signed_in, tmp_path, title, says):
    from gradio_client import handle_file

    root, url = signed_in
    before = sorted(p.name for p in root.iterdir())
    upload = tmp_path / "cells.md"
    upload.write_text(MITOSIS, encoding="utf-8")
    said = client(url, TEACHER).predict(title, handle_file(str(upload)), 3, "extractive",
                                        api_name="/create_course")[0]
    assert says in said
    assert sorted(p.name for p in root.iterdir()) == before


def test_a_student_cannot_create_a_course(signed_in):
    root, url = signed_in
    said = client(url, STUDENT).predict("Genetics", None, 3, "extractive", api_name="/create_course")[0]
    assert "Only the teacher may change" in said
    assert not (root / "genetics").exists() and "genetics" not in courses_now(url, STUDENT)


# ------------------------------------------------------------------------------------- in the browser


@pytest.fixture(scope="module")
def local_server(tmp_path_factory):
    """A library served on this computer without sign-in: the person at it is the teacher."""
    from tutor.ui_library import Teachers

    root = write_library(tmp_path_factory.mktemp("local") / "courses")
    app, url = launch(root, Teachers(local=True))
    yield root, url
    app.tutor_library.stop()
    app.close()


def pick(page, title: str) -> None:
    from playwright.sync_api import expect

    page.locator("#tutor-course input").click()
    page.get_by_role("option", name=title).click()
    expect(page.locator("#tutor-header h1")).to_contain_text(title, timeout=OPEN_MS)
    # The status line says so while the course opens in the background; it follows the course once open.
    expect(page.locator("#tutor-status")).not_to_contain_text("Opening this course", timeout=OPEN_MS)


def asked(page, question: str, n: int):
    from tests.test_browser import WAIT_MS, answer, ask

    ask(page, question)
    bot = answer(page, n)
    bot.wait_for(timeout=WAIT_MS)
    return bot


@pytest.mark.slow
@pytest.mark.browser
def test_in_the_browser_a_teacher_picks_a_course_uploads_a_document_and_removes_it(local_server, browser):
    from playwright.sync_api import expect

    from tests.test_browser import SCREENSHOTS, WAIT_MS, open_page

    root, url = local_server
    page = open_page(browser, url)
    page.locator("#tutor-course input").click()
    options = page.get_by_role("option")
    expect(options).to_have_count(2, timeout=WAIT_MS)
    expect(page.get_by_role("option", name="Introduction to Astronomy")).to_be_visible()
    # The picker names a course by its document's title once the course is open (in the background; slow on a
    # busy machine), by its folder name until then.
    expect(page.get_by_role("option", name="Plant Biology")).to_be_visible(timeout=OPEN_MS)
    page.get_by_role("option", name="Introduction to Astronomy").click()
    expect(page.locator("#tutor-header h1")).to_have_text("Introduction to Astronomy", timeout=WAIT_MS)
    expect(asked(page, "What is a neutron star?", 0)).to_contain_text("collapsed core", timeout=WAIT_MS)

    pick(page, "Plant Biology")
    expect(page.locator("#tutor-header h1")).to_have_text("Plant Biology", timeout=WAIT_MS)
    expect(asked(page, MITOSIS_Q, 0)).to_contain_text("does not cover", timeout=WAIT_MS)

    page.locator("#tutor-teacher").get_by_text("Course documents (teacher)").click()
    upload = page.locator("#tutor-upload input[type=file]")
    upload.set_input_files({"name": "setup.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"})
    expect(page.get_by_text("Invalid file type: setup.exe")).to_be_visible(timeout=WAIT_MS)
    upload.set_input_files({"name": "big.md", "mimeType": "text/markdown", "buffer": b"word " * 20_000})
    expect(page.get_by_text("exceed the maximum allowed size")).to_be_visible(timeout=WAIT_MS)
    assert sorted(p.name for p in (root / "botany").iterdir()) == ["plants.md"]

    upload.set_input_files({"name": "cells.md", "mimeType": "text/markdown", "buffer": MITOSIS.encode()})
    message = page.locator("#tutor-teacher-message")
    expect(message).to_contain_text("Added “cells.md”", timeout=OPEN_MS)
    assert (root / "botany" / "cells.md").read_text(encoding="utf-8") == MITOSIS
    expect(asked(page, MITOSIS_Q, 1)).to_contain_text("two identical nuclei", timeout=WAIT_MS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "library-teacher.png"), full_page=True)

    upload.set_input_files(
        {"name": "../../escape.html", "mimeType": "text/html", "buffer": b"<h1>Escape</h1><p>Outside.</p>"})
    expect(message).to_contain_text("escape.html", timeout=OPEN_MS)
    assert not (root / "escape.html").exists() and not (root.parent / "escape.html").exists()

    page.locator("#tutor-documents input").click()
    page.get_by_role("option", name="cells.md").click()
    page.locator("#tutor-remove").click()
    expect(message).to_contain_text("Removed “cells.md”", timeout=OPEN_MS)
    expect(asked(page, MITOSIS_Q, 2)).to_contain_text("does not cover", timeout=WAIT_MS)
    page.context.close()


@pytest.mark.slow
@pytest.mark.browser
def test_in_the_browser_each_session_keeps_its_own_course(local_server, browser):
    from playwright.sync_api import expect

    from tests.test_browser import WAIT_MS, open_page

    _, url = local_server
    astronomy, botany = open_page(browser, url), open_page(browser, url)
    pick(astronomy, "Introduction to Astronomy")
    pick(botany, "Plant Biology")
    expect(botany.locator("#tutor-header h1")).to_contain_text("Plant Biology", timeout=WAIT_MS)
    expect(asked(astronomy, "What is a red giant?", 0)).to_contain_text("dying star", timeout=WAIT_MS)
    expect(asked(botany, "What is a red giant?", 0)).to_contain_text("does not cover", timeout=WAIT_MS)
    expect(asked(botany, "What do roots do?", 1)).to_contain_text("anchor", timeout=WAIT_MS)
    for page in (astronomy, botany):
        page.context.close()


@pytest.mark.slow
@pytest.mark.browser
def test_in_the_browser_practice_quizzes_on_the_picked_course_and_starts_afresh_on_another(local_server, browser):
    from playwright.sync_api import expect

    from tests.test_browser import SCREENSHOTS, WAIT_MS, open_page

    _, url = local_server
    page = open_page(browser, url)
    pick(page, "Plant Biology")
    page.get_by_role("tab", name="Practice").click(timeout=WAIT_MS)
    page.locator("#practice-section input").click()  # the picked course's sections, and only those
    expect(page.get_by_role("option", name="Photosynthesis")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_role("option", name=re.compile("Neutron Stars|Red Giants"))).to_have_count(0)
    page.keyboard.press("Escape")
    page.locator("#practice-n input[type=number]").fill("2")
    page.locator("#practice-start").click()
    question = page.locator("#practice-question")
    question.get_by_text(re.compile(r"Question 1 of [12]\b")).wait_for(timeout=WAIT_MS)  # as many as it has
    page.locator("#practice-answer textarea").fill("something about the stars")
    page.locator("#practice-check").click()
    feedback = page.locator("#practice-feedback")
    expect(feedback.locator(".practice-verdict")).to_be_visible(timeout=WAIT_MS)
    expect(feedback.locator(".practice-source")).to_contain_text(re.compile("Photosynthesis|Roots"), timeout=WAIT_MS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "library-practice.png"), full_page=True)

    page.get_by_role("tab", name="Chat").click()
    pick(page, "Introduction to Astronomy")  # another course: its quiz starts afresh, on its own sections
    page.get_by_role("tab", name="Practice").click()
    expect(question).to_contain_text("Pick a section", timeout=WAIT_MS)
    page.locator("#practice-start").click()
    question.get_by_text(re.compile(r"Question 1 of [12]\b")).wait_for(timeout=WAIT_MS)
    page.locator("#practice-show").click()
    expect(feedback.locator(".practice-source")).to_contain_text(re.compile("Red Giants|Neutron Stars|Star"),
                                                                 timeout=WAIT_MS)
    page.context.close()


@pytest.mark.slow
@pytest.mark.browser
def test_in_the_browser_a_new_folder_joins_the_open_picker_and_the_teacher_creates_a_course(local_server, browser):
    import shutil

    from playwright.sync_api import expect

    from tests.test_browser import WAIT_MS, ask, open_page

    root, url = local_server
    page = open_page(browser, url)
    pick(page, "Plant Biology")
    try:
        (root / "geology").mkdir()
        (root / "geology" / "rocks.md").write_text(GEOLOGY, encoding="utf-8")
        page.locator("#tutor-course input").click()  # the page was open before the folder was made
        expect(page.get_by_role("option", name="Rocks")).to_be_visible(timeout=OPEN_MS)
        page.get_by_role("option", name="Rocks").click()
        expect(page.locator("#tutor-header h1")).to_contain_text("Rocks", timeout=WAIT_MS)
        expect(asked(page, "What is basalt?", 0)).to_contain_text("dark volcanic rock", timeout=WAIT_MS)
        shutil.rmtree(root / "geology")  # the session that picked it is told, not moved elsewhere
        expect(page.locator("#tutor-status")).to_contain_text("no longer in the library", timeout=OPEN_MS)
        ask(page, "What is basalt?")
        expect(page.locator("#tutor-chat .tutor-error")).to_contain_text("“Rocks” is no longer in the library",
                                                                          timeout=WAIT_MS)

        page.locator("#tutor-teacher").get_by_text("Course documents (teacher)").click()
        page.locator("#tutor-new-course input").fill("../Genetics")
        page.locator("#tutor-create").click()
        message = page.locator("#tutor-teacher-message")
        expect(message).to_contain_text("not a course name", timeout=WAIT_MS)
        page.locator("#tutor-new-course input").fill("Genetics Basics")
        page.locator("#tutor-new-document input[type=file]").set_input_files(
            {"name": "cells.md", "mimeType": "text/markdown", "buffer": MITOSIS.encode()})
        expect(page.locator("#tutor-new-document")).to_contain_text("cells.md", timeout=WAIT_MS)
        page.locator("#tutor-create").click()
        expect(message).to_contain_text("Created the course “Genetics Basics”", timeout=OPEN_MS)
        expect(page.locator("#tutor-header h1")).to_contain_text("Genetics Basics", timeout=WAIT_MS)
        expect(asked(page, MITOSIS_Q, 0)).to_contain_text("two identical nuclei", timeout=WAIT_MS)
        assert sorted(p.name for p in (root / "genetics-basics").iterdir()) == ["cells.md", "course.toml"]
    finally:
        page.context.close()
        for name in ("geology", "genetics-basics"):
            shutil.rmtree(root / name, ignore_errors=True)


# -------------------------------------------------------------------------------------- the command


@pytest.mark.parametrize("argv, says", [
    (["chat", "--teacher", "t:pw"], "use it with --library"),
    (["chat", "--library", "LIB", "--teacher", "same:pw", "--auth", "same:other"], "give them different names"),
    (["chat", "--library", "LIB", "--teacher", "nopassword"], "--teacher takes USER:PASS"),
    (["chat", "--library", "LIB", "--corpus", "LIB/astro"], "leave out --corpus"),
    (["chat", "--library", "MISSING"], "Library folder not found"),
])
def test_chat_library_options_are_checked_before_anything_loads(argv, says, tmp_path, capsys):
    from tutor.cli import main

    root = write_library(tmp_path / "courses")
    argv = [a.replace("LIB", str(root)).replace("MISSING", str(tmp_path / "missing")) for a in argv]
    assert main(argv) == 2
    assert says in capsys.readouterr().err
    assert not (root / ".tutor-indexes").exists()


def test_tutor_chat_library_serves_every_course_and_indexes_them_outside_their_folders(tmp_path):
    import os
    import subprocess
    import sys
    import time

    from gradio_client import Client

    root = write_library(tmp_path / "courses")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    chat = subprocess.Popen([sys.executable, "-m", "tutor", "chat", "--library", str(root), "--port", str(port),
                             "--generator", "extractive", "--device", "cpu"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        started = time.monotonic()
        first = chat.stdout.readline()
        assert f"is open at http://127.0.0.1:{port}/" in first and "2 courses (astro, botany)" in first
        said = first + chat.stdout.readline()
        assert "you may add and remove them from this computer's browser" in said
        student = Client(f"http://127.0.0.1:{port}/", verbose=False)
        answer = student.predict("What do roots do?", "botany", api_name="/ask")
        assert "anchor" in answer["answer"], (answer, time.monotonic() - started)
        assert sorted(p.name for p in (root / ".tutor-indexes").iterdir()) == ["astro", "botany"]
        assert sorted(p.name for p in (root / "botany").iterdir()) == ["plants.md"]  # the course folder is the teacher's
    finally:
        chat.terminate()
        chat.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.browser
def test_in_the_browser_only_the_teachers_sign_in_shows_the_documents_panel(signed_in, browser):
    import time

    from playwright.sync_api import expect

    from tests.test_browser import WAIT_MS

    _, url = signed_in
    shown_after = None
    for (user, password), teacher in ((TEACHER, True), (STUDENT, False)):
        page = browser.new_context().new_page()
        page.goto(url)
        page.get_by_label("username").fill(user)
        page.get_by_label("password").fill(password)
        page.keyboard.press("Enter")
        page.locator("#tutor-question textarea").wait_for(timeout=WAIT_MS)
        ready = time.monotonic()
        panel = page.get_by_text("Course documents (teacher)")
        if teacher:
            expect(panel).to_be_visible(timeout=WAIT_MS)
            shown_after = time.monotonic() - ready
        else:
            # The page's load event shows the panel to a teacher: give it three times what it took for one.
            page.wait_for_timeout(max(2_000, 3_000 * shown_after))
            expect(panel).not_to_be_visible()
            expect(page.locator("#tutor-upload")).not_to_be_visible()
        page.context.close()
