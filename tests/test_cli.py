"""The `tutor` command as a user runs it: a real process, the real article, a real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .conftest import ROOT


def run(*args, **kw):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args], capture_output=True, text=True, env=env, timeout=300, **kw
    )


def test_ask_json_answers_with_the_model_drift_sentence(corpus_dir, index_dir):
    out = run("ask", "--json", "What is model drift?", "--corpus", str(corpus_dir), "--index", str(index_dir))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["abstained"] is False and data["generator"] == "extractive"
    assert "Performance degrades as data distributions change" in data["citations"][0]["text"]


def test_ask_off_topic_says_the_material_does_not_cover_it(corpus_dir, index_dir):
    out = run(
        "ask", "What is the best recipe for sourdough bread?", "--corpus", str(corpus_dir), "--index", str(index_dir)
    )
    assert out.returncode == 0
    assert "does not cover" in out.stdout


def test_a_user_mistake_is_one_line_without_traceback(corpus_dir, index_dir, tmp_path):
    out = run("ask", "   ", "--corpus", str(corpus_dir), "--index", str(index_dir))
    assert out.returncode != 0 and "Traceback" not in out.stderr and "empty" in out.stderr
    out = run("ask", "What?", "--corpus", str(tmp_path / "nowhere"), "--index", str(tmp_path / "idx"))
    assert out.returncode != 0 and "Traceback" not in out.stderr and "Corpus folder not found" in out.stderr


def test_index_reports_an_up_to_date_index(corpus_dir, index_dir):
    out = run("index", "--corpus", str(corpus_dir), "--index", str(index_dir))
    assert out.returncode == 0 and "up to date" in out.stdout


def test_help_lists_the_commands():
    out = run("--help")
    assert out.returncode == 0
    for command in ("ask", "batch", "index", "chat", "eval"):
        assert command in out.stdout
