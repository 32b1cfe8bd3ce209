"""Vector search by size: exact FAISS search for a course like the bundled one, HNSW from a threshold on,
with the units searched through FAISS as the passages are."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tutor.embeddings import length_batches
from tutor.store import (
    MANIFEST,
    UNIT_INDEX,
    UNIT_VECTORS,
    build_index,
    check_index,
    corpus_fingerprint,
    data_folder,
    load_index,
    parse_corpus,
    texts_to_embed,
)
from tutor.vectorindex import is_exact, make_index, search, stored_vectors

ROOT = Path(__file__).resolve().parent.parent


def reuse_vectors(store, corpus_dir):
    """An embed step that answers from an index already built, as a replacement step would."""
    texts = texts_to_embed(parse_corpus(corpus_dir))
    vectors = np.concatenate([store.chunk_index.reconstruct_n(0, store.chunk_index.ntotal), store.unit_vectors])
    known = dict(zip(texts, vectors))
    calls = []

    def embed(texts):
        calls.append(len(texts))
        return np.stack([known[t] for t in texts])

    return embed, calls


@pytest.fixture
def store(index_dir):
    return load_index(index_dir)


def test_a_small_course_is_searched_exactly(store):
    assert is_exact(store.chunk_index) and is_exact(store.unit_index)
    assert store.unit_index.ntotal == len(store.units)


def test_from_the_threshold_on_passages_and_units_get_hnsw_indexes_that_are_checked_like_the_rest(
    tmp_path, corpus_dir, store
):
    embed, calls = reuse_vectors(store, corpus_dir)
    index = tmp_path / "index"
    threshold = 100  # the course has 57 passages and 325 units
    assert len(store.chunks) < threshold < len(store.units)
    built = build_index(corpus_dir, index, fresh=True, embed=embed, exact_below=threshold)
    assert calls == [len(set(texts_to_embed(parse_corpus(corpus_dir))))]  # each distinct text once
    assert is_exact(built.chunk_index) and not is_exact(built.unit_index)
    manifest = json.loads((index / MANIFEST).read_text())
    assert manifest["vector_indexes"] == {"passages": "exact", "units": "hnsw"}
    assert UNIT_INDEX in manifest["checksums"]
    assert check_index(index, corpus_fingerprint(corpus_dir)) is None

    # on this small course, the graph finds each unit's own vector first
    _, ids = search(built.unit_index, built.unit_vectors[:50], k=1)
    assert ids[:, 0].tolist() == list(range(50))

    # The unit vectors are kept once, in the HNSW index, and read from there: the same vectors as embedded.
    assert UNIT_VECTORS not in manifest["checksums"] and not (data_folder(index) / UNIT_VECTORS).exists()
    loaded = load_index(index, corpus_fingerprint(corpus_dir))
    assert np.array_equal(loaded.unit_vectors, store.unit_vectors)
    assert np.shares_memory(loaded.unit_vectors, stored_vectors(loaded.unit_index))
    # and a rebuild after a change reuses them: only the new document's texts are embedded
    course, again = tmp_path / "course", tmp_path / "again"
    shutil.copytree(corpus_dir, course)
    build_index(course, again, fresh=True, embed=embed, exact_below=threshold)
    (course / "extra.md").write_text("# Extra\n\nGradient clipping keeps updates small in training.\n",
                                     encoding="utf-8")
    asked = []

    def embed_new(texts):
        asked.extend(texts)
        vectors = np.random.default_rng(0).normal(size=(len(texts), store.dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    build_index(course, again, embed=embed_new, exact_below=threshold)
    assert asked and all("Gradient clipping" in t or "Extra" in t for t in asked), asked

    path = data_folder(index) / UNIT_INDEX
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0xFF
    path.write_bytes(bytes(blob))
    assert "units.faiss does not match its checksum" in check_index(index, corpus_fingerprint(corpus_dir))
    path.unlink()
    assert "units.faiss is missing" in check_index(index, corpus_fingerprint(corpus_dir))


def test_make_index_picks_by_size():
    vectors = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert is_exact(make_index(vectors, exact_below=301))
    hnsw = make_index(vectors, exact_below=300)
    assert not is_exact(hnsw)
    _, exact_ids = search(make_index(vectors, exact_below=301), vectors[:20], k=5)
    _, hnsw_ids = search(hnsw, vectors[:20], k=5)
    assert np.mean([len(set(a) & set(b)) / 5 for a, b in zip(exact_ids, hnsw_ids)]) >= 0.9


def test_unit_search_through_faiss_gives_what_the_matrix_product_gave(tutor):
    questions = [json.loads(line)["question"] for line in
                 (ROOT / "eval" / "questions" / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    retriever = tutor.retriever
    vectors = retriever.embed(questions)
    store = tutor.store
    # the product over every unit, best unit per passage
    sims = vectors @ store.unit_vectors.T
    expected = np.full((len(questions), len(store.chunks)), -1.0, dtype=np.float32)
    for unit, passage in enumerate(store.unit_chunk):
        expected[:, passage] = np.maximum(expected[:, passage], sims[:, unit])
    got = retriever._best_unit_scores(vectors)
    assert np.allclose(got, expected, atol=1e-5)
    for g, e in zip(got, expected):
        assert list(np.argsort(-g, kind="stable")[:3]) == list(np.argsort(-e, kind="stable")[:3])


def test_length_batches_group_similar_lengths_within_a_token_budget():
    lengths = [5, 250, 7, 240, 6, 30] * 20
    batches = length_batches(lengths, batch_size=16, max_tokens=1000)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        widths = [lengths[i] for i in batch]
        assert len(batch) <= 16 and len(batch) * max(widths) <= max(1000, max(widths))
    assert [lengths[b[0]] for b in batches] == sorted(lengths[b[0]] for b in batches)


def test_stored_vectors_keep_their_index_alive():
    import gc

    import faiss

    vectors = np.random.default_rng(1).normal(size=(2000, 32)).astype(np.float32)
    for exact_below in (100, 5000):  # HNSW, exact
        # The index is a temporary: only the array returned refers to it.
        view = stored_vectors(faiss.deserialize_index(faiss.serialize_index(make_index(vectors, exact_below))))
        gc.collect()
        filler = [np.full((2000, 32), 7.0, np.float32) for _ in range(20)]  # reuse any memory freed
        assert np.array_equal(view, vectors) and not view.flags.writeable
        del filler
