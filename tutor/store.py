"""The index on disk: FAISS vectors, passage metadata (JSON lines, never pickle) and a manifest.

The manifest records what the index was built from (each corpus file's hash, the embedding model
and its dimension, the chunker version) and a checksum of every index file. `open_index` trusts
an index only when all of that matches; otherwise it rebuilds, re-embedding only passages whose
text is new. Files are written to temporary names and renamed, manifest last, under a file lock,
so an interrupted or concurrent build never leaves an index that a later run would trust.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tutor.chunking import CHUNKER_VERSION, ROW_SEP, Unit, chunk_sections, split_units
from tutor.config import EMBEDDING_MODEL_NAME
from tutor.errors import TutorError
from tutor.ingest import corpus_files, load_corpus, source_name, split_sections
from tutor.models import PATH_SEP, Chunk

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
# Bump when what is embedded for a passage or unit changes (passage_text, unit_text).
EMBEDDING_TEXT_VERSION = 3
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
CHUNK_VECTORS = "chunks.faiss"
UNITS = "units.jsonl"
UNIT_VECTORS = "units.npy"
DATA_FILES = (CHUNKS, CHUNK_VECTORS, UNITS, UNIT_VECTORS)


@dataclass
class Store:
    """A loaded index: passages and quotable units with their vectors."""

    chunks: list[Chunk]
    chunk_index: object  # faiss.Index over passage vectors (inner product of unit vectors)
    units: list[Unit]
    unit_chunk: np.ndarray  # for each unit, the position of its passage in `chunks`
    unit_vectors: np.ndarray
    titles: list[str]
    dim: int
    warnings: list[str] = field(default_factory=list)
    rebuilt: bool = False


def passage_text(chunk: Chunk) -> str:
    """What is embedded and searched for a passage: its heading path, then its text."""
    return f"{chunk.section}\n{chunk.text}" if chunk.section else chunk.text


UNIT_HEADING_MAX = 80


def unit_text(chunk: Chunk, unit: Unit) -> str:
    """What is embedded for a quotable unit. A short item ("Publish papers") needs its heading to mean
    anything; a long sentence, or a table cell that carries its row's label, says enough by itself, and
    a heading would blur it."""
    heading = chunk.section.split(PATH_SEP)[-1] if chunk.section else ""
    if len(unit.text) > UNIT_HEADING_MAX or ROW_SEP in unit.text:
        heading = ""
    parts = [p for p in (heading, unit.context, unit.text) if p]
    return ": ".join(parts)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def corpus_fingerprint(corpus_dir: Path) -> dict[str, str]:
    return {source_name(corpus_dir, p): file_sha256(p) for p in sorted(corpus_files(corpus_dir))}


# --------------------------------------------------------------------------- opening


def open_index(
    corpus_dir: Path,
    index_dir: Path,
    *,
    rebuild: bool = False,
    device: str = "cpu",
    progress: bool = False,
) -> Store:
    """Load the index for `corpus_dir`, building or refreshing it first when it is missing or stale."""
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    fingerprint = corpus_fingerprint(corpus_dir) if corpus_dir.is_dir() else None
    if fingerprint is None:
        raise TutorError(f"Corpus folder not found: {corpus_dir}. Point --corpus (or TUTOR_CORPUS) at a folder.")
    if not rebuild:
        problem = check_index(index_dir, fingerprint)
        if problem is None:
            return _load(index_dir)
        if problem != "missing":
            log.warning("The index in %s cannot be used (%s); rebuilding it.", index_dir, problem)
    return build_index(corpus_dir, index_dir, device=device, progress=progress, fresh=rebuild)


def read_manifest(index_dir: Path) -> dict | None:
    try:
        return json.loads((Path(index_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def check_index(index_dir: Path, fingerprint: dict[str, str]) -> str | None:
    """None when the index on disk is current and intact, else a short reason."""
    index_dir = Path(index_dir)
    if not (index_dir / MANIFEST).exists():
        return "missing"
    manifest = read_manifest(index_dir)
    if not isinstance(manifest, dict):
        return "its manifest is unreadable"
    expected = {
        "format_version": FORMAT_VERSION,
        "chunker_version": CHUNKER_VERSION,
        "embedding_text_version": EMBEDDING_TEXT_VERSION,
        "embedding_model": EMBEDDING_MODEL_NAME,
    }
    for key, value in expected.items():
        if manifest.get(key) != value:
            return f"it was built with {key} {manifest.get(key)!r}, not {value!r}"
    if manifest.get("corpus") != fingerprint:
        return "the corpus has changed since it was built"
    checksums = manifest.get("checksums") or {}
    for name in DATA_FILES:
        path = index_dir / name
        if not path.exists():
            return f"{name} is missing"
        if checksums.get(name) != file_sha256(path):
            return f"{name} does not match its checksum (damaged or partly written)"
    return None


def _load(index_dir: Path) -> Store:
    import faiss

    manifest = read_manifest(index_dir) or {}
    try:
        chunks = [Chunk(**json.loads(line)) for line in _read_lines(index_dir / CHUNKS)]
        unit_rows = [json.loads(line) for line in _read_lines(index_dir / UNITS)]
        index = faiss.read_index(str(index_dir / CHUNK_VECTORS))
        unit_vectors = np.load(index_dir / UNIT_VECTORS, allow_pickle=False)
    except Exception as exc:  # checksums matched, so this is a bug or a foreign file: say so plainly
        raise TutorError(f"The index in {index_dir} cannot be read ({exc}). Run: tutor index --rebuild") from exc
    dim = int(manifest.get("dim", 0))
    if index.ntotal != len(chunks) or index.d != dim or unit_vectors.shape != (len(unit_rows), dim):
        raise TutorError(f"The index in {index_dir} is inconsistent. Run: tutor index --rebuild")
    return Store(
        chunks=chunks,
        chunk_index=index,
        units=[Unit(r["text"], r["context"]) for r in unit_rows],
        unit_chunk=np.array([r["chunk"] for r in unit_rows], dtype=np.int64),
        unit_vectors=unit_vectors,
        titles=list(manifest.get("titles", [])),
        dim=dim,
        warnings=list(manifest.get("warnings", [])),
    )


def _read_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


# --------------------------------------------------------------------------- building


def build_index(
    corpus_dir: Path, index_dir: Path, *, device: str = "cpu", progress: bool = False, fresh: bool = False
) -> Store:
    """(Re)build the index, re-embedding only texts the previous index did not hold (all of them if `fresh`)."""
    from filelock import FileLock, Timeout

    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / ".lock"))
    try:
        lock.acquire(timeout=600)
    except Timeout as exc:
        raise TutorError(f"Another process has been building the index in {index_dir} for 10 minutes.") from exc
    try:
        # Someone else may have finished the same build while we waited for the lock.
        if not fresh and check_index(index_dir, corpus_fingerprint(corpus_dir)) is None:
            return _load(index_dir)
        return _build_locked(corpus_dir, index_dir, device=device, progress=progress, fresh=fresh)
    finally:
        lock.release()


def _build_locked(corpus_dir: Path, index_dir: Path, *, device: str, progress: bool, fresh: bool) -> Store:
    import faiss

    started = time.perf_counter()
    fingerprint = corpus_fingerprint(corpus_dir)
    documents, warnings = load_corpus(corpus_dir)
    if not documents:
        raise TutorError(
            f"No readable course documents in {corpus_dir} (.txt, .md, .html, .pdf)."
            + (" " + " ".join(warnings) if warnings else "")
        )
    chunks: list[Chunk] = []
    titles: list[str] = []
    for doc in documents:
        title, sections = split_sections(doc)
        titles.append(title or Path(doc.source).stem.replace("-", " ").replace("_", " "))
        chunks.extend(chunk_sections(sections))
    unit_rows: list[dict] = []
    unit_texts: list[str] = []
    for position, chunk in enumerate(chunks):
        for unit in split_units(chunk.text):
            unit_rows.append({"chunk": position, "text": unit.text, "context": unit.context})
            unit_texts.append(unit_text(chunk, unit))

    passage_texts = [passage_text(c) for c in chunks]
    cache = {} if fresh else _previous_vectors(index_dir)
    missing = sorted({t for t in passage_texts + unit_texts if _text_key(t) not in cache})
    if missing:
        from tutor.embeddings import load_embedder

        embedder = load_embedder(device, engine="sentence-transformers")
        if progress:
            print(f"Embedding {len(missing)} new passages and sentences with {embedder.name} on {device}…")
        fresh = embedder.encode(missing, batch_size=64, progress=progress)
        cache.update({_text_key(t): v for t, v in zip(missing, fresh)})
    dim = len(next(iter(cache.values())))
    chunk_vectors = np.stack([cache[_text_key(t)] for t in passage_texts]).astype(np.float32)
    unit_vectors = (
        np.stack([cache[_text_key(t)] for t in unit_texts]).astype(np.float32)
        if unit_texts
        else np.zeros((0, dim), np.float32)
    )
    index = faiss.IndexFlatIP(dim)
    index.add(chunk_vectors)

    _write_atomic(index_dir / CHUNKS, "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in chunks))
    _write_atomic(index_dir / UNITS, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in unit_rows))
    _write_faiss_atomic(index, index_dir / CHUNK_VECTORS)
    _write_npy_atomic(index_dir / UNIT_VECTORS, unit_vectors)
    manifest = {
        "format_version": FORMAT_VERSION,
        "chunker_version": CHUNKER_VERSION,
        "embedding_text_version": EMBEDDING_TEXT_VERSION,
        "embedding_model": EMBEDDING_MODEL_NAME,
        "dim": dim,
        "corpus": fingerprint,
        "titles": titles,
        "warnings": warnings,
        "chunks": len(chunks),
        "units": len(unit_rows),
        "embedded_texts": len(missing),
        "checksums": {name: file_sha256(index_dir / name) for name in DATA_FILES},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    _write_atomic(index_dir / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    log.info("Indexed %d passages (%d newly embedded texts) in %s", len(chunks), len(missing), index_dir)
    store = _load(index_dir)
    store.rebuilt = True
    store.warnings = warnings
    return store


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _previous_vectors(index_dir: Path) -> dict[str, np.ndarray]:
    """Vectors of the texts the previous index held, if it is intact and made by the same model."""
    manifest = read_manifest(index_dir)
    if not isinstance(manifest, dict) or manifest.get("embedding_model") != EMBEDDING_MODEL_NAME:
        return {}
    checksums = manifest.get("checksums") or {}
    try:
        if any(checksums.get(n) != file_sha256(index_dir / n) for n in DATA_FILES):
            return {}
        store = _load(index_dir)
    except (OSError, TutorError):
        return {}
    vectors = store.chunk_index.reconstruct_n(0, store.chunk_index.ntotal)
    cache = {_text_key(passage_text(c)): v for c, v in zip(store.chunks, vectors)}
    for unit, position, vector in zip(store.units, store.unit_chunk, store.unit_vectors):
        cache[_text_key(unit_text(store.chunks[position], unit))] = vector
    return cache


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _write_faiss_atomic(index, path: Path) -> None:
    import faiss

    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    faiss.write_index(index, str(tmp))
    os.replace(tmp, path)


def _write_npy_atomic(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}.npy")
    np.save(tmp, array, allow_pickle=False)
    os.replace(tmp, path)
