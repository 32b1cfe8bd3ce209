"""The index on disk is never trusted when it should not be, and is rebuilt from the corpus when it can be.

Each test damages a real index (a copy of the session's) the way a disk, an editor, a killed process
or a second process would, then checks that loading notices, says so in a logged warning, rebuilds,
and answers from the course material again. Rebuilding re-embeds only what it must: the manifest's
`embedded_texts` says how many texts were embedded, and the tests hold it to the exact number.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tutor.store as store_module
from tutor import Tutor, TutorError
from tutor.store import (
    CHUNK_VECTORS,
    CHUNKS,
    MANIFEST,
    UNIT_VECTORS,
    UNITS,
    check_index,
    corpus_fingerprint,
    data_folder,
    file_sha256,
    load_index,
    open_index,
    passage_text,
    read_manifest,
    unit_texts,
)

ROOT = Path(__file__).resolve().parent.parent
DRIFT = "Performance degrades as data distributions change"




def embedded_texts(index: Path) -> int:
    return read_manifest(index)["embedded_texts"]


def texts(index: Path) -> tuple[set[str], set[str]]:
    """The passage texts and the sentence texts an index holds (what it embeds)."""
    store = load_index(index)
    passages = {passage_text(c) for c in store.chunks}
    sentences = set()
    for position, chunk in enumerate(store.chunks):
        sentences.update(unit_texts(chunk, [u for u, p in zip(store.units, store.unit_chunk) if p == position]))
    return passages, sentences


def assert_answers_model_drift(corpus: Path, index: Path) -> None:
    tutor = Tutor.load(corpus, index, generator="extractive", device="cpu")
    answer = tutor.ask("What is model drift?")
    assert not answer.abstained
    assert DRIFT in answer.citations[0].quote


def resign(index: Path, name: str) -> None:
    """Update the manifest's checksum for `name`, as a careless tool editing the index would."""
    manifest = read_manifest(index)
    manifest["checksums"][name] = file_sha256(data_folder(index) / name)
    (index / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def edit_manifest(index: Path, **changes) -> None:
    manifest = read_manifest(index)
    manifest.update(changes)
    (index / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def truncate(path: Path) -> None:
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)


def flip_last_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # inside the last vector: the file still parses, its numbers are wrong
    path.write_bytes(bytes(data))


def edit_drift_passage(index: Path) -> None:
    path = data_folder(index) / CHUNKS
    text = path.read_text(encoding="utf-8")
    assert DRIFT in text
    path.write_text(text.replace("degrades", "improves"), encoding="utf-8")


def edit_drift_passage_and_resign(index: Path) -> None:
    edit_drift_passage(index)
    resign(index, CHUNKS)


# damage, what the reason must say, which texts must be embedded again
DAMAGE = {
    "truncated chunks.faiss": (
        lambda i: truncate(data_folder(i) / CHUNK_VECTORS), "chunks.faiss does not match", "passages"),
    "corrupted byte in units.npy": (
        lambda i: flip_last_byte(data_folder(i) / UNIT_VECTORS), "units.npy does not match", "sentences"),
    "missing units.jsonl": (lambda i: (data_folder(i) / UNITS).unlink(), "units.jsonl is missing", "sentences"),
    "chunks.jsonl edited": (edit_drift_passage, "chunks.jsonl does not match", "all"),
    "manifest gives another dimension": (
        lambda i: edit_manifest(i, dim=768), "the manifest says dimension 768", "all"),
    "manifest is not JSON": (lambda i: (i / MANIFEST).write_text("{ not json", encoding="utf-8"), "unreadable", "all"),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_damaged_index_is_detected_and_rebuilt_with_a_warning(case, corpus_dir, index, caplog):
    passages, sentences = texts(index)
    damage, reason, redo = DAMAGE[case]
    damage(index)

    assert reason in (check_index(index, corpus_fingerprint(corpus_dir)) or "")
    with caplog.at_level(logging.WARNING, logger="tutor.store"):
        assert_answers_model_drift(corpus_dir, index)
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "cannot be used" in warning and reason in warning and "rebuilding" in warning

    assert check_index(index, corpus_fingerprint(corpus_dir)) is None
    # Only the texts whose vectors were in the damaged files are embedded again.
    expected = {"passages": passages - sentences, "sentences": sentences - passages, "all": passages | sentences}
    assert embedded_texts(index) == len(expected[redo])


# Cheaper: the same detection, without paying for the rebuild each time.
@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda i: (data_folder(i) / CHUNK_VECTORS).unlink(), "chunks.faiss is missing"),
        (lambda i: (i / MANIFEST).unlink(), "manifest.json is missing"),
        (lambda i: (data_folder(i) / UNIT_VECTORS).write_bytes(b""), "units.npy does not match"),
        (edit_drift_passage_and_resign, "edited after it was indexed"),
        (lambda i: edit_manifest(i, checksums={}), "chunks.jsonl does not match"),
        (lambda i: edit_manifest(i, embedding_model="all-mpnet-base-v2"), "embedding_model 'all-mpnet-base-v2'"),
        (lambda i: edit_manifest(i, dim="384"), "no valid dimension"),
        (lambda i: edit_manifest(i, chunker_version="0"), "chunker_version"),
        (lambda i: (i / MANIFEST).write_text("[1, 2]", encoding="utf-8"), "unreadable"),
    ],
    ids=["no chunks.faiss", "no manifest", "empty units.npy", "edited and re-signed", "no checksums",
         "another model", "dimension not a number", "another chunker", "manifest not an object"],
)
def test_more_damage_is_detected(index, corpus_dir, damage, reason):
    assert check_index(index, corpus_fingerprint(corpus_dir)) is None
    damage(index)
    assert reason in (check_index(index, corpus_fingerprint(corpus_dir)) or "")


def test_an_empty_index_folder_is_built_without_alarm(tmp_path):
    assert check_index(tmp_path, {}) == "there is no index yet"


def test_a_passage_dropped_from_chunks_jsonl_is_detected_even_with_its_checksum_updated(index, corpus_dir):
    path = data_folder(index) / CHUNKS
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")
    resign(index, CHUNKS)
    assert "passages" in check_index(index, corpus_fingerprint(corpus_dir))


def test_unit_vectors_of_another_shape_are_rejected_even_with_their_checksum_updated(index, corpus_dir):
    path = data_folder(index) / UNIT_VECTORS
    vectors = np.load(path, allow_pickle=False)
    np.save(path, vectors[:-1])
    resign(index, UNIT_VECTORS)
    assert "units.npy has shape" in check_index(index, corpus_fingerprint(corpus_dir))


@pytest.mark.parametrize("corpus_state", ["gone", "empty", "only a binary file"])
def test_a_damaged_index_without_a_usable_corpus_stops_with_a_clear_error(corpus, index, corpus_state):
    truncate(data_folder(index) / CHUNK_VECTORS)
    shutil.rmtree(corpus)
    if corpus_state != "gone":
        corpus.mkdir()
    if corpus_state == "only a binary file":
        (corpus / "notes.txt").write_bytes(bytes(range(256)) * 8)
    with pytest.raises(TutorError) as error:
        Tutor.load(corpus, index, generator="extractive", device="cpu")
    message = str(error.value)
    if corpus_state == "gone":
        assert "Corpus folder not found" in message and str(corpus) in message
    else:
        assert "No readable course documents" in message
    if corpus_state == "only a binary file":
        assert "notes.txt" in message and "binary" in message


def generations(index: Path) -> list[str]:
    return sorted(p.name for p in index.glob("generation-*"))


def test_a_full_disk_during_an_update_leaves_the_previous_index_answering(corpus, index, monkeypatch):
    extra = corpus / "extra.md"
    extra.write_text("# Extra\n\n## Zorblax Protocol\n\nThe zorblax protocol checks every batch twice.\n")
    manifest, before = (index / MANIFEST).read_bytes(), generations(index)
    writes = {"n": 0}
    real_write = store_module._write_file

    def disk_full_at_second_file(path, data):
        writes["n"] += 1
        if writes["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device (simulated)")
        real_write(path, data)

    monkeypatch.setattr("tutor.store._write_file", disk_full_at_second_file)
    with pytest.raises(TutorError, match="No space left on device.*unchanged"):
        open_index(corpus, index, keep_serving=False)  # what `tutor index` asks: the update must not pass silently
    assert writes["n"] == 2
    assert (index / MANIFEST).read_bytes() == manifest and generations(index) == before  # no half generation

    # Asking questions meanwhile: the previous generation answers, and says it is behind.
    writes["n"] = 0
    tutor = Tutor.load(corpus, index, generator="extractive", device="cpu")
    assert DRIFT in tutor.ask("What is model drift?").citations[0].quote
    assert any("No space left" in w and "previous index" in w and "extra.md" in w for w in tutor.store.warnings)
    monkeypatch.undo()

    extra.unlink()
    assert check_index(index, corpus_fingerprint(corpus)) is None  # untouched: nothing to rebuild
    extra.write_text("# Extra\n\n## Zorblax Protocol\n\nThe zorblax protocol checks every batch twice.\n")
    assert any(c.source == "corpus/extra.md" for c in open_index(corpus, index).chunks)
    after = generations(index)
    assert len(after) == 1 and after != before  # switched, and the previous generation is gone


def test_a_build_killed_at_the_switch_leaves_the_previous_index_and_no_litter(corpus, index, monkeypatch):
    extra = corpus / "extra.md"
    extra.write_text("# Extra\n\n## Zorblax Protocol\n\nThe zorblax protocol checks every batch twice.\n")
    manifest, before = (index / MANIFEST).read_bytes(), generations(index)
    real_replace = os.replace

    def die_at_switch(src, dst):
        if Path(dst).name == MANIFEST:
            raise KeyboardInterrupt  # the user pressed Ctrl-C at the worst moment
        real_replace(src, dst)

    monkeypatch.setattr("tutor.store.os.replace", die_at_switch)
    with pytest.raises(KeyboardInterrupt):
        open_index(corpus, index)
    monkeypatch.undo()
    assert (index / MANIFEST).read_bytes() == manifest and generations(index) == before
    extra.unlink()
    assert check_index(index, corpus_fingerprint(corpus)) is None


def test_a_generation_left_by_a_killed_build_is_removed_by_the_next_build(corpus, index):
    (corpus / "extra.md").write_text("# Extra\n\n## Zorblax Protocol\n\nThe zorblax protocol checks batches.\n")
    orphan = index / "generation-0123456789abcdef"  # as `kill -9` half-way through writing would leave it
    orphan.mkdir()
    (orphan / CHUNKS).write_text("{half a line")
    open_index(corpus, index)
    assert not orphan.exists() and len(generations(index)) == 1


def test_corpus_changes_are_noticed_and_only_new_text_is_embedded(corpus, index, caplog):
    article = next(corpus.glob("*.txt"))
    before_passages, before_sentences = texts(index)
    before = before_passages | before_sentences

    # A new file: its passages and sentences, and nothing else, are embedded.
    (corpus / "extra.md").write_text(
        "# Extra Notes\n\n## Zorblax Protocol\n\n"
        "The zorblax protocol checks every training batch twice before it is used.\n\n"
        "- It was named after a lab cat.\n- It costs about ten percent more compute.\n"
    )
    with caplog.at_level(logging.INFO, logger="tutor.store"):
        tutor = Tutor.load(corpus, index, generator="extractive", device="cpu")
    assert "added: corpus/extra.md" in caplog.text
    after = set().union(*texts(index))
    assert embedded_texts(index) == len(after - before) > 0
    answer = tutor.ask("What does the zorblax protocol check?")
    assert answer.citations[0].source == "corpus/extra.md"
    assert "checks every training batch twice" in answer.text

    # A changed file: only the edited paragraph's texts are new.
    text = article.read_text(encoding="utf-8")
    edited = text.replace("to self-driving cars.", "to self-driving cars and delivery robots.")
    assert edited != text
    article.write_text(edited, encoding="utf-8")
    before = after
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tutor.store"):
        tutor = Tutor.load(corpus, index, generator="extractive", device="cpu")
    assert f"changed: corpus/{article.name}" in caplog.text
    after = set().union(*texts(index))
    assert 0 < embedded_texts(index) == len(after - before) <= 5
    answer = tutor.ask("What kinds of products does deep learning power?")
    assert "delivery robots" in answer.citations[0].text

    # A removed file: nothing to embed, and its passages are gone.
    (corpus / "extra.md").unlink()
    tutor = Tutor.load(corpus, index, generator="extractive", device="cpu")
    assert embedded_texts(index) == 0
    assert all(c.source != "corpus/extra.md" for c in tutor.store.chunks)
    assert tutor.ask("What does the zorblax protocol check?").abstained


def _tutor_cli(*args: str, timeout: float = 300) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "tutor", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_index_runs_at_once_both_succeed_and_leave_a_valid_index(corpus, index):
    (corpus / "extra.md").write_text("# Extra\n\n## Zorblax Protocol\n\nThe zorblax protocol checks batches.\n")
    args = ("index", "--rebuild", "--corpus", str(corpus), "--index", str(index))
    runs = [_tutor_cli(*args), _tutor_cli(*args)]
    results = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, results):
        assert run.returncode == 0, err
        assert "Index built" in out and "Traceback" not in err
    # The lock makes them take turns, and the second finds the fresh index the first has just built:
    # the corpus is embedded once.
    assert sum("Embedding" in out for out, _ in results) == 1
    store = load_index(index, corpus_fingerprint(corpus))  # raises if anything is inconsistent
    assert any(c.source == "corpus/extra.md" for c in store.chunks)
    assert len(generations(index)) == 1


def test_cli_ask_on_a_truncated_index_rebuilds_and_answers(corpus_dir, index):
    truncate(data_folder(index) / CHUNK_VECTORS)
    run = _tutor_cli("ask", "--json", "What is model drift?", "--corpus", str(corpus_dir), "--index", str(index))
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert "Traceback" not in err
    assert "cannot be used" in err and "rebuilding" in err  # the warning reaches the user
    answer = json.loads(out)
    assert not answer["abstained"] and DRIFT in answer["citations"][0]["quote"]


def test_cli_ask_on_a_truncated_index_without_its_corpus_stops_with_a_clear_message(tmp_path, index):
    truncate(data_folder(index) / CHUNK_VECTORS)
    missing = tmp_path / "no-such-corpus"
    run = _tutor_cli("ask", "--json", "What is model drift?", "--corpus", str(missing), "--index", str(index))
    out, err = run.communicate(timeout=120)
    assert run.returncode != 0
    assert out == "" and "Traceback" not in err
    assert "tutor: error: Corpus folder not found" in err and str(missing) in err
