"""Checks at the edges: what a caller hands the Python API or the command line, and what is printed back.

Each check returns the value in the form the rest of the code expects, or raises TutorError saying
what to pass instead; nothing below the edges has to guess what a string or a negative number meant.
"""

from __future__ import annotations

import errno
import numbers
import os
import socket
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from tutor.errors import TutorError

HISTORY_FORMS = "strings, (question, answer) pairs or {'role': ..., 'content': ...} messages"


def check_top_k(top_k: object) -> int:
    """The number of passages to retrieve: a whole number, at least 1."""
    if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral):
        raise TutorError(f"top-k must be a whole number of passages, such as 3, not {top_k!r}.")
    if top_k < 1:
        raise TutorError(f"top-k must be at least 1 (got {top_k}): it is how many passages to retrieve.")
    return int(top_k)


def check_optional_top_k(top_k: object) -> int | None:
    return None if top_k is None else check_top_k(top_k)


def check_history(history: object) -> list | None:
    """The conversation so far as a list of turns (a generator is read once); None for no history."""
    if history is None:
        return None
    if isinstance(history, (str, bytes)):
        raise TutorError(
            f"history is the conversation so far, a list of turns ({HISTORY_FORMS}), not one string: "
            "put a single earlier question in a list."
        )
    if isinstance(history, dict) or not isinstance(history, Iterable):
        raise TutorError(f"history must be a list of turns ({HISTORY_FORMS}), not {type(history).__name__}.")
    return list(history)


def check_questions(questions: object) -> list:
    """The questions for `ask_many` as a list; one string is a mistake, not a list of characters."""
    if isinstance(questions, (str, bytes)):
        raise TutorError("ask_many takes a list of questions, not one string: use ask() for one question, "
                         "or put it in a list.")
    if isinstance(questions, dict) or not isinstance(questions, Iterable):
        raise TutorError(f"ask_many takes a list of questions, not {type(questions).__name__}.")
    return list(questions)


def check_ids(ids: object, count: int) -> list[str | None]:
    """One id (text, or None) per question."""
    if ids is None:
        return [None] * count
    if isinstance(ids, (str, bytes)) or isinstance(ids, dict) or not isinstance(ids, Iterable):
        raise TutorError(f"ids must be a list with one id per question, not {type(ids).__name__}.")
    ids = list(ids)
    if len(ids) != count:
        raise TutorError(f"ids has {len(ids)} entries for {count} questions: give one id (or None) per question.")
    for id_ in ids:
        if id_ is not None and not isinstance(id_, str):
            raise TutorError(f"Each id must be text or None, not {type(id_).__name__} ({id_!r}).")
    return ids


def check_folder_argument(value: object, what: str) -> Path | None:
    """A folder given as a str or a path (None: the default)."""
    if value is None:
        return None
    if isinstance(value, (str, os.PathLike)) and str(value).strip():
        return Path(value)
    raise TutorError(f"{what} must be a folder path (a str or pathlib.Path), not {value!r}.")


# ------------------------------------------------------------------------------------- the chat's address


def check_chat_address(host: str, port: int) -> None:
    """TutorError unless the chat can listen on `host`:`port`: a real port, an IPv4 address of this machine."""
    if not 1 <= port <= 65535:
        raise TutorError(f"--port {port} is not a port: use a number from 1 to 65535 (the default is 7860).")
    if ":" in host:
        raise TutorError(
            f"--host {host}: the chat listens on IPv4 only. Use --host 127.0.0.1 (this machine only) "
            "or --host 0.0.0.0 (every network this machine is on)."
        )
    if not host.strip():
        raise TutorError("--host is empty: use 127.0.0.1 (this machine only) or 0.0.0.0 (every network).")
    try:
        address = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    except (socket.gaierror, UnicodeError) as exc:
        raise TutorError(
            f"--host {host} is neither an IPv4 address nor a name this machine can look up: "
            "use 127.0.0.1 (this machine only) or 0.0.0.0 (every network)."
        ) from exc
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, 0))  # any free port: only the address is in question here
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                named = host if address == host else f"{host} ({address})"
                raise TutorError(
                    f"--host {named} is not an address of this machine, so the chat cannot listen "
                    "on it: use 127.0.0.1 (this machine only), 0.0.0.0 (every network) or one of this "
                    "machine's own addresses."
                ) from exc
            raise TutorError(f"Cannot listen on {host}: {exc.strerror or exc}.") from exc


# ------------------------------------------------------------------------------------- files


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same path, a link to it, or a hard link (same inode)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return Path(a).resolve() == Path(b).resolve()


# ------------------------------------------------------------------------------------- printing


# Bidirectional overrides and isolates reorder what a terminal shows ("cod.exe" shown as "exe.doc").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """`text` safe to show on a terminal: control characters (so every terminal escape sequence), bidi
    overrides and lone surrogates appear as escapes like \\x1b; newlines and tabs stay."""
    return "".join(_escape(ch) for ch in str(text))


def _escape(ch: str) -> str:
    if ch in "\n\t":
        return ch
    if unicodedata.category(ch) in ("Cc", "Cs") or ch in BIDI_CONTROLS:
        return ch.encode("unicode_escape", "backslashreplace").decode("ascii")
    return ch
