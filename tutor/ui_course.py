"""The course a running chat serves: one Tutor per generator, loaded off the request path, swapped together.

    course = ServedCourse(tutor, "extractive")
    tutor, note = course.tutor("auto")   # the loaded one; while "auto" loads, the default answers and `note` says so
    course.start_watching()              # a changed course folder is re-indexed in the background and swapped in

A request never loads a model or builds an index: it takes the tutors that are served at that moment
(one immutable `Served` snapshot) and answers with them. Loading a generator and re-indexing a changed
course happen in background threads; the new snapshot replaces the old one in a single assignment, so
every generator moves to the new course version at once.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from tutor.errors import TutorError
from tutor.ui_render import CourseFacts, course_title, course_version

log = logging.getLogger(__name__)

WATCH_SECONDS = 5.0


@dataclass(frozen=True)
class Served:
    """One course version and the tutors that answer from it, by generator choice."""

    tutors: dict
    fingerprint: dict
    indexed_at: str
    signature: tuple  # the course files' names, sizes and modification times when this version was read
    version: str = field(init=False, default="")

    def __post_init__(self) -> None:
        object.__setattr__(self, "version", course_version(self.fingerprint))


def corpus_signature(corpus_dir: Path) -> tuple:
    """Names, sizes and modification times of the course files: cheap to read every few seconds."""
    from tutor.ingest import corpus_files

    out = []
    for path in sorted(corpus_files(corpus_dir)):
        try:
            st = path.stat()
            out.append((str(path), st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((str(path), -1, -1))
    return tuple(out)


def _index_facts(index_dir: Path) -> tuple[dict, str]:
    from tutor.store import read_manifest

    manifest = read_manifest(index_dir) or {}
    built = str(manifest.get("built_at") or "")
    when = built[:16].replace("T", " ") if built else "at start-up"
    return dict(manifest.get("corpus") or {}), when


class ServedCourse:
    """The tutors a chat answers with, by generator choice; see the module docstring."""

    def __init__(self, tutor, spec: str, *, backend: str = "auto", watch_seconds: float = WATCH_SECONDS) -> None:
        self.default_spec = spec
        self.backend = backend
        self.watch_seconds = watch_seconds
        fingerprint, when = _index_facts(tutor.index_dir)
        self._served = Served({spec: tutor}, fingerprint, when, corpus_signature(tutor.corpus_dir))
        self._loading: dict[str, threading.Thread] = {}
        self._failed: dict[str, str] = {}
        self._lock = threading.Lock()  # guards _served replacement, _loading and _failed; never held while loading
        self._checking = threading.Lock()  # one re-read at a time: the watcher's, or one a teacher's upload asks for
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # ----------------------------------------------------------------------------------------- answering

    @property
    def served(self) -> Served:
        return self._served

    def tutor(self, spec: str | None = None):
        """(tutor, note): the tutor for `spec` if it is loaded; else the default one, a background load of `spec`
        started, and a note that says which answered."""
        spec = (spec or "").strip() or self.default_spec
        served = self._served
        if spec in served.tutors:
            return served.tutors[spec], None
        note = self.prepare(spec)
        return served.tutors[self.default_spec], note

    def prepare(self, spec: str) -> str | None:
        """Start loading `spec` in the background (once); a plain note while it loads or if it failed."""
        spec = (spec or "").strip() or self.default_spec
        with self._lock:
            if spec in self._served.tutors:
                return None
            if spec in self._failed:
                return f"The answerer “{spec}” could not be loaded ({self._failed[spec]}); answering with " \
                       f"“{self.default_spec}”."
            if spec not in self._loading:
                thread = threading.Thread(target=self._load, args=(spec,), name=f"load-{spec}", daemon=True)
                self._loading[spec] = thread
                thread.start()
        return f"Loading the answerer “{spec}”; until it is ready, “{self.default_spec}” answers."

    def wait_loaded(self, spec: str, timeout: float = 120.0) -> bool:
        thread = self._loading.get(spec)
        if thread is not None:
            thread.join(timeout)
        return spec in self._served.tutors

    def _load(self, spec: str) -> None:
        try:
            base = self._served.tutors[self.default_spec]
            tutor = self._with_answerer(base, spec)
        except TutorError as exc:
            with self._lock:
                self._failed[spec] = str(exc)
                self._loading.pop(spec, None)
            log.warning("Could not load the answerer %s: %s", spec, exc)
            return
        except Exception as exc:  # a broken checkpoint must not kill the server
            with self._lock:
                self._failed[spec] = f"{type(exc).__name__}: {exc}"
                self._loading.pop(spec, None)
            log.exception("Could not load the answerer %s", spec)
            return
        with self._lock:
            served = self._served
            if base.store is served.tutors[self.default_spec].store:
                self._served = replace(served, tutors={**served.tutors, spec: tutor})
            self._loading.pop(spec, None)
        log.info("Loaded the answerer %s.", spec)

    def _with_answerer(self, base, spec: str):
        """A tutor on `base`'s index and retriever with the answerer for `spec` (no index work)."""
        from tutor.core import Tutor, resolve_answerer

        answerer, notes = resolve_answerer(spec, base.device, self.backend, base.index_dir)
        return Tutor(base.store, base.retriever, answerer, corpus_dir=base.corpus_dir, index_dir=base.index_dir,
                     device=base.device, top_k=base.top_k, notes=notes)

    def loading_note(self) -> str | None:
        with self._lock:
            if self._loading:
                return "Loading the answerer " + ", ".join(f"“{s}”" for s in self._loading) + " in the background."
        return None

    def facts(self, spec: str | None = None) -> CourseFacts:
        served = self._served
        tutor, note = served.tutors.get(spec or self.default_spec), None
        if tutor is None:
            tutor, note = served.tutors[self.default_spec], self.loading_note()
        from tutor.config import EMBEDDING_MODEL_NAME

        store = tutor.store
        return CourseFacts(
            title=course_title(store.titles, Path(tutor.corpus_dir).name),
            documents=len(store.titles),
            passages=len(store.chunks),
            version=served.version,
            indexed_at=served.indexed_at,
            generator=tutor.generator,
            device=str(tutor.device),
            embedding_model=EMBEDDING_MODEL_NAME,
            loading=note,
        )

    # ------------------------------------------------------------------------------------- course changes

    def check(self) -> bool:
        """Re-read the course if its files changed; True when a new version is now served."""
        with self._checking:
            return self._check()

    def _check(self) -> bool:
        served = self._served
        base = served.tutors[self.default_spec]
        signature = corpus_signature(base.corpus_dir)
        if signature == served.signature:
            return False
        from tutor.store import corpus_fingerprint, open_index

        fingerprint = corpus_fingerprint(base.corpus_dir)
        if fingerprint == served.fingerprint:  # touched, not changed
            with self._lock:
                self._served = replace(self._served, signature=signature)
            return False
        log.info("The course files changed; re-indexing %s in the background.", base.corpus_dir)
        started = time.perf_counter()
        try:
            store = open_index(base.corpus_dir, base.index_dir, device=base.device)
        except Exception:
            # e.g. a file half copied: keep serving the old version and try again when the files change again
            with self._lock:
                self._served = replace(self._served, signature=signature)
            raise
        from tutor.retrieval import Retriever

        retriever = Retriever(store, base.retriever.embedder, mode=base.retriever.mode)
        tutors = {}
        for spec, old in served.tutors.items():
            # A copy of the answerer: the Tutor gives it the new keyword weights; the old one keeps answering.
            from tutor.core import Tutor

            tutors[spec] = Tutor(store, retriever, copy.copy(old.answerer), corpus_dir=old.corpus_dir,
                                 index_dir=old.index_dir, device=old.device, top_k=old.top_k, notes=old.notes)
        new_fingerprint, when = _index_facts(base.index_dir)
        new = Served(tutors, new_fingerprint or fingerprint, when, signature)
        with self._lock:
            self._served = new
        log.warning("The course changed: now serving version %s (%d passages), re-indexed in %.1f s.",
                    new.version, len(store.chunks), time.perf_counter() - started)
        return True

    def start_watching(self) -> None:
        if self._watcher is None and self.watch_seconds > 0:
            self._watcher = threading.Thread(target=self._watch, name="course-watch", daemon=True)
            self._watcher.start()

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(self.watch_seconds):
            try:
                self.check()
            except Exception:  # a half-copied file: try again on the next tick, keep serving the old version
                log.exception("Could not re-read the changed course; still serving version %s.", self._served.version)
