"""The index on disk: built on first use, trusted only while it matches the corpus and the model."""

from __future__ import annotations

import json
import shutil

import numpy as np

from tutor.store import MANIFEST, check_index, corpus_fingerprint, data_folder, open_index


def copy(tmp_path, corpus_dir, index_dir):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(corpus_dir, corpus)
    shutil.copytree(index_dir, index)
    return corpus, index


def test_a_fresh_index_is_current_and_records_what_it_was_built_from(corpus_dir, index_dir):
    assert check_index(index_dir, corpus_fingerprint(corpus_dir)) is None
    manifest = json.loads((index_dir / MANIFEST).read_text())
    assert manifest["embedding_model"] == "all-MiniLM-L6-v2" and manifest["dim"] == 384
    assert set(manifest["corpus"]) == {"corpus/deep-learning-academic-vs-industry.txt"}
    assert set(manifest["checksums"]) >= {"chunks.faiss", "chunks.jsonl", "units.npy", "units.jsonl"}


def test_adding_a_file_re_embeds_only_the_new_text(tmp_path, corpus_dir, index_dir):
    corpus, index = copy(tmp_path, corpus_dir, index_dir)
    (corpus / "extra.md").write_text("# Extra\n\n## Dropout\n\nDropout randomly zeroes activations.\n")
    assert check_index(index, corpus_fingerprint(corpus)) == "the corpus has changed since it was built"
    store = open_index(corpus, index)
    manifest = json.loads((index / MANIFEST).read_text())
    assert store.rebuilt
    assert 0 < manifest["embedded_texts"] <= 3
    assert any("Dropout randomly" in c.text for c in store.chunks)


def test_removing_a_file_drops_its_passages(tmp_path, corpus_dir, index_dir):
    corpus, index = copy(tmp_path, corpus_dir, index_dir)
    (corpus / "extra.txt").write_text("Extra Notes\n\nGradient clipping keeps updates small.\n")
    open_index(corpus, index)
    (corpus / "extra.txt").unlink()
    store = open_index(corpus, index)
    assert not any("clipping" in c.text for c in store.chunks)
    assert json.loads((index / MANIFEST).read_text())["embedded_texts"] == 0


def test_an_index_from_another_model_is_not_trusted(tmp_path, corpus_dir, index_dir):
    corpus, index = copy(tmp_path, corpus_dir, index_dir)
    manifest = json.loads((index / MANIFEST).read_text())
    manifest["embedding_model"] = "some-other-model"
    (index / MANIFEST).write_text(json.dumps(manifest))
    assert "embedding_model" in check_index(index, corpus_fingerprint(corpus))
    store = open_index(corpus, index)
    assert store.rebuilt and check_index(index, corpus_fingerprint(corpus)) is None


def test_a_damaged_index_file_is_detected_and_rebuilt(tmp_path, corpus_dir, index_dir):
    corpus, index = copy(tmp_path, corpus_dir, index_dir)
    path = data_folder(index) / "chunks.faiss"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "checksum" in check_index(index, corpus_fingerprint(corpus))
    store = open_index(corpus, index)
    assert store.rebuilt and store.chunk_index.ntotal == len(store.chunks)


def test_vectors_from_another_embedding_text_recipe_are_not_reused(tmp_path, corpus_dir, index_dir):
    corpus, index = copy(tmp_path, corpus_dir, index_dir)
    manifest = json.loads((index / MANIFEST).read_text())
    manifest["embedding_text_version"] = manifest["embedding_text_version"] - 1
    (index / MANIFEST).write_text(json.dumps(manifest))
    fresh = open_index(corpus_dir, index_dir)
    store = open_index(corpus, index)
    rebuilt = json.loads((index / MANIFEST).read_text())
    assert store.rebuilt and rebuilt["embedded_texts"] >= rebuilt["chunks"]
    assert np.allclose(store.unit_vectors, fresh.unit_vectors, atol=1e-5)


def test_a_sentence_opening_with_a_pronoun_is_embedded_with_the_sentence_before():
    from tutor.chunking import split_units
    from tutor.models import Chunk
    from tutor.store import unit_texts

    text = (
        "A sourdough starter is a culture of wild yeast. It doubles in size after each feeding.\n"
        "- Keep it warm\n- It needs flour daily"
    )
    chunk = Chunk("c1", "bread.md", "Bread › Starter", text, 0, len(text))
    embedded = unit_texts(chunk, split_units(text))
    assert embedded[0] == "Starter: A sourdough starter is a culture of wild yeast."  # short: its heading
    assert embedded[1] == "A sourdough starter is a culture of wild yeast. It doubles in size after each feeding."
    # list items keep their heading and stand alone, whatever they open with
    assert embedded[2:] == ["Starter: Keep it warm", "Starter: It needs flour daily"]
