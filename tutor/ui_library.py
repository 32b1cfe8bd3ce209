"""A library of courses in one chat: each course a `ServedCourse`, opened in the background; and who may change
a course's files from the browser.

    library = ServedLibrary(find_courses(Path("courses")), "extractive", device="cpu")
    library.start()                       # opens every course in the background, the first one first
    course = library.wait("biology")      # the course's ServedCourse, opened now if the background has not yet
    library.add("biology", "notes.md", upload, teachers, username, host)   # saved, re-indexed, swapped in
    library.create("Cell Biology", "cells.md", upload, teachers, username, host)   # a new course, opened now

Each browser session picks its course (the picker's value is per session); a request answers from the course
it names and never touches another. A teacher's upload or removal is re-indexed through the course's own
`ServedCourse.check`, the same path that follows a course folder changed on disk: only new texts are
embedded, and the new version replaces the old in one assignment while the old keeps answering.

Given the library's folder, the library looks at it every `watch_seconds`: a course folder added joins the
list (and is opened in the background), one removed or emptied leaves it; a session on a course that left
is told so rather than moved to another.
"""

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass, replace
from http.cookies import SimpleCookie
from pathlib import Path

from tutor.errors import TutorError
from tutor.library import LibraryCourse, add_document, configured_title, course_documents, remove_document
from tutor.ui_course import WATCH_SECONDS, ServedCourse
from tutor.ui_render import CourseFacts, course_title

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0  # how often a page asks for the courses' titles and facts while they open


def is_loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(str(host).strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Teachers:
    """Who may add and remove a course's documents.

    With `--teacher USER:PASS`: only requests signed in as USER. Without it: whoever is at this computer,
    when the chat listens on this computer only with no sign-in and no share link; else nobody."""

    user: str | None = None
    local: bool = False

    @classmethod
    def for_server(cls, host: str, *, teacher: str | None, students: bool, share: bool) -> "Teachers":
        if teacher:
            return cls(user=teacher)
        return cls(local=is_loopback(host) and not students and not share)

    @property
    def uploads_on(self) -> bool:
        return bool(self.user) or self.local

    def allows(self, username: str | None, host: str | None) -> bool:
        if self.user:
            return username == self.user
        return self.local and username is None and is_loopback(host)

    def refusal(self) -> str:
        if self.user:
            return "Only the teacher may change the course's documents: sign in with the teacher's account."
        return ("Changing the course's documents is off: this chat is open to other computers or needs a sign-in, "
                "and no teacher account was given. Start it with --teacher USER:PASS to allow it.")


def upload_gate(blocks, teachers: Teachers):
    """For the request guard: whether a file upload request comes from a teacher (Gradio's sign-in cookie)."""

    def allowed(scope) -> bool:
        from tutor.ui_guard import client_host

        server = getattr(blocks, "server_app", None)
        if not teachers.uploads_on or server is None:
            return False
        user = None
        if teachers.user:
            headers = dict(scope.get("headers") or ())
            cookies = SimpleCookie()
            try:
                cookies.load(headers.get(b"cookie", b"").decode("latin-1"))
            except Exception:  # a malformed cookie header: no user
                return False
            for name in (f"access-token-{server.cookie_id}", f"access-token-unsecure-{server.cookie_id}"):
                if name in cookies:
                    user = server.tokens.get(cookies[name].value)
                    break
        return teachers.allows(user, client_host(scope))

    return allowed


def request_identity(request) -> tuple[str | None, str | None]:
    """(user name, client address) of a Gradio request; (None, None) without one."""
    if request is None:
        return None, None
    client = getattr(request, "client", None)
    return getattr(request, "username", None), getattr(client, "host", None)


class ServedLibrary:
    """The courses a library chat serves, by folder name; each opened once, in the background or on demand."""

    def __init__(self, courses: list[LibraryCourse], spec: str, *, device: str = "cpu", top_k: int = 3,
                 backend: str = "auto", watch_seconds: float = WATCH_SECONDS, max_upload: int | None = None,
                 library_dir: Path | None = None, index_root: Path | None = None) -> None:
        from tutor.library import MAX_UPLOAD_BYTES

        if not courses:
            raise TutorError("A library needs at least one course.")
        self.courses = {c.name: c for c in courses}
        self.default = courses[0].name
        self.spec = spec
        self.device = device
        self.top_k = top_k
        self.backend = backend
        self.watch_seconds = watch_seconds
        self.max_upload = max_upload or MAX_UPLOAD_BYTES
        self._served: dict[str, ServedCourse] = {}
        self._failed: dict[str, str] = {}
        # With the library's folder, new course folders join and removed ones leave while the chat runs.
        self.library_dir = Path(library_dir) if library_dir is not None else None
        self.index_root = Path(index_root) if index_root is not None else None
        self._gone: dict[str, str] = {}  # a course whose folder was removed or emptied: its last title
        self._opening: dict[str, threading.Lock] = {}  # one open per course
        self._editing: dict[str, threading.Lock] = {}  # one change of its files at a time
        self._listing = threading.Lock()  # one change of the list of courses at a time
        self._shared = threading.Lock()
        self._embedder = None
        self._stop = threading.Event()

    # ----------------------------------------------------------------------------------------- the courses

    def title(self, name: str) -> str:
        """course.toml's title; else, once the course is open, its documents' title; else its folder name."""
        course = self.courses.get(name)
        if course is None:
            return self._gone.get(name, name)
        title = configured_title(course.folder)
        if title:
            return title
        served = self._served.get(name)
        if served is not None:
            return course_title(served.served.tutors[served.default_spec].store.titles, name)
        return course_title([], name)

    def choices(self) -> list[tuple[str, str]]:
        """(title, folder name) for the picker; a title two courses share names its folder too."""
        titles = {name: self.title(name) for name in self.courses}
        seen: dict[str, int] = {}
        for title in titles.values():
            seen[title] = seen.get(title, 0) + 1
        return [(t if seen[t] == 1 else f"{t} ({name})", name) for name, t in titles.items()]

    def known(self, name: object) -> str:
        """`name` if it is a course of the library; TutorError otherwise."""
        if isinstance(name, str) and name in self.courses:
            return name
        if isinstance(name, str) and name in self._gone:
            raise TutorError(gone_words(self._gone[name]))
        raise TutorError(f"There is no course “{str(name)[:80]}” here: pick one from the list of courses.")

    def gone(self, name: object) -> bool:
        """Whether `name` was a course of the library whose folder has since been removed or emptied."""
        return isinstance(name, str) and name not in self.courses and name in self._gone

    def ready(self, name: str) -> bool:
        return name in self._served

    def settled(self) -> bool:
        """Whether every course is open or has failed to open: their titles and facts no longer change alone
        (but for course folders added or removed, see `rescan`)."""
        return all(name in self._served or name in self._failed for name in self.courses)

    def prepare(self, name: str) -> None:
        """Start opening the course in the background, unless it is open, opening or failed."""
        if name in self._served or name in self._failed or self._opening[name].locked():
            return

        def open_it() -> None:
            try:
                self.wait(name)
            except TutorError as exc:
                log.warning("%s", exc)

        threading.Thread(target=open_it, name=f"open-{name}", daemon=True).start()

    def wait(self, name: object) -> ServedCourse:
        """The course's ServedCourse, opening it now if it is not yet open; TutorError if it cannot be opened."""
        name = self.known(name)
        served = self._served.get(name)
        if served is not None:
            return served
        with self._opening.setdefault(name, threading.Lock()):
            if name in self._served:
                return self._served[name]
            if name in self._failed:
                raise TutorError(f"The course “{self.title(name)}” could not be opened: {self._failed[name]}")
            try:
                served = self._open(self.courses[name])
            except TutorError as exc:
                self._failed[name] = str(exc)
                raise TutorError(f"The course “{self.title(name)}” could not be opened: {exc}") from exc
            except Exception as exc:  # a broken course must not take the others down
                log.exception("Could not open the course %s", name)
                self._failed[name] = f"{type(exc).__name__}: {exc}"
                raise TutorError(f"The course “{self.title(name)}” could not be opened: {exc}") from exc
            if name not in self.courses:  # its folder went while it opened
                served.stop()
                raise TutorError(gone_words(self.title(name)))
            self._served[name] = served
        if not self._stop.is_set():
            served.start_watching()
        return served

    def _open(self, course: LibraryCourse) -> ServedCourse:
        from tutor.core import Tutor, resolve_answerer
        from tutor.embeddings import load_embedder
        from tutor.retrieval import Retriever
        from tutor.store import open_index

        started = time.perf_counter()
        with self._shared:
            if self._embedder is None:  # one sentence model for every course
                self._embedder = load_embedder(self.device, engine="auto")
        store = open_index(course.folder, course.index_dir, device=self.device)
        for warning in store.warnings:
            log.warning("%s", warning)
        answerer, notes = resolve_answerer(self.spec, self.device, self.backend, course.index_dir)
        tutor = Tutor(store, Retriever(store, self._embedder), answerer, corpus_dir=course.folder,
                      index_dir=course.index_dir, device=self.device, top_k=self.top_k, notes=notes)
        log.info("Opened the course %s (%d passages) in %.1f s.", course.name, len(store.chunks),
                 time.perf_counter() - started)
        return ServedCourse(tutor, self.spec, backend=self.backend, watch_seconds=self.watch_seconds)

    def start(self) -> threading.Thread:
        """Open every course in the background, in order; a request for one not yet open opens it itself. With
        the library's folder, look at it every `watch_seconds` for course folders added, removed or emptied."""

        def open_all() -> None:
            self._open_in_turn(list(self.courses))
            while self.library_dir is not None and not self._stop.wait(self.watch_seconds):
                try:
                    self._open_in_turn(self.rescan())
                except Exception:  # the next look tries again
                    log.exception("Could not look for new courses in %s", self.library_dir)

        thread = threading.Thread(target=open_all, name="library-open", daemon=True)
        thread.start()
        return thread

    def _open_in_turn(self, names: list[str]) -> None:
        for name in names:
            if self._stop.is_set():
                return
            try:
                self.wait(name)
            except TutorError as exc:
                log.warning("%s", exc)

    def rescan(self) -> list[str]:
        """Follow the library's folder: course folders new since the last look join the library (the new names
        are returned, to open), and courses whose folder was removed or holds no documents now leave it."""
        from tutor.library import scan_courses
        from tutor.store import check_index_location

        if self.library_dir is None:
            return []
        with self._listing:
            found = {}
            for course in scan_courses(self.library_dir, self.index_root):
                try:
                    check_index_location(course.folder, course.index_dir)
                except TutorError as exc:
                    log.warning("Not serving the course folder %s: %s", course.folder, exc)
                    continue
                found[course.name] = self.courses.get(course.name, course)
            added = [name for name in found if name not in self.courses]
            gone = [name for name in self.courses if name not in found]
            for name in gone:
                self._gone[name] = self.title(name)
            for name in added:
                self._gone.pop(name, None)
                self._failed.pop(name, None)
            if added or gone:
                self.courses = found  # one assignment: a request sees the old list or the new one
                if found and self.default not in found:
                    self.default = next(iter(found))
            for name in gone:
                served = self._served.pop(name, None)
                self._failed.pop(name, None)
                if served is not None:
                    served.stop()
        for name in added:
            log.info("A new course folder joined the library: %s", name)
        for name in gone:
            log.info("The course folder %s was removed or emptied: the course left the library.", name)
        return added

    def stop(self) -> None:
        self._stop.set()
        for served in list(self._served.values()):
            served.stop()

    def facts(self, name: str, spec: str | None = None) -> CourseFacts:
        """The course's facts, titled as the picker names it; while it opens, what is known and a note."""
        from tutor.config import EMBEDDING_MODEL_NAME

        served = self._served.get(name)
        if served is not None:
            return replace(served.facts(spec), title=self.title(name))
        course = self.courses.get(name)
        if course is None:
            return CourseFacts(title=self.title(name), documents=0, passages=0, version="…", indexed_at="…",
                               generator=self.spec, device=self.device, embedding_model=EMBEDDING_MODEL_NAME,
                               loading=gone_words(self.title(name)))
        why = self._failed.get(name)
        note = f"This course could not be opened: {why}" if why else \
            "Opening this course (reading and indexing its documents); questions wait until it is ready."
        return CourseFacts(title=self.title(name), documents=len(course_documents(course.folder)),
                           passages=0, version="…", indexed_at="…", generator=self.spec, device=self.device,
                           embedding_model=EMBEDDING_MODEL_NAME, loading=note)

    def documents(self, name: str) -> list[str]:
        return course_documents(self.courses[self.known(name)].folder)

    # ------------------------------------------------------------------------------ a teacher's changes

    def create(self, title: object, file_name: object, upload: Path | None, teachers: Teachers,
               username: str | None, host: str | None) -> tuple[str, str]:
        """A new course from the teacher's browser: its folder (named after `title`) with a course.toml and the
        uploaded first document, opened and indexed now. (its folder name, what happened, said plainly).
        TutorError, and nothing created, for someone who is not a teacher, a bad or taken name, or a bad file."""
        from tutor.library import check_course_title, course_folder_name, create_course

        if not teachers.allows(username, host):
            log.warning("Refused a new course from %s (user %s).", host, username)
            raise TutorError(teachers.refusal())
        if self.library_dir is None:
            raise TutorError("This chat serves a fixed list of courses: new courses cannot be added to it.")
        folder = course_folder_name(check_course_title(title))  # a bad name is said before a missing file
        if folder in self.courses:
            raise TutorError(f"The library already has a folder named “{folder}”: give the new course another name.")
        if upload is None:
            raise TutorError("Choose the new course's first document (a course needs one to be asked about).")
        started = time.perf_counter()
        with self._listing:
            name = create_course(self.library_dir, title, file_name, upload, max_bytes=self.max_upload)
        self.rescan()
        try:
            served = self.wait(name)
        except TutorError as exc:
            raise TutorError(f"The course folder “{name}” was made, but {exc}") from exc
        facts = served.facts()
        return name, (f"Created the course “{self.title(name)}” (folder “{name}”) with “{file_name}”: "
                      f"{facts.passages:,} passages, indexed in {time.perf_counter() - started:.1f} s. "
                      "Students see it in their list of courses.")

    def add(self, name: object, file_name: object, upload: Path, teachers: Teachers, username: str | None,
            host: str | None) -> str:
        """Save an uploaded document in the course and serve the re-indexed course; what happened, said plainly.
        TutorError (the course untouched) for someone who is not a teacher, or a bad file."""
        name = self._may_change(name, teachers, username, host)
        served = self.wait(name)
        with self._editing.setdefault(name, threading.Lock()):
            saved, replaced = add_document(self.courses[name].folder, file_name, upload, max_bytes=self.max_upload)
            seconds = self._reindex(served)
        did = "Replaced" if replaced else "Added"
        return f"{did} “{saved}”: {self._now(served, seconds)}" + self._warnings_about(served, saved)

    def remove(self, name: object, document: object, teachers: Teachers, username: str | None,
               host: str | None) -> str:
        name = self._may_change(name, teachers, username, host)
        served = self.wait(name)
        with self._editing.setdefault(name, threading.Lock()):
            removed = remove_document(self.courses[name].folder, document)
            seconds = self._reindex(served)
        return f"Removed “{removed}”: {self._now(served, seconds)}"

    @staticmethod
    def _now(served: ServedCourse, seconds: float) -> str:
        facts = served.facts()
        docs = f"{facts.documents} document" + ("s" if facts.documents != 1 else "")
        return f"the course now has {docs} and {facts.passages:,} passages (re-indexed in {seconds:.1f} s)."

    def _may_change(self, name: object, teachers: Teachers, username: str | None, host: str | None) -> str:
        if not teachers.allows(username, host):
            log.warning("Refused a change to course files from %s (user %s).", host, username)
            raise TutorError(teachers.refusal())
        return self.known(name)

    @staticmethod
    def _reindex(served: ServedCourse) -> float:
        started = time.perf_counter()
        try:
            served.check()
        except TutorError:
            raise
        except Exception as exc:
            log.exception("Could not re-index %s", served.served.tutors[served.default_spec].corpus_dir)
            raise TutorError(f"The course could not be re-indexed ({exc}); it is served as before.") from exc
        return time.perf_counter() - started

    @staticmethod
    def _warnings_about(served: ServedCourse, saved: str) -> str:
        store = served.served.tutors[served.default_spec].store
        about = [w for w in store.warnings if saved in w]
        return "".join(f" Note: {w}" for w in about)



def gone_words(title: str) -> str:
    return (f"The course “{title}” is no longer in the library (its folder was removed or holds no documents): "
            "pick another course from the list.")


# ---------------------------------------------------------------------------------------------- the chat


@dataclass
class TeacherPanel:
    """The components of the "Course documents" panel, which only a teacher's session shows."""

    box: object
    upload: object
    documents: object
    remove: object
    message: object
    new_title: object
    new_file: object
    create: object


def _message(text: str, *, error: bool = False) -> str:
    from tutor.ui_render import esc

    kind = "tutor-teacher-error" if error else "tutor-teacher-note"
    return f'<p class="{kind}" id="tutor-teacher-message">{esc(text)}</p>'


def forget_upload(path: Path) -> None:
    """Delete Gradio's copy of an uploaded file (the course keeps its own), and only a file in its upload folder."""
    from gradio.utils import get_upload_folder

    try:
        if Path(path).resolve().is_relative_to(Path(get_upload_folder()).resolve()):
            Path(path).unlink(missing_ok=True)
    except OSError:
        pass


def teacher_panel(library: ServedLibrary, teachers: Teachers) -> TeacherPanel:
    """The panel's components, hidden until a teacher's session loads (see `wire_library`)."""
    import gradio as gr

    from tutor.config import CORPUS_SUFFIXES
    from tutor.library import SUFFIX_WORDS

    limit = f"{library.max_upload / 2**20:g} MiB" if library.max_upload >= 2**20 else \
        f"{library.max_upload / 1024:g} KB"
    with gr.Accordion("Course documents (teacher)", open=False, visible=False, elem_id="tutor-teacher") as box:
        gr.Markdown(f"Add a {SUFFIX_WORDS} file of up to {limit} to the course picked above, or remove one. "
                    "The course is re-indexed at once; students' questions keep being answered meanwhile.")
        upload = gr.File(label="Add a document", file_count="single", type="filepath", elem_id="tutor-upload",
                         file_types=list(CORPUS_SUFFIXES))
        # Custom values pass the component's check: the server checks the name against the course's files.
        documents = gr.Dropdown(choices=[], label="Documents in this course", elem_id="tutor-documents",
                                allow_custom_value=True)
        remove = gr.Button("Remove this document", size="sm", variant="stop", elem_id="tutor-remove")
        gr.Markdown("**A new course**: its name (the folder is named after it: letters, digits and dashes) and "
                    "its first document. It appears in every student's list of courses once it is indexed.")
        with gr.Row():
            new_title = gr.Textbox(label="New course", placeholder="e.g. Cell Biology", max_lines=1,
                                   elem_id="tutor-new-course", scale=2)
            new_file = gr.File(label="Its first document", file_count="single", type="filepath",
                               elem_id="tutor-new-document", file_types=list(CORPUS_SUFFIXES), scale=2)
        create = gr.Button("Create the course", size="sm", variant="primary", elem_id="tutor-create")
        message = gr.HTML("", elem_id="tutor-teacher-box", padding=False)
    return TeacherPanel(box, upload, documents, remove, message, new_title, new_file, create)


def wire_library(app, library: ServedLibrary, teachers: Teachers, panel: TeacherPanel, *, picker, saved_course,
                 top_k, generator_box, conversation: list, course_view: list, saved, default_k: int) -> None:
    """The library's events: the picker (per session), the page load, and the teacher's add and remove."""
    import gradio as gr

    from tutor.ui import EMPTY_SOURCES, MAX_TOP_K, chat_messages, restored
    from tutor.ui_render import about_html, header_html, render_sources, status_line

    def key_of(value: object) -> str:
        return value if isinstance(value, str) and value in library.courses else library.default

    def session_key(value: object) -> str:
        """The session's course: as `key_of`, but a course that left the library stays the session's."""
        return value if library.gone(value) else key_of(value)

    def picker_update(key: str):
        """The picker's courses now; a course that left the library stays picked, marked, so that the session
        is told about it instead of moving to another course unasked."""
        choices = library.choices()
        if library.gone(key):
            choices.append((f"{library.title(key)} (removed)", key))
        return gr.update(choices=choices, value=key)

    def ticking():
        """The page's refresh: every 2 s while courses open; then as often as the library looks for new ones."""
        if not library.settled():
            return gr.Timer(REFRESH_SECONDS, active=True)
        return gr.Timer(max(REFRESH_SECONDS, library.watch_seconds), active=library.library_dir is not None)

    def view(key: str, top_k_value, generator_choice) -> tuple:
        facts = library.facts(key, generator_choice)
        try:
            k = min(max(int(top_k_value), 1), MAX_TOP_K)
        except (TypeError, ValueError):
            k = default_k
        return header_html(facts), status_line(facts, k), about_html(facts, k)

    def documents_update(key: str):
        names = [] if library.gone(key) else library.documents(key)
        return gr.update(choices=names, value=names[0] if names else None)

    def load(saved_turns, saved_key, top_k_value, generator_choice, request: gr.Request):
        key = key_of(saved_key)
        library.prepare(key)
        turns = restored(saved_turns)
        teacher = teachers.allows(*request_identity(request))
        return (chat_messages(turns), turns, render_sources(turns), *view(key, top_k_value, generator_choice),
                gr.update(choices=library.choices(), value=key), gr.update(visible=teacher),
                documents_update(key) if teacher else gr.update())

    def pick(key, previous, top_k_value, generator_choice, request: gr.Request):
        """Another course: a fresh conversation, that course's header, and its documents for a teacher."""
        key = key_of(key)
        if key == previous:  # picked again: the conversation stays
            return (gr.skip(),) * 11
        library.prepare(key)
        teacher = teachers.allows(*request_identity(request))
        return ([], "", [], EMPTY_SOURCES, [], *view(key, top_k_value, generator_choice), key,
                documents_update(key) if teacher else gr.update(), "")

    def add(path, key, top_k_value, generator_choice, request: gr.Request):
        """Save the uploaded file in the picked course, re-index, and say what happened."""
        if not path:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        upload = Path(str(path))
        try:
            if not teachers.allows(*request_identity(request)):
                log.warning("Refused an upload from %s.", request_identity(request))
                yield _message(teachers.refusal(), error=True), gr.skip(), None, gr.skip(), gr.skip(), gr.skip()
                return
            yield (_message(f"Adding “{upload.name}”: checking it and re-indexing the course… until the new "
                            "version is ready, the current one keeps answering."), *(gr.skip(),) * 5)
            try:
                said = library.add(key, upload.name, upload, teachers, *request_identity(request))
                error = False
            except TutorError as exc:
                said, error = str(exc), True
        finally:
            forget_upload(upload)
        k = session_key(key)
        yield (_message(said, error=error), documents_update(k), None, *view(k, top_k_value, generator_choice))

    def remove(document, key, top_k_value, generator_choice, request: gr.Request):
        try:
            said, error = library.remove(key, document, teachers, *request_identity(request)), False
        except TutorError as exc:
            said, error = str(exc), True
        k = session_key(key)
        teacher = teachers.allows(*request_identity(request))
        return (_message(said, error=error), documents_update(k) if teacher else gr.update(),
                *view(k, top_k_value, generator_choice))

    def create(title, path, top_k_value, generator_choice, request: gr.Request):
        """A new course from its name and first document; the teacher's session moves to it."""
        upload = Path(str(path)) if path else None
        try:
            name, said = library.create(title, upload.name if upload else None, upload, teachers,
                                        *request_identity(request))
        except TutorError as exc:
            return (_message(str(exc), error=True), *(gr.skip(),) * 13)
        finally:
            if upload is not None:
                forget_upload(upload)
        return (_message(said), picker_update(name), [], "", [], EMPTY_SOURCES, [],
                *view(name, top_k_value, generator_choice), name, documents_update(name), "", None)

    def refresh(key, top_k_value, generator_choice):
        """While courses open in the background, and as courses join or leave the library: the picker's courses
        and titles, and the picked one's facts."""
        key = session_key(key)
        return (picker_update(key), *view(key, top_k_value, generator_choice), ticking())

    header, status, about = course_view
    ticker = gr.Timer(REFRESH_SECONDS, active=not library.settled() or library.library_dir is not None)
    ticker.tick(refresh, [picker, top_k, generator_box], [picker, header, status, about, ticker],
                api_visibility="private", queue=False)
    app.load(load, [saved, saved_course, top_k, generator_box],
             [conversation[0], conversation[2], conversation[3], header, status, about, picker, panel.box,
              panel.documents], api_visibility="private")
    picker.input(pick, [picker, saved_course, top_k, generator_box],
                 [*conversation, header, status, about, saved_course, panel.documents, panel.message],
                 api_visibility="private", queue=False)
    panel.upload.upload(add, [panel.upload, picker, top_k, generator_box],
                        [panel.message, panel.documents, panel.upload, header, status, about],
                        api_name="add_document", api_visibility="undocumented", concurrency_limit=1,
                        concurrency_id="course-files")
    panel.remove.click(remove, [panel.documents, picker, top_k, generator_box],
                       [panel.message, panel.documents, header, status, about],
                       api_name="remove_document", api_visibility="undocumented", concurrency_limit=1,
                       concurrency_id="course-files")
    panel.create.click(create, [panel.new_title, panel.new_file, top_k, generator_box],
                       [panel.message, picker, *conversation, header, status, about, saved_course, panel.documents,
                        panel.new_title, panel.new_file],
                       api_name="create_course", api_visibility="undocumented", concurrency_limit=1,
                       concurrency_id="course-files")
