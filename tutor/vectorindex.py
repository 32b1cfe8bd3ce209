"""FAISS indexes over unit-length vectors, chosen by size: exact below EXACT_BELOW vectors, HNSW beyond.

Exact search (IndexFlatIP) compares a question with every vector: for a course of a few thousand
passages and sentences it is both exact and fast. Past some hundred thousand vectors a graph (HNSW)
finds nearly the same neighbours in a small fraction of the time; bench/bench_build.py prints its
recall against exact search. A small course never gets an approximate index, so its answers do not
depend on one.
"""

from __future__ import annotations

import numpy as np

EXACT_BELOW = 100_000
HNSW_NEIGHBOURS = 32  # links per node (M)
HNSW_BUILD_DEPTH = 80  # efConstruction
HNSW_SEARCH_DEPTH = 256  # efSearch: candidates examined per query; at least the k asked for
# How many neighbours an approximate index returns per question; exact search returns all of them.
APPROXIMATE_K = 200


def make_index(vectors: np.ndarray, exact_below: int = EXACT_BELOW):
    """An inner-product index over `vectors`: IndexFlatIP if there are fewer than `exact_below`, else HNSW."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    if len(vectors) < exact_below:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_BUILD_DEPTH
    index.add(vectors)
    return index


class _Keeper:
    """An array's owner that holds the index whose memory the array is: the index lives as long as the array."""

    def __init__(self, view: np.ndarray, index) -> None:
        self.__array_interface__ = view.__array_interface__
        self.index = index


def stored_vectors(index) -> np.ndarray:
    """The vectors an exact or HNSW index holds, as a read-only array over the index's own memory (no copy).
    The array keeps the index alive."""
    import faiss

    flat = index if isinstance(index, faiss.IndexFlat) else faiss.downcast_index(index.storage)
    view = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)
    vectors = np.asarray(_Keeper(view, index))
    vectors.flags.writeable = False
    return vectors


def is_exact(index) -> bool:
    import faiss

    return isinstance(index, faiss.IndexFlat)


def search(index, queries: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Scores and positions of each query's nearest vectors, best first: all of them from an exact
    index (unless `k` is given), the APPROXIMATE_K nearest from an approximate one. Missing places
    have position -1."""
    import faiss

    queries = np.ascontiguousarray(queries, dtype=np.float32)
    n = index.ntotal
    if k is None:
        k = n if is_exact(index) else APPROXIMATE_K
    k = min(k, n)
    if k == 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    if not is_exact(index):
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(HNSW_SEARCH_DEPTH, k)
        return index.search(queries, k, params=params)
    return index.search(queries, k)
