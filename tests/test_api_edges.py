"""The edges of the Python API and the command line: a caller's mistake is a TutorError that says what
to pass instead, never a traceback, a wrong answer, or a string read one character at a time."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import pytest

from tutor import Tutor, TutorError
from tutor.cli import main
from tutor.validation import printable, same_file

DRIFT = "Performance degrades as data distributions change"


# --------------------------------------------------------------------------- top_k, history, questions, ids


@pytest.mark.parametrize("top_k", [-1, 0, "3", 2.5, True, [3]], ids=repr)
def test_a_top_k_that_is_not_a_positive_whole_number_is_refused_everywhere(tutor, corpus_dir, index_dir, top_k):
    for call in (
        lambda: tutor.ask("What is model drift?", top_k=top_k),
        lambda: tutor.ask_many(["What is model drift?"], top_k=top_k),
        lambda: next(iter(tutor.stream("What is model drift?", top_k=top_k))),
        lambda: Tutor.load(corpus_dir, index_dir, generator="extractive", device="cpu", top_k=top_k),
    ):
        with pytest.raises(TutorError, match="top-k must be"):
            call()


def test_a_top_k_larger_than_the_course_is_allowed(tutor):
    assert DRIFT in tutor.ask("What is model drift?", top_k=10_000).citations[0].quote


@pytest.mark.parametrize("history", ["What is the primary goal in academia?", b"bytes", 42, {"role": "user"}],
                         ids=["a string", "bytes", "a number", "one message"])
def test_a_history_that_is_not_a_list_of_turns_is_refused(tutor, history):
    with pytest.raises(TutorError, match="history"):
        tutor.ask("And in industry?", history=history)
    with pytest.raises(TutorError, match="history"):
        next(iter(tutor.stream("And in industry?", history=history)))


def test_a_history_given_as_a_generator_is_read_as_a_list(tutor):
    turns = ["What is the primary goal in academia?"]
    by_list = tutor.ask("And in industry?", history=turns)
    by_generator = tutor.ask("And in industry?", history=(t for t in turns))
    assert by_generator.text == by_list.text


@pytest.mark.parametrize("questions", ["What is model drift?", b"What is model drift?", 42, None],
                         ids=["a string", "bytes", "a number", "None"])
def test_ask_many_refuses_what_is_not_a_list_of_questions(tutor, questions):
    with pytest.raises(TutorError, match="ask_many takes a list of questions"):
        tutor.ask_many(questions)


def test_ask_many_takes_any_iterable_of_questions(tutor):
    answers = tutor.ask_many(q for q in ["What is model drift?"])
    assert len(answers) == 1 and DRIFT in answers[0].citations[0].quote


@pytest.mark.parametrize(
    "ids, message",
    [(["a"], "ids has 1 entries for 2 questions"), (["a", "b", "c"], "ids has 3 entries for 2 questions"),
     ("ab", "ids must be a list"), (["a", 2], "Each id must be text or None")],
    ids=["too few", "too many", "a string", "a number"],
)
def test_ask_many_refuses_ids_that_do_not_match_the_questions(tutor, ids, message):
    with pytest.raises(TutorError, match=message):
        tutor.ask_many(["What is model drift?", "What is the primary goal in academia?"], ids=ids)


def test_tutor_load_refuses_a_folder_that_is_not_a_path(index_dir):
    with pytest.raises(TutorError, match="corpus_dir must be a folder path"):
        Tutor.load(42, index_dir, generator="extractive", device="cpu")


# --------------------------------------------------------------------------- `tutor chat` addresses


@pytest.mark.parametrize(
    "options, message",
    [
        (["--host", "::"], "IPv4 only"),
        (["--host", "::1"], "IPv4 only"),
        (["--port", "99999"], "--port 99999 is not a port"),
        (["--port", "0"], "--port 0 is not a port"),
        (["--port", "-1"], "--port -1 is not a port"),
        (["--host", "8.8.8.8"], "is not an address of this machine"),
        (["--host", ""], "--host is empty"),
    ],
    ids=["::", "::1", "port 99999", "port 0", "port -1", "8.8.8.8", "empty host"],
)
def test_tutor_chat_refuses_an_address_it_cannot_serve_on_in_one_line(options, message, monkeypatch, capsys):
    served = []
    monkeypatch.setattr("tutor.ui.serve", lambda args: served.append(args) or 0)
    code = main(["chat", *options])
    _, err = capsys.readouterr()
    assert code == 2 and not served, "the mistake must be caught before anything is loaded"
    assert message in err and err.startswith("tutor: error: ") and err.count("\n") == 1


def test_tutor_chat_goes_on_to_serve_a_good_address(monkeypatch):
    served = []
    monkeypatch.setattr("tutor.ui.serve", lambda args: served.append(args) or 0)
    assert main(["chat", "--host", "127.0.0.1", "--port", "7860"]) == 0
    assert main(["chat", "--host", "localhost", "--port", "65535"]) == 0
    assert len(served) == 2


# --------------------------------------------------------------------------- printing


@pytest.mark.parametrize(
    "text, shown",
    [
        ("red\x1b[31m.md", "red\\x1b[31m.md"),
        ("title\x1b]0;owned\x07", "title\\x1b]0;owned\\x07"),
        ("exe.\u202etxt", "exe.\\u202etxt"),
        ("bad \udcff byte", "bad \\udcff byte"),
        ("two\nlines\tand a tab, «naïve» 模型 ✓", "two\nlines\tand a tab, «naïve» 模型 ✓"),
    ],
    ids=["colour", "window title and bell", "bidi override", "lone surrogate", "ordinary text"],
)
def test_printable_shows_control_characters_as_escapes(text, shown):
    assert printable(text) == shown


def test_tutor_ask_and_index_print_file_names_with_escapes_escaped(tmp_path, corpus_dir, capsys):
    corpus = Path(shutil.copytree(corpus_dir, tmp_path / "corpus"))
    (corpus / "evil\x1b[31m\x1b]0;owned\x07.md").write_text(
        "# Zorblax\n\n## The zorblax protocol\n\nThe zorblax protocol checks every training batch twice.\n"
    )
    (corpus / "scan\x1b[2J.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(500))  # skipped, with a warning
    where = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]

    assert main(["index", *where]) == 0
    out, err = capsys.readouterr()
    assert "warning: Skipped corpus/scan\\x1b[2J.pdf" in err
    assert main(["ask", "What does the zorblax protocol check?", *where]) == 0
    out, err = capsys.readouterr()
    assert "checks every training batch twice" in out and "corpus/evil\\x1b[31m\\x1b]0;owned\\x07.md" in out
    for stream in (out, err):
        assert "\x1b" not in stream and "\x07" not in stream


# --------------------------------------------------------------------------- `tutor batch --force`


def test_batch_force_refuses_an_output_hard_linked_to_its_input(tutor, tmp_path):
    from tutor.batch import run_batch

    source = tmp_path / "exam.jsonl"
    questions = '{"id": "q1", "question": "What is model drift?"}\n'
    source.write_text(questions)
    linked = tmp_path / "answers.jsonl"  # another name for the same file
    os.link(source, linked)
    args = argparse.Namespace(input=str(source), out=str(linked), resume=False, force=True, strict=False, top_k=None)
    with pytest.raises(TutorError, match="same file"):
        run_batch(args, tutor=tutor)
    assert source.read_text() == questions


def test_same_file_tells_links_from_copies(tmp_path):
    a, copy, link = tmp_path / "a.txt", tmp_path / "copy.txt", tmp_path / "link.txt"
    a.write_text("x")
    copy.write_text("x")
    link.symlink_to(a)
    assert same_file(a, link) and same_file(a, tmp_path / "." / "a.txt")
    assert not same_file(a, copy) and not same_file(a, tmp_path / "missing.txt")
