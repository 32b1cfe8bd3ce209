"""`tutor batch` on the real article: every input and output format, bad rows, resume, and a killed run."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tutor import TutorError
from tutor.batch import read_questions, run_batch
from tutor.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
DRIFT = "Performance degrades as data distributions change"


def batch(tutor, source: Path, out: Path, *flags: str) -> int:
    args = build_parser().parse_args(["batch", str(source), "--out", str(out), *flags])
    return run_batch(args, tutor=tutor)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def log_of(sheet: Path) -> Path:
    """The answer log beside a printable sheet."""
    return sheet.with_name(sheet.name + ".log.jsonl")


class UnusedTutor:
    """Stands in for the tutor where the batch must stop before answering anything."""

    def __getattr__(self, name):
        raise AssertionError(f"the tutor was used ({name}) although the batch should have stopped first")


# ---------------------------------------------------------------- formats


def test_text_file_one_question_per_line_gives_json_lines_with_line_numbers_as_ids(tutor, tmp_path, capsys):
    source = tmp_path / "questions.txt"
    source.write_text("What is model drift?\n\n   \nWho won the 2018 World Cup?\n", encoding="utf-8")
    out = tmp_path / "answers.jsonl"

    assert batch(tutor, source, out) == 0

    drift, cup = read_jsonl(out)
    assert (drift["id"], cup["id"]) == ("1", "4")
    assert DRIFT in drift["answer"] and not drift["abstained"] and drift["error"] is None
    assert drift["citations"][0]["section"].endswith("Industry Challenges")
    assert cup["abstained"] and cup["citations"] == []
    assert set(drift) >= {"id", "question", "answer", "abstained", "generator", "citations", "latency_ms", "error"}
    summary = capsys.readouterr().err
    assert "1 answered, 1 abstained, 0 errors" in summary and "questions/s" in summary


def test_csv_keeps_ids_and_carries_other_columns_through(tutor, tmp_path):
    source = tmp_path / "exam.csv"
    with open(source, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "question", "topic", "answer", "highlights"])
        w.writerow(["drift", "What is model drift?", "industry", "data changes", "drift"])
        w.writerow(["", "What is the primary goal in academia?", "academia", "knowledge", ""])
    out_jsonl, out_csv = tmp_path / "answers.jsonl", tmp_path / "answers.csv"

    assert batch(tutor, source, out_jsonl) == 0
    assert batch(tutor, source, out_csv) == 0

    first, second = read_jsonl(out_jsonl)
    assert first["id"] == "drift" and second["id"] == "2"  # a missing id becomes the row number
    assert first["topic"] == "industry"
    assert first["input_answer"] == "data changes"  # the input's column does not overwrite the tutor's answer
    assert first["input_highlights"] == "drift" and isinstance(first["highlights"], list)  # nor a later field
    assert DRIFT in first["answer"]
    with open(out_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "id", "question", "answer", "abstained", "sources", "error", "interpreted_as", "topic", "input_answer",
        "input_highlights"
    ]
    assert [r["id"] for r in rows] == ["drift", "2"]
    assert DRIFT in rows[0]["answer"] and rows[0]["abstained"] == "false" and rows[0]["error"] == ""
    sources = rows[0]["sources"].split(" | ")
    assert sources[0] == (
        f"Challenges in Each Perspective › Industry Challenges (deep-learning-academic-vs-industry.txt) — Model Drift: {DRIFT}"
    )
    assert all(f"[{n}]" in rows[0]["answer"] for n in range(1, len(sources) + 1))  # the quoted passages only
    assert "knowledge creation" in rows[1]["answer"] and rows[1]["topic"] == "academia"
    assert rows[0]["interpreted_as"] == "" and first["interpreted_as"] is None  # asked as the course writes it


def test_a_question_with_a_slip_says_how_it_was_read_in_every_output(tutor, tmp_path):
    source = tmp_path / "exam.txt"
    source.write_text("What is modle drift?\n", encoding="utf-8")
    for out in (tmp_path / "answers.csv", tmp_path / "answers.jsonl"):
        assert batch(tutor, source, out) == 0
    with open(tmp_path / "answers.csv", newline="", encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    (entry,) = read_jsonl(tmp_path / "answers.jsonl")
    assert row["question"] == entry["question"] == "What is modle drift?"
    assert row["interpreted_as"] == entry["interpreted_as"] == "What is model drift?"
    assert DRIFT in row["answer"]


def test_numbered_markdown_exam_becomes_a_printable_answer_sheet(tutor, tmp_path):
    source = tmp_path / "midterm.md"
    source.write_text(
        "# Midterm\n\nAnswer every question in your own words.\n\n"
        "1. What is model drift?\n\n"
        "Q2) What is the primary goal\nin academia?\n\n"
        "**3.** Who won the 2018 World Cup?\n",
        encoding="utf-8",
    )
    out = tmp_path / "answers.md"

    assert batch(tutor, source, out) == 0

    sheet = out.read_text(encoding="utf-8")
    assert sheet.startswith(f"# Midterm\n\n**Answer key** · Course: {tutor.title} · ")
    assert "### 1. What is model drift?\n\n" in sheet
    assert "### 2. What is the primary goal in academia?" in sheet  # the continuation line belongs to it
    assert f"> [1] “Model Drift: {DRIFT}” — Challenges in Each Perspective › Industry Challenges, " in sheet
    assert "Answer every question" not in sheet  # instructions are not a question
    assert "### 3. Who won the 2018 World Cup?\n\n*Not covered by the course material.*" in sheet
    assert "<!--" not in sheet
    # The answers behind the sheet, for --resume: a JSON-lines log beside it.
    assert [a["id"] for a in read_jsonl(log_of(out))] == ["1", "2", "3"]


def test_an_exam_with_a_blank_item_keeps_every_item_and_the_counts_add_up(tutor, tmp_path, capsys):
    questions = ["What is deep learning?", "What is model drift?", "What is the primary goal in academia?",
                 "Which conferences are top venues for academic research?", "",
                 "How do academia and industry differ in risk tolerance?", "Who won the 2018 World Cup?",
                 "What are the challenges in industry?"]
    source = tmp_path / "exam.md"
    source.write_text("# Quiz\n\n" + "".join(f"{n}. {q}\n" for n, q in enumerate(questions, 1)), encoding="utf-8")
    out_csv, out_md = tmp_path / "answers.csv", tmp_path / "answers.md"

    assert batch(tutor, source, out_csv) == 0
    counts = re.search(r"(\d+) answered, (\d+) abstained, (\d+) errors", capsys.readouterr().err)
    assert sum(int(n) for n in counts.groups()) == 8 and counts.group(3) == "1"
    assert batch(tutor, source, out_md) == 0

    with open(out_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == [str(n) for n in range(1, 9)]
    assert rows[3]["question"] == "Which conferences are top venues for academic research?"
    assert rows[4]["question"] == "" and "item 5 (line 7) has no question text" in rows[4]["error"]
    sheet = out_md.read_text(encoding="utf-8")
    assert "### 4. Which conferences are top venues for academic research?\n" in sheet
    assert "### 5. *(no question text)*\n\n*Not answered: item 5 (line 7) has no question text.*" in sheet


def test_text_exam_is_numbered_only_when_most_lines_are_numbered_questions(tmp_path):
    exam = tmp_path / "exam.txt"
    exam.write_text("Final exam\n1. What is model drift?\n2) What is deep learning?\nQ3. Why?\n", encoding="utf-8")
    assert [(r.id, r.question) for r in read_questions(exam)] == [
        ("1", "What is model drift?"),
        ("2", "What is deep learning?"),
        ("3", "Why?"),
    ]
    plain = tmp_path / "plain.txt"
    plain.write_text("What is model drift?\n2. A numbered line among plain ones\nWhat is deep learning?\n")
    assert [(r.id, r.question) for r in read_questions(plain)][1] == ("2", "2. A numbered line among plain ones")


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_user_text_cannot_break_the_answer_sheet(tutor, tmp_path, suffix):
    source = tmp_path / "q.jsonl"
    source.write_text(json.dumps({"id": "x -->\n# y", "question": "# Heading?\n<!-- end -->\n<script>x</script>"}))
    out = tmp_path / f"answers{suffix}"

    assert batch(tutor, source, out) == 0

    sheet = out.read_text(encoding="utf-8")
    assert "<!--" not in sheet and "<script>" not in sheet
    assert "# Heading? &lt;!-- end --&gt; &lt;script&gt;x&lt;/script&gt;" in sheet
    assert "\n# Heading" not in sheet and "\n# y" not in sheet
    assert [a["id"] for a in read_jsonl(log_of(out))] == ["x -->\n# y"]


def test_csv_cells_are_safe_to_open_in_a_spreadsheet_and_resume_still_finds_them(tutor, tmp_path):
    source = tmp_path / "q.jsonl"
    records = [
        {"id": "=1+1", "question": '=HYPERLINK("http://x.test","What is model drift?")', "points": "-3"},
        {"id": "@id", "question": "+What is deep learning?", "points": "=cmd|' /C calc'!A0"},
        {"id": "3", "question": "-What is model drift?", "points": "\tx"},
        {"id": "4", "question": "What is model drift?", "points": "\rx"},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "answers.csv"

    assert batch(tutor, source, out) == 0

    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["'=1+1", "'@id", "3", "4"]
    assert rows[0]["question"] == '\'=HYPERLINK("http://x.test","What is model drift?")'
    assert rows[0]["points"] == "-3"  # a number stays a number
    assert rows[1]["question"] == "'+What is deep learning?" and rows[1]["points"] == "'=cmd|' /C calc'!A0"
    assert rows[2]["question"] == "'-What is model drift?" and rows[2]["points"] == "'\tx"
    assert rows[3]["points"] == "'\rx"
    formula_starts = ("=", "+", "-", "@", "\t", "\r")
    cells = [c for r in rows for c in r.values()]
    assert not [c for c in cells if c.startswith(formula_starts) and c != "-3"]

    assert batch(UnusedTutor(), source, out, "--resume") == 0  # the escaped ids are known as done


def test_csv_and_jsonl_carry_each_quote_and_page(tutor, tmp_path):
    from tutor.batch import sources_cell
    from tutor.models import Answer, Citation

    cited = Citation(1, "c1", "corpus/notes.pdf", "Industry › Drift", "Intro. Drift is change. More.", "Drift is change", 0.5, 7)
    uncited = Citation(2, "c2", "corpus/notes.pdf", "Other", "Other text.", "Other text.", 0.4)
    answer = Answer("What is drift?", "Drift is change [1]", False, "extractive", (cited, uncited), id="1")
    assert sources_cell(answer) == "Industry › Drift (notes.pdf, p. 7) — Drift is change"

    source = tmp_path / "q.txt"
    source.write_text("What is model drift?\n")
    assert batch(tutor, source, tmp_path / "a.jsonl") == 0
    quoted = read_jsonl(tmp_path / "a.jsonl")[0]["citations"][0]
    assert quoted["quote"] == f"Model Drift: {DRIFT}" and "page" in quoted


# ---------------------------------------------------------------- bad input


def test_bad_rows_are_recorded_and_the_rest_answered(tutor, tmp_path, capsys):
    source = tmp_path / "q.jsonl"
    source.write_text(
        '{"id": "a", "question": "What is model drift?"}\n'
        '{"id": "b", "question": "What is model drift?"\n'
        '{"id": "c", "question": ""}\n'
        '{"id": "d", "question": "' + "x" * 5000 + '"}\n'
        '{"id": "e"}\n'
        '{"id": "f", "question": "What is the primary goal in academia?"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "answers.jsonl"

    assert batch(tutor, source, out) == 0

    by_id = {a["id"]: a for a in read_jsonl(out)}
    assert list(by_id) == ["a", "2", "c", "d", "e", "f"]  # an unreadable line is known by its line number
    assert "line 2 is not valid JSON" in by_id["2"]["error"]
    assert "empty" in by_id["c"]["error"]
    assert "limit" in by_id["d"]["error"]
    assert 'line 5 has no "question"' in by_id["e"]["error"]
    assert DRIFT in by_id["a"]["answer"] and "knowledge creation" in by_id["f"]["answer"]
    assert "2 answered, 0 abstained, 4 errors" in capsys.readouterr().err

    assert batch(tutor, source, out, "--force", "--strict") == 1


def test_duplicate_ids_are_refused_by_name_before_any_work(tmp_path):
    source = tmp_path / "q.csv"
    source.write_text("id,question\nq1,What is model drift?\nq2,What?\nq1,Again?\nq2,And?\nq3,Ok?\n")
    out = tmp_path / "answers.jsonl"
    with pytest.raises(TutorError, match="2 duplicate question id.*'q1', 'q2'"):
        batch(UnusedTutor(), source, out)
    assert not out.exists()


def test_unreadable_inputs_are_one_clear_error(tmp_path, capsys):
    no_column = tmp_path / "q.csv"
    no_column.write_text("id,text\n1,What is model drift?\n")
    binary = tmp_path / "q.txt"
    binary.write_bytes(b"\xff\xfe\x00What\x00")
    cases = {
        no_column: "no 'question' column (columns found: 'id', 'text')",
        binary: "not UTF-8",
        tmp_path / "missing.txt": "no such file",
        tmp_path / "q.docx": "use a .txt, .csv, .jsonl",
    }
    for source, message in cases.items():
        assert main(["batch", str(source), "--out", str(tmp_path / "a.jsonl")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("tutor: error: ") and message in err and "Traceback" not in err
        assert not (tmp_path / "a.jsonl").exists()


def test_existing_output_is_kept_unless_forced(tutor, tmp_path):
    source = tmp_path / "q.txt"
    source.write_text("What is model drift?\n")
    out = tmp_path / "answers.csv"
    out.write_text("precious\n")

    with pytest.raises(TutorError, match="already exists: use --resume .* or --force"):
        batch(UnusedTutor(), source, out)
    assert out.read_text() == "precious\n"

    assert batch(tutor, source, out, "--force") == 0
    assert "precious" not in out.read_text() and DRIFT in out.read_text()


# ---------------------------------------------------------------- resume


QUESTIONS = ["What is model drift?", "What is the primary goal in academia?", "What is deep learning?",
             "Who won the 2018 World Cup?", "How do academia and industry differ in risk tolerance?"]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_resume_drops_a_cut_entry_keeps_the_rest_and_answers_what_is_missing(tutor, tmp_path, suffix):
    source = tmp_path / "q.txt"
    source.write_text("\n".join(QUESTIONS) + "\n")
    out = tmp_path / f"answers{suffix}"
    assert batch(tutor, source, out) == 0
    full = out.read_bytes()
    # A killed run: the first two answers whole (marked, to see that resume keeps them), the third cut short.
    third = {".jsonl": b'{"id": "3"', ".csv": b"3,What"}[suffix]
    start = full.index(third)
    kept = full[:start].replace(b"data distributions change", b"KEPT FROM THE FIRST RUN")
    out.write_bytes(kept + full[start : start + len(third) + 40])

    assert batch(tutor, source, out, "--resume") == 0

    assert b"KEPT FROM THE FIRST RUN" in kept and out.read_bytes().startswith(kept)
    if suffix == ".jsonl":
        ids = [a["id"] for a in read_jsonl(out)]
    else:
        with open(out, newline="", encoding="utf-8") as f:
            ids = [r["id"] for r in csv.DictReader(f)]
    assert ids == ["1", "2", "3", "4", "5"]
    assert out.read_text(encoding="utf-8").count("What is deep learning?") == 1  # nothing left of the cut entry


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_a_sheet_resumes_from_its_log_and_is_rendered_whole_again(tutor, tmp_path, suffix):
    source = tmp_path / "q.txt"
    source.write_text("\n".join(QUESTIONS) + "\n")
    out = tmp_path / f"answers{suffix}"
    assert batch(tutor, source, out) == 0
    full = log_of(out).read_bytes()
    # A killed run: two answers logged whole (marked, to see that resume keeps them), the third cut short,
    # and the sheet as it was published after the first batch of a longer run.
    start = full.index(b'{"id": "3"')
    kept = full[:start].replace(b"data distributions change", b"KEPT FROM THE FIRST RUN")
    log_of(out).write_bytes(kept + full[start : start + 50])
    out.write_text("an older sheet", encoding="utf-8")

    assert batch(tutor, source, out, "--resume") == 0

    assert log_of(out).read_bytes().startswith(kept)
    assert [a["id"] for a in read_jsonl(log_of(out))] == ["1", "2", "3", "4", "5"]
    sheet = out.read_text(encoding="utf-8")
    assert "KEPT FROM THE FIRST RUN" in sheet and "older sheet" not in sheet
    positions = [sheet.index(q) for q in QUESTIONS]
    assert positions == sorted(positions) and all(sheet.count(q) == 1 for q in QUESTIONS)


def test_a_sheet_without_its_log_is_not_resumed_and_neither_file_is_overwritten_unasked(tutor, tmp_path):
    source = tmp_path / "q.txt"
    source.write_text("What is model drift?\n")
    out = tmp_path / "answers.html"
    out.write_text("a sheet from elsewhere")
    with pytest.raises(TutorError, match="its answer log answers.html.log.jsonl is not beside it.*--force"):
        batch(UnusedTutor(), source, out, "--resume")
    out.unlink()
    log_of(out).write_text("{}\n")
    with pytest.raises(TutorError, match="answers.html.log.jsonl already exists: use --resume .* or --force"):
        batch(UnusedTutor(), source, out)
    with pytest.raises(TutorError, match="--sheet student makes a printable sheet: .* not .csv"):
        batch(UnusedTutor(), source, tmp_path / "a.csv", "--sheet", "student")
    # A student sheet has no answers, so no log: with --resume it is written again.
    student = tmp_path / "student.html"
    student.write_text("an older student sheet")
    assert batch(tutor, source, student, "--sheet", "student", "--resume") == 0
    assert "What is model drift?" in student.read_text() and not log_of(student).exists()


def test_resume_when_everything_is_done_answers_nothing(tmp_path, tutor, capsys):
    source = tmp_path / "q.txt"
    source.write_text("What is model drift?\n")
    out = tmp_path / "answers.jsonl"
    assert batch(tutor, source, out) == 0
    before = out.read_bytes()
    assert batch(UnusedTutor(), source, out, "--resume") == 0
    assert out.read_bytes() == before
    assert "0 answered, 0 abstained, 0 errors" in capsys.readouterr().err.splitlines()[-1]


# ---------------------------------------------------------------- a real process, killed


def start_batch(corpus_dir, index_dir, tmp_path, sigint=signal.SIG_DFL):
    """A real `tutor batch` process over 300 questions, started with SIGINT handled as `sigint`, once it
    has written its first answers."""
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "questions" / "questions.jsonl").open()]
    source = tmp_path / "many.jsonl"
    with open(source, "w", encoding="utf-8") as f:
        for n in range(300):
            f.write(json.dumps({"id": f"q{n}", "question": questions[n % len(questions)]}) + "\n")
    index = tmp_path / "index"
    shutil.copytree(index_dir, index)  # so the process does not wait on the session index's lock
    out = tmp_path / "answers.jsonl"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tutor", "batch", str(source), "--out", str(out),
               "--corpus", str(corpus_dir), "--index", str(index)]
    # SIGINT is set explicitly: a child inherits an ignored SIGINT (say, from a shell's background job).
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 32:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be stopped: " + process.stderr.read().decode()
    return process, source, out


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_an_interrupted_run_leaves_a_valid_file_and_resume_completes_it(
    tutor, corpus_dir, index_dir, tmp_path, how
):
    process, source, out = start_batch(corpus_dir, index_dir, tmp_path)
    try:
        process.send_signal(how)
        process.wait(timeout=30)
    finally:
        process.kill()
    err = process.stderr.read().decode()
    process.stderr.close()

    data = out.read_bytes()
    if how == signal.SIGINT:
        # Ctrl-C waits for the batch being written: the file ends with a whole line.
        assert process.returncode == 130 and data.endswith(b"\n")
        assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    complete = data.split(b"\n")[:-1]  # a kill may cut the last line short; every other line is whole
    answers = [json.loads(line) for line in complete]
    assert 32 <= len(answers) < 300
    assert [a["id"] for a in answers] == [f"q{n}" for n in range(len(answers))]
    assert all(a["error"] is None for a in answers)
    assert "Answering" not in err  # no progress bar when stderr is not a terminal

    assert batch(tutor, source, out, "--resume") == 0

    assert [a["id"] for a in read_jsonl(out)] == [f"q{n}" for n in range(300)]


def test_a_run_started_with_ctrl_c_ignored_keeps_ignoring_it(corpus_dir, index_dir, tmp_path):
    process, _, out = start_batch(corpus_dir, index_dir, tmp_path, sigint=signal.SIG_IGN)
    try:
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            process.send_signal(signal.SIGINT)  # often, so that some land while answers are written
            time.sleep(0.002)
        process.wait(timeout=5)
    finally:
        process.kill()
    process.stderr.close()
    assert process.returncode == 0
    assert [a["id"] for a in read_jsonl(out)] == [f"q{n}" for n in range(300)]
