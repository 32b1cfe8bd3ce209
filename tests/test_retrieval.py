"""Retrieval on the real article: hybrid search finds the passage that holds the answer."""

from __future__ import annotations

import numpy as np
import pytest
import Stemmer
from stopwords import get_stopwords

from tutor.embeddings import NumpyMiniLM, SentenceTransformerEmbedder, TorchMiniLM
from tutor.retrieval import BM25, Retriever
from tutor.terms import STOPWORDS, stem, terms


def test_the_three_embedding_engines_give_the_same_vectors(corpus_dir):
    # Short and long texts in one batch: the padding of the short ones must change nothing, and a
    # passage past the model's 256 tokens is cut where sentence-transformers cuts it.
    article = next(corpus_dir.iterdir()).read_text(encoding="utf-8")
    texts = ["What is model drift?", "Risk Tolerance — Academic Perspective: High - encouraged to try new things",
             article[:600], article[:4000]]
    reference = SentenceTransformerEmbedder("cpu").encode(texts)
    for engine in (NumpyMiniLM(), TorchMiniLM()):
        for batch_size in (1, 4):
            vectors = engine.encode(texts, batch_size=batch_size)
            assert vectors.shape == (4, 384)
            assert np.allclose(vectors, reference, atol=1e-4)


def test_a_long_embedding_run_shows_how_far_it_is_and_tokenises_in_slices(monkeypatch, capsys):
    # A log file (stderr not a terminal) gets a line every few seconds; texts tokenised a slice at a time
    # give the vectors that one pass gives.
    import tutor.embeddings as embeddings

    texts = [f"Sentence number {n} of a long course about {'rivers' if n % 2 else 'volcanoes'}." for n in range(40)]
    engine = TorchMiniLM()
    whole = engine.encode(texts, batch_size=8)
    monkeypatch.setattr(embeddings, "TOKENIZE_SLICE", 7)
    monkeypatch.setattr(embeddings, "PROGRESS_EVERY_S", 0.0)
    sliced = engine.encode(texts, batch_size=8, progress=True)
    assert np.allclose(sliced, whole, atol=1e-6)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("Embedding: ")]
    assert lines and "of 40 texts" in lines[0] and "left)" in lines[0]


def test_a_long_embedding_run_hands_freed_memory_back_after_each_batch_and_a_question_does_not(monkeypatch):
    # Batches of every width fragment the C heap; a build of a large course held gigabytes it had freed.
    import tutor.embeddings as embeddings

    embeddings.release_free_memory()  # the real one: glibc's malloc_trim here, nothing where there is none
    trims = []
    monkeypatch.setattr(embeddings, "release_free_memory", lambda: trims.append(1))
    engine = TorchMiniLM()
    engine.encode([f"Sentence {n} about rivers." for n in range(20)], batch_size=4)
    assert len(trims) == 5
    trims.clear()
    engine.encode(["What is model drift?"])
    assert trims == []


def test_indexes_are_built_on_a_cpu_by_the_torch_engine_and_on_request_by_sentence_transformers():
    from tutor.store import _build_embedder

    assert isinstance(_build_embedder("cpu"), TorchMiniLM)
    assert isinstance(_build_embedder("cpu", "sentence-transformers"), SentenceTransformerEmbedder)


def test_a_build_embeds_in_bfloat16_only_where_the_cpu_has_it_and_questions_always_in_float32(monkeypatch):
    import torch

    import tutor.embeddings as embeddings

    for native, dtype in ((True, torch.bfloat16), (False, torch.float32)):
        monkeypatch.setattr(embeddings, "native_bfloat16", lambda native=native: native)
        assert embeddings.load_embedder("cpu", "auto", building=True).dtype == dtype
        assert embeddings.load_embedder("cpu", "auto").dtype == torch.float32
        assert embeddings.load_embedder("cpu", "torch", building=True).dtype == torch.float32
    assert embeddings.load_embedder("cpu", "torch-bfloat16").dtype == torch.bfloat16


def test_bfloat16_vectors_stay_within_a_hair_of_float32_and_keep_their_neighbours(corpus_dir):
    # What a bfloat16 build gives up: each vector within cosine 0.9995 of float32's, and every question
    # finds the same nearest passage.
    article = next(corpus_dir.iterdir()).read_text(encoding="utf-8")
    passages = [p for p in article.split("\n\n") if len(p) > 80][:40]
    exact = TorchMiniLM().encode(passages, batch_size=16)
    half = TorchMiniLM(bfloat16=True).encode(passages, batch_size=16)
    assert half.dtype == np.float32 and half.shape == exact.shape
    assert float((half * exact).sum(1).min()) >= 0.9995
    assert np.allclose(np.linalg.norm(half, axis=1), 1.0, atol=1e-5)
    questions = TorchMiniLM().encode(["What is model drift?", "How do academics publish?", "What is ROI?"])
    assert ((questions @ half.T).argmax(1) == (questions @ exact.T).argmax(1)).all()


def test_bm25_ranks_the_document_with_the_rare_term_first():
    bm25 = BM25(["neural networks learn", "model drift degrades performance", "networks of roads"])
    assert int(np.argmax(bm25.scores("What is drift?"))) == 1
    assert terms("the first Models") == ["1", "model"]
    # a decimal is one term: "a 4.0 scale" has nothing in common with "a 0.6% gain"
    assert terms("a 4.0 scale") == ["4.0", "scale"] and not set(terms("a 4.0 scale")) & set(terms("a 0.6% gain"))


@pytest.mark.parametrize(
    "forms",
    [
        ("challenge", "challenges"),
        ("image", "images"),
        ("bake", "baked", "bakes"),
        ("scale", "scaled", "scaling"),
        ("time", "times"),
        ("study", "studies"),
        ("focus", "focuses", "focused"),
        ("bias", "biased", "biases"),
        ("generous", "generously"),
        ("university", "universities"),
        ("tokenize", "tokenization", "tokens"),
        ("class", "classes"),
        ("versus", "vs"),
    ],
)
def test_the_forms_of_a_word_give_one_term(forms):
    found = {term for form in forms for term in terms(form)}
    assert found == {forms[0]} or (len(found) == 1 and len(forms) > 1), [terms(f) for f in forms]


def test_terms_are_snowball_english_stems():
    snowball = Stemmer.Stemmer("english")
    words = "generously universities optimization trained hyperparameters relational happiness".split()
    assert [t for w in words for t in terms(w)] == snowball.stemWords(words)
    assert stem("generously") == "generous" and stem("universities") == stem("university") == "universiti"


def test_stop_words_are_a_common_english_list_and_the_words_of_asking():
    assert {w for w in get_stopwords("english") if w} <= STOPWORDS
    assert terms("Tell me, according to the article, what they did against it") == []
    assert terms("Explain what can be done with themselves") == ["done"]


def top_sections(tutor, question, mode, k=3):
    retriever = Retriever(tutor.store, tutor.retriever.embedder, mode=mode)
    return [tutor.store.chunks[h.position].section for h in retriever.search([question], k)[0]]


def test_hybrid_search_finds_the_table_row_and_the_challenge(tutor):
    assert any(
        s.startswith("Key Differences")
        for s in top_sections(tutor, "How do academia and industry differ in risk tolerance?", "hybrid")
    )
    assert top_sections(tutor, "What is model drift?", "hybrid")[0].endswith("Industry Challenges")


def test_the_section_a_question_names_comes_first(tutor):
    question = "According to the key takeaways, what do the two sides have in common?"
    assert top_sections(tutor, question, "hybrid")[0] == "Key Takeaways"


def test_every_mode_returns_k_distinct_passages(tutor):
    for mode in ("dense", "bm25", "hybrid"):
        sections = Retriever(tutor.store, tutor.retriever.embedder, mode=mode).search(["What is deep learning?"], 5)[0]
        assert len({h.position for h in sections}) == 5


def test_bm25_is_okapi_bm25_held_sparse():
    """The scores are Okapi BM25's, computed here from its formula, and the matrix holds one value per
    (term, passage) pair that occurs: memory grows with the text, not with vocabulary × passages."""
    import math
    from collections import Counter

    from tutor.terms import terms

    texts = ["neural networks learn patterns", "model drift degrades model performance",
             "networks of roads", "drift", "learning rates and learning schedules"]
    bm25 = BM25(texts)
    docs = [Counter(terms(t)) for t in texts]
    avg = sum(sum(d.values()) for d in docs) / len(docs)
    for query in ("model drift", "networks learn", "learning learning", "nothing here"):
        expected = []
        for d in docs:
            score = 0.0
            for t in terms(query):
                df = sum(t in other for other in docs)
                if d[t]:
                    idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
                    score += idf * d[t] * 2.2 / (d[t] + 1.2 * (0.25 + 0.75 * sum(d.values()) / avg))
            expected.append(score)
        assert bm25.scores(query) == pytest.approx(expected, rel=1e-5)
    assert bm25.matrix.nnz == sum(len(d) for d in docs)


def test_terms_meet_without_accents_in_any_script_and_folding_a_long_text_is_the_same_as_its_pieces():
    from tutor.terms import fold

    assert terms("Schrödinger's equation") == terms("Schrodinger's equation")
    assert fold("Bolesław Straße Æsir naïve café") == "boleslaw strasse aesir naive cafe"
    assert fold("e\u0301") == "e" and fold("Москва 東京") == "москва 東京"
    pieces = ["Schrödinger", " wrote ", "“naïve”", " texts ¶ ", "Ελληνικά"]
    assert fold("".join(pieces * 50)) == "".join(fold(p) for p in pieces * 50)


def test_bm25_tells_the_share_of_passages_that_use_a_term():
    bm25 = BM25(["Warsaw bridges", "Warsaw parks", "Kraków castles", "Gdańsk docks"])
    (warsaw,) = terms("Warsaw")
    (krakow,) = terms("Kraków")
    assert bm25.share(warsaw) == 0.5 and bm25.share(krakow) == 0.25 and bm25.share("nowhere") == 0.0


def test_a_name_is_found_in_a_passage_under_a_word_made_from_it():
    from tutor.answering.rank import names_elsewhere
    from tutor.models import Chunk

    texts = ["Western governments supported the groups.", "The German invasion began the war.",
             "Rivers flow north.", "Lakes are cold.", "Hills are steep.", "Roads are long.", "Ships sail.",
             "Trees grow.", "Birds sing.", "Fish swim.", "The West and Germany signed a treaty."]
    bm25 = BM25(texts)
    western = Chunk("a", "notes.md", "", texts[0], 0, len(texts[0]))
    german = Chunk("b", "notes.md", "", texts[1], 0, len(texts[1]))
    assert names_elsewhere("Which groups did the West support?", [western], bm25) == []
    assert names_elsewhere("When did Germany invade?", [german], bm25) == []
    assert names_elsewhere("When did Germany invade?", [western], bm25) == ["Germany"]
