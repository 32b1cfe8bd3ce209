"""A course library: every course folder directly under one folder, each with an index of its own; and the
files a teacher adds to a course or removes from it.

    courses = find_courses(Path("courses"))        # courses/<name>/, indexed in courses/.tutor-indexes/<name>/
    add_document(courses[0].folder, "notes.md", Path("/tmp/upload-1234"))   # checked, then saved in the course
    remove_document(courses[0].folder, "notes.md")                            # kept in the course's .removed/
    create_course(Path("courses"), "Cell Biology", "cells.md", upload)         # courses/cell-biology/, whole

A course folder holds only the teacher's files: the indexes live in a hidden folder beside the courses (or
under `--index DIR`, one folder per course), and hidden names are never read as course material. Nothing
here re-indexes: the caller does, through the same path that follows a changed course folder.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from tutor.config import CORPUS_SUFFIXES, MAX_CORPUS_FILE_BYTES
from tutor.errors import TutorError

INDEX_FOLDER = ".tutor-indexes"  # DIR/.tutor-indexes/<course>/ when no --index is given
REMOVED_FOLDER = ".removed"  # a removed document is moved here, inside its course folder: hidden, never read
MAX_UPLOAD_BYTES = MAX_CORPUS_FILE_BYTES  # the largest file the tutor reads at all
MAX_NAME_CHARS = 150
MAX_TITLE_CHARS = 100  # a new course's name, as typed
MAX_FOLDER_CHARS = 60  # the folder made from it
SUFFIX_WORDS = ".pdf, .md, .html or .txt"


@dataclass(frozen=True)
class LibraryCourse:
    """One course of the library: its folder name (the course's key), its folder and its index folder."""

    name: str
    folder: Path
    index_dir: Path


def find_courses(library_dir: Path, index_root: Path | None = None) -> list[LibraryCourse]:
    """The course folders directly under `library_dir` that hold course files, by name; TutorError if none.

    Each course's index is `index_root/<name>`, by default `library_dir/.tutor-indexes/<name>`."""
    from tutor.store import check_index_location

    library_dir = Path(library_dir)
    if not library_dir.is_dir():
        raise TutorError(f"Library folder not found: {library_dir}. --library takes a folder of course folders.")
    courses = scan_courses(library_dir, index_root)
    for course in courses:
        check_index_location(course.folder, course.index_dir)
    if not courses:
        raise TutorError(
            f"{library_dir} holds no course folders: put each course in a folder of its own under it, holding "
            f"its {SUFFIX_WORDS} files (and optionally a course.toml with its title)."
        )
    return courses


def scan_courses(library_dir: Path, index_root: Path | None = None) -> list[LibraryCourse]:
    """The course folders directly under `library_dir` now, by name: each folder that is not hidden and holds
    documents the tutor reads. No checks and no error: a missing folder holds no courses."""
    from tutor.ingest import corpus_files

    library_dir = Path(library_dir)
    root = Path(index_root) if index_root else library_dir / INDEX_FOLDER
    try:
        folders = sorted(library_dir.iterdir(), key=lambda p: p.name)
    except OSError:
        return []
    courses = []
    for folder in folders:
        try:
            if folder.name.startswith(".") or not folder.is_dir() or not corpus_files(folder):
                continue  # hidden, or not a course: no documents the tutor reads
        except (OSError, TutorError):
            continue  # removed or unreadable while it was being looked at
        courses.append(LibraryCourse(folder.name, folder, root / folder.name))
    return courses


def check_course_title(title: object) -> str:
    """A new course's title as the teacher typed it, fit for its course.toml; TutorError saying why it is not."""
    if not isinstance(title, str) or not title.strip():
        raise TutorError("Type the new course's name, like “Cell Biology”.")
    title = unicodedata.normalize("NFC", " ".join(title.split()))
    shown = title if len(title) <= 80 else title[:80] + "…"
    if any(unicodedata.category(c).startswith("C") for c in title):
        raise TutorError(f"The course name {title!r} contains control characters: type it again.")
    if "/" in title or "\\" in title or title.startswith("."):
        raise TutorError(f"“{shown}” is not a course name: a name cannot start with a dot or contain / or \\. "
                         "Type a plain name, like “Cell Biology”.")
    if len(title) > MAX_TITLE_CHARS:
        raise TutorError(f"The course name is {len(title)} characters long; the limit is {MAX_TITLE_CHARS}.")
    return title


def course_folder_name(title: str) -> str:
    """The folder a course titled `title` gets: letters and digits, dashes between words (“Cell Biology 2” →
    cell-biology-2); TutorError when nothing of the title is left."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii").lower()
    name = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:MAX_FOLDER_CHARS].strip("-")
    if not name:
        raise TutorError(f"“{title[:80]}” has no letters or digits to name the course's folder after: "
                         "type a name with some (a–z, 0–9).")
    return name


def create_course(library_dir: Path, title: object, file_name: object, upload: Path, *,
                  max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """A new course folder under `library_dir`, holding a course.toml with `title` and its first document (the
    uploaded file `upload`, saved as `file_name`): the folder's name. TutorError, and nothing left behind, for
    a bad or clashing name or a bad file: the course appears whole, with its document, or not at all."""
    library_dir = Path(library_dir)
    title = check_course_title(title)
    name = course_folder_name(title)
    target = library_dir / name
    if os.path.lexists(target):
        raise TutorError(f"The library already has a folder named “{name}”: give the new course another name.")
    # Made under a hidden folder (never read as a course), then renamed into place once its document is in.
    staging = library_dir / f".new-course-{secrets.token_hex(6)}"
    try:
        (staging / name).mkdir(parents=True)
        (staging / name / "course.toml").write_text(f"title = {json.dumps(title, ensure_ascii=False)}\n",
                                                      encoding="utf-8")
        add_document(staging / name, file_name, upload, max_bytes=max_bytes)
        if os.path.lexists(target):
            raise TutorError(f"The library already has a folder named “{name}”: give the new course another name.")
        os.rename(staging / name, target)
    except OSError as exc:
        raise TutorError(f"Could not create the course folder “{name}” ({exc.strerror or exc}).") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return name


def configured_title(folder: Path) -> str:
    """The title `course.toml` gives the course, or "" (also when it cannot be read: the index says why)."""
    from tutor.ingest import course_info

    try:
        return course_info(folder).title
    except TutorError:
        return ""


def course_documents(folder: Path) -> list[str]:
    """The course's documents, as paths inside its folder (`notes.md`, `week2/slides.pdf`)."""
    from tutor.ingest import corpus_files

    return [p.relative_to(folder).as_posix() for p in corpus_files(folder)]


def check_file_name(name: object) -> str:
    """An uploaded file's name, fit to save as it is in a course folder; TutorError saying why it is not."""
    if not isinstance(name, str) or not name.strip():
        raise TutorError("The file has no name: upload a file from your computer.")
    name = unicodedata.normalize("NFC", name.strip())
    shown = name if len(name) <= 80 else name[:80] + "…"
    if "/" in name or "\\" in name or name in (".", ".."):
        raise TutorError(f"“{shown}” is not a plain file name: a name cannot contain / or \\. "
                         "Upload the file itself, named like notes.pdf.")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise TutorError(f"The file name {name!r} contains control characters: rename the file, then upload it.")
    if name.startswith("."):
        raise TutorError(f"“{shown}” starts with a dot, which hides a file: rename it, then upload it.")
    if len(name) > MAX_NAME_CHARS:
        raise TutorError(f"The file name is {len(name)} characters long; the limit is {MAX_NAME_CHARS}. "
                         "Rename the file, then upload it.")
    if Path(name).suffix.lower() not in CORPUS_SUFFIXES:
        raise TutorError(f"“{shown}” is not a course document the tutor reads: upload {SUFFIX_WORDS} files.")
    return name


def add_document(folder: Path, name: object, upload: Path, *, max_bytes: int = MAX_UPLOAD_BYTES) -> tuple[str, bool]:
    """Save the uploaded file `upload` in the course `folder` as `name`: (the name saved, whether it replaced a
    document of that name). TutorError, and the course untouched, for a bad name, size or file."""
    from tutor.ingest import read_document

    name = check_file_name(name)
    folder, upload = Path(folder), Path(upload)
    try:
        size = upload.stat().st_size
    except OSError as exc:
        raise TutorError(f"The upload of “{name}” was lost ({exc.strerror or exc}); upload it again.") from exc
    if size > max_bytes:
        raise TutorError(f"“{name}” is too large: {size / 2**20:.1f} MiB; the limit is {_size_words(max_bytes)}.")
    if size == 0:
        raise TutorError(f"“{name}” is empty.")
    target = folder / name
    if target.is_dir():
        raise TutorError(f"The course already has a folder named “{name}”: rename the file, then upload it.")
    # Copied under a hidden name first (a course's file scan never reads it), checked, then renamed into place:
    # the course never holds half a file, and a link of that name is replaced, never written through.
    staged = folder / f".upload-{secrets.token_hex(6)}{Path(name).suffix.lower()}"
    try:
        shutil.copyfile(upload, staged)
        document = read_document(staged, f"{folder.name}/{name}")
        if not document.text.strip():
            raise TutorError(f"“{name}” holds no text the tutor can read (a scanned PDF holds only pictures).")
        replaced = os.path.lexists(target)
        os.replace(staged, target)
    except OSError as exc:
        raise TutorError(f"Could not save “{name}” in the course ({exc.strerror or exc}).") from exc
    finally:
        staged.unlink(missing_ok=True)
    return name, replaced


def remove_document(folder: Path, name: object) -> str:
    """Take the document `name` (as `course_documents` lists it) out of the course: it moves to the course's
    hidden `.removed/` folder, where it is no longer read. TutorError if it is not one of the course's."""
    folder = Path(folder)
    documents = course_documents(folder)
    if not isinstance(name, str) or name not in documents:
        shown = str(name)[:80]
        raise TutorError(f"“{shown}” is not a document of this course: pick one from the list.")
    if len(documents) == 1:
        raise TutorError(f"“{name}” is the course's only document, and a course needs one: add another first.")
    kept = folder / REMOVED_FOLDER
    try:
        kept.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        os.replace(folder / name, kept / f"{stamp}-{Path(name).name}")
    except OSError as exc:
        raise TutorError(f"Could not remove “{name}” ({exc.strerror or exc}).") from exc
    return name


def _size_words(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n / 1024:g} KB"
