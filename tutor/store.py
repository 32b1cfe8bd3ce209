"""The index on disk: FAISS vectors, passage metadata (JSON lines, never pickle) and a manifest.

The manifest records what the index was built from (each corpus file's hash, the embedding model
and its dimension, the chunker version) and a checksum of every index file. `open_index` trusts
an index only when all of that matches, the bytes it reads match their checksums, and the files
agree with each other; otherwise it rebuilds (with a logged warning when something was damaged),
re-embedding only texts whose vectors are not in an intact file of the previous index.

Layout: `manifest.json` names the generation folder (`generation-<random>/`) that holds the data
files. A build writes a whole new generation, then switches to it by renaming its manifest over the
old one: a build that fails or is killed, for a full disk or anything else, leaves the previous
generation answering, untouched. Builds run under a file lock. The index writes only in a folder
that is new, empty or already an index, and deletes only names it creates there.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from tutor.chunking import CHUNKER_VERSION, ROW_SEP, Unit, chunk_sections, make_chunk_id, split_units
from tutor.config import EMBEDDING_MODEL_NAME, MAX_CORPUS_FILE_BYTES
from tutor.errors import TutorError
from tutor.ingest import Document, corpus_files, load_corpus, source_name, split_sections
from tutor.models import PATH_SEP, Chunk
from tutor.vectorindex import EXACT_BELOW, is_exact, make_index, stored_vectors

log = logging.getLogger(__name__)

# 2: the data files live in the generation folder the manifest names; 3: units.faiss; 4: a course with
# units.faiss keeps its unit vectors there only (no units.npy beside it)
FORMAT_VERSION = 4
# Bump when what is embedded for a passage or unit changes (passage_text, unit_texts).
EMBEDDING_TEXT_VERSION = 4
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
CHUNK_VECTORS = "chunks.faiss"
UNITS = "units.jsonl"
UNIT_VECTORS = "units.npy"
DOCUMENTS = "documents.json"  # each document's title, and the warnings about course files
DATA_FILES = (CHUNKS, CHUNK_VECTORS, UNITS, UNIT_VECTORS, DOCUMENTS)
# An approximate (HNSW) index over the unit vectors, written only for courses of EXACT_BELOW units or more, in
# place of units.npy (the index holds the vectors too); a smaller course searches its units exactly, with an
# index made from units.npy as it loads.
UNIT_INDEX = "units.faiss"
# The folder is ours: written when the index first claims a folder.
MARKER = ".tutor-index"
MARKER_TEXT = ("This folder holds a tutor index. tutor replaces and removes the files it wrote here "
               "(manifest.json, generation-*/); it leaves anything else alone.\n")
LOCK = ".tutor-index.lock"
GENERATION_RE = re.compile(r"^generation-[0-9a-f]{16}$")
# Version 1 kept its data files beside the manifest and wrote them as NAME.tmpPID first.
LEGACY_FILES = (CHUNKS, CHUNK_VECTORS, UNITS, UNIT_VECTORS)
LEGACY_TEMPORARY_RE = re.compile(r"^(?:chunks\.jsonl|chunks\.faiss|units\.jsonl|units\.npy|manifest\.json)\.tmp\d+$")
# Names that the tutor creates in an index folder before or without an index in it, and files that
# do not make a folder anyone's (the project's own index/ holds a .gitkeep). None is ever removed.
OWN_NAMES = frozenset({MARKER, LOCK, ".lock", "ct2", ".gitkeep", ".DS_Store", "Thumbs.db", "desktop.ini"})


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
    unit_index: object = None  # faiss.Index over unit_vectors, same positions


def passage_text(chunk: Chunk) -> str:
    """What is embedded and searched for a passage: its heading path, then its text."""
    return f"{chunk.section}\n{chunk.text}" if chunk.section else chunk.text


UNIT_HEADING_MAX = 80


# A sentence that opens with a pronoun ("It powers everything ...") means little without the sentence
# that names what the pronoun stands for.
PRONOUN_RE = re.compile(r"^(?:it|its|they|their|them|these|this|those|such|he|she)\b", re.I)


def unit_texts(chunk: Chunk, units: list[Unit]) -> list[str]:
    """What is embedded for each quotable unit of a passage, in order. A short item ("Publish papers")
    needs its heading to mean anything; a long sentence, or a table cell that carries its row's label,
    says enough by itself, and a heading would blur it. A sentence that opens with a pronoun carries the
    sentence before it."""
    heading = chunk.section.split(PATH_SEP)[-1] if chunk.section else ""
    out = []
    for i, unit in enumerate(units):
        before = units[i - 1] if i else None
        text = unit.text
        if before is not None and not unit.item and not before.item and PRONOUN_RE.match(text):
            text = f"{before.text} {text}"
        label = "" if len(text) > UNIT_HEADING_MAX or ROW_SEP in text else heading
        out.append(": ".join(p for p in (label, unit.context, text) if p))
    return out


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def corpus_fingerprint(corpus_dir: Path) -> dict[str, str]:
    """Each corpus file's SHA-256; a file over the size limit (never read) is recorded by its size."""
    fingerprint = {}
    for path in sorted(corpus_files(corpus_dir)):
        try:
            size = path.stat().st_size
            digest = f"over-limit:{size}" if size > MAX_CORPUS_FILE_BYTES else file_sha256(path)
        except OSError:
            digest = "unreadable"
        fingerprint[source_name(corpus_dir, path)] = digest
    return fingerprint


# --------------------------------------------------------------------------- opening


class IndexProblem(Exception):
    """Why the index on disk cannot be trusted; `open_index` answers it by rebuilding."""


class Outdated(IndexProblem):
    """The index is intact but was built from other course files or by older rules: an update, not a fault."""

    def __init__(self, reason: str, details: str = "") -> None:
        super().__init__(reason)
        self.details = f" ({details})" if details else ""


MISSING = "there is no index yet"


class IndexWriteError(TutorError):
    """The index could not be written (a full disk, no permission); the previous generation is untouched."""


def open_index(
    corpus_dir: Path,
    index_dir: Path,
    *,
    rebuild: bool = False,
    device: str = "cpu",
    progress: bool = False,
    keep_serving: bool = True,
    builder: Builder | None = None,
) -> Store:
    """Load the index for `corpus_dir`, building or refreshing it first when it is missing, stale or damaged.

    When only an update is due and it cannot be written (a full disk), `keep_serving` answers from the
    previous index, with a warning in `Store.warnings`, instead of failing. `builder` builds in place of
    the local build (`tutor index --ray`).
    """
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    check_index_location(corpus_dir, index_dir)
    if not corpus_dir.is_dir():
        raise TutorError(f"Corpus folder not found: {corpus_dir}. Point --corpus (or TUTOR_CORPUS) at a folder.")
    fingerprint = corpus_fingerprint(corpus_dir)
    outdated = None
    if not rebuild:
        try:
            return _load_current(index_dir, fingerprint)
        except Outdated as change:
            outdated = change
            log.info("Updating the index in %s: %s%s.", index_dir, change, change.details)
        except IndexProblem as problem:
            if str(problem) != MISSING:
                log.warning(
                    "The index in %s cannot be used (%s); rebuilding it from %s.", index_dir, problem, corpus_dir
                )
    try:
        return build_index(corpus_dir, index_dir, device=device, progress=progress, fresh=rebuild, builder=builder)
    except IndexWriteError as failure:
        if outdated is None or not keep_serving:
            raise
        try:
            store = load_index(index_dir)  # intact, only behind the course folder
        except IndexProblem:
            raise failure from None
        store.warnings.append(f"{failure} Answering from the previous index meanwhile ({outdated}{outdated.details}).")
        return store


def _load_current(index_dir: Path, fingerprint: dict[str, str]) -> Store:
    """`load_index`, read again once if a concurrent build switched generations while it was reading."""
    before = _manifest_bytes(index_dir)
    try:
        return load_index(index_dir, fingerprint)
    except Outdated:
        raise
    except IndexProblem:
        if _manifest_bytes(index_dir) == before:
            raise
    return load_index(index_dir, fingerprint)


def _manifest_bytes(index_dir: Path) -> bytes | None:
    try:
        return (Path(index_dir) / MANIFEST).read_bytes()
    except OSError:
        return None


def read_manifest(index_dir: Path) -> dict | None:
    try:
        manifest = json.loads((Path(index_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def check_index(index_dir: Path, fingerprint: dict[str, str] | None) -> str | None:
    """None when the index on disk is current and intact, else a short reason."""
    try:
        load_index(index_dir, fingerprint)
    except IndexProblem as problem:
        return str(problem)
    return None


def data_folder(index_dir: Path) -> Path:
    """The folder of the generation that `index_dir`'s manifest names (IndexProblem if it names none)."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexProblem("its manifest is unreadable")
    return _generation_folder(Path(index_dir), manifest)


def _generation_folder(index_dir: Path, manifest: dict) -> Path:
    name = manifest.get("generation")
    # Only a name of our own pattern: a manifest must not point the loader (or the clean-up) anywhere else.
    if not isinstance(name, str) or not GENERATION_RE.match(name):
        raise IndexProblem(f"its manifest names no valid generation folder ({name!r})")
    return index_dir / name


def load_index(index_dir: Path, fingerprint: dict[str, str] | None = None) -> Store:
    """The index in `index_dir`, or IndexProblem saying why it cannot be trusted.

    `fingerprint` (from `corpus_fingerprint`) must match the corpus the index was built from; None skips
    that check. Each file is read once, checked against the manifest's checksum, then parsed from those
    same bytes, so a file replaced meanwhile by a concurrent build is never mixed with an older manifest.
    """
    index_dir = Path(index_dir)
    if not (index_dir / MANIFEST).exists():
        if _generations(index_dir) or any((index_dir / name).exists() for name in LEGACY_FILES):
            raise IndexProblem(f"{MANIFEST} is missing (a build was interrupted, or it was deleted)")
        raise IndexProblem(MISSING)
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexProblem("its manifest is unreadable")
    if manifest.get("embedding_model") != EMBEDDING_MODEL_NAME:
        raise IndexProblem(f"it was built with embedding_model {manifest.get('embedding_model')!r}, "
                           f"not {EMBEDDING_MODEL_NAME!r}")
    versions = {
        "format_version": FORMAT_VERSION,
        "chunker_version": CHUNKER_VERSION,
        "embedding_text_version": EMBEDDING_TEXT_VERSION,
    }
    for key, value in versions.items():
        if manifest.get(key) != value:
            raise Outdated(f"it was built with {key} {manifest.get(key)!r}, not {value!r}")
    if fingerprint is not None and manifest.get("corpus") != fingerprint:
        raise Outdated("the corpus has changed since it was built", _corpus_changes(manifest, fingerprint))
    dim = manifest.get("dim")
    if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
        raise IndexProblem(f"its manifest gives no valid dimension ({dim!r})")
    folder = _generation_folder(index_dir, manifest)
    large = UNIT_INDEX in (manifest.get("checksums") or {})  # its unit vectors live in units.faiss only
    needed = [name for name in DATA_FILES if not (large and name == UNIT_VECTORS)]
    data = {name: _verified_bytes(folder, manifest, name) for name in needed}
    for name, blob in data.items():
        if blob is None:
            raise IndexProblem(f"{name} is missing" if not (folder / name).exists() else
                               f"{name} does not match its checksum (damaged or partly written)")
    try:
        chunks = _parse_chunks(data[CHUNKS])
        index = _parse_faiss(data[CHUNK_VECTORS])
        unit_rows = [json.loads(line) for line in _lines(data[UNITS])]
        units = [Unit(str(r["text"]), str(r["context"]), r.get("item") is True) for r in unit_rows]
        unit_chunk = np.array([r["chunk"] for r in unit_rows], dtype=np.int64)
        unit_vectors = None if large else _parse_npy(data[UNIT_VECTORS])
        titles, warnings = _parse_documents(data[DOCUMENTS])
    except (ValueError, TypeError, KeyError, AttributeError, RuntimeError) as exc:
        raise IndexProblem(f"its files cannot be read ({exc})") from exc
    if index.ntotal != len(chunks) or index.d != dim:
        raise IndexProblem(
            f"{CHUNK_VECTORS} holds {index.ntotal} vectors of dimension {index.d}, "
            f"but there are {len(chunks)} passages and the manifest says dimension {dim}"
        )
    if unit_vectors is not None and (unit_vectors.shape != (len(units), dim) or unit_vectors.dtype != np.float32):
        raise IndexProblem(f"{UNIT_VECTORS} has shape {unit_vectors.shape}, not ({len(units)}, {dim})")
    if len(unit_chunk) and (unit_chunk.min() < 0 or unit_chunk.max() >= len(chunks) or np.any(np.diff(unit_chunk) < 0)):
        raise IndexProblem(f"{UNITS} points at passages that do not exist")
    unit_index = _load_unit_index(folder, manifest, unit_vectors, len(units), dim)
    if unit_vectors is None:
        unit_vectors = stored_vectors(unit_index)
    return Store(
        chunks=chunks,
        chunk_index=index,
        units=units,
        unit_chunk=unit_chunk,
        unit_vectors=unit_vectors,
        titles=titles,
        dim=dim,
        warnings=warnings,
        unit_index=unit_index,
    )


def _load_unit_index(folder: Path, manifest: dict, unit_vectors: np.ndarray | None, count: int, dim: int):
    """The approximate index the build wrote for a large course (which holds its unit vectors), or an exact
    one made from the vectors of units.npy."""
    import faiss

    if unit_vectors is not None:
        index = faiss.IndexFlatIP(unit_vectors.shape[1])
        index.add(unit_vectors)
        return index
    blob = _verified_bytes(folder, manifest, UNIT_INDEX)
    if blob is None:
        raise IndexProblem(f"{UNIT_INDEX} is missing" if not (folder / UNIT_INDEX).exists() else
                           f"{UNIT_INDEX} does not match its checksum (damaged or partly written)")
    try:
        index = _parse_faiss(blob)
    except (RuntimeError, ValueError) as exc:
        raise IndexProblem(f"its files cannot be read ({exc})") from exc
    if index.ntotal != count or index.d != dim:
        raise IndexProblem(f"{UNIT_INDEX} holds {index.ntotal} vectors of dimension {index.d}, "
                           f"but there are {count} sentences and the manifest says dimension {dim}")
    return index


def _corpus_changes(manifest: dict, fingerprint: dict[str, str]) -> str:
    old = manifest.get("corpus") if isinstance(manifest.get("corpus"), dict) else {}
    parts = []
    for label, names in (
        ("added", [n for n in fingerprint if n not in old]),
        ("changed", [n for n in fingerprint if n in old and old[n] != fingerprint[n]]),
        ("removed", [n for n in old if n not in fingerprint]),
    ):
        if names:
            parts.append(f"{label}: " + ", ".join(sorted(names)[:5]) + (" …" if len(names) > 5 else ""))
    return "; ".join(parts) or "no files"


def _verified_bytes(folder: Path, manifest: dict, name: str) -> bytes | None:
    """The file's bytes if they match the manifest's checksum, else None."""
    checksums = manifest.get("checksums")
    try:
        blob = (folder / name).read_bytes()
    except OSError:
        return None
    if not isinstance(checksums, dict) or checksums.get(name) != hashlib.sha256(blob).hexdigest():
        return None
    return blob


def _lines(blob: bytes) -> list[str]:
    return [line for line in blob.decode("utf-8").split("\n") if line.strip()]


def _parse_chunks(blob: bytes) -> list[Chunk]:
    chunks = []
    for line in _lines(blob):
        row = json.loads(line)
        chunk = Chunk(**{k: row[k] for k in ("chunk_id", "source", "section", "text", "start", "end")},
                      page=row.get("page"))
        # The id is a hash of the passage's source, offsets and text: an edited passage no longer matches it.
        if chunk.chunk_id != make_chunk_id(chunk.source, chunk.start, chunk.end, chunk.text):
            raise ValueError(f"passage {chunk.chunk_id} was edited after it was indexed")
        chunks.append(chunk)
    return chunks


def _parse_documents(blob: bytes) -> tuple[list[str], list[str]]:
    documents = json.loads(blob.decode("utf-8"))
    lists = [documents.get(key) if isinstance(documents, dict) else None for key in ("titles", "warnings")]
    if not all(isinstance(items, list) and all(isinstance(i, str) for i in items) for items in lists):
        raise ValueError(f"{DOCUMENTS} must hold lists of strings under 'titles' and 'warnings'")
    return lists[0], lists[1]


def _parse_faiss(blob: bytes):
    import faiss

    return faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8))


def _parse_npy(blob: bytes) -> np.ndarray:
    # allow_pickle=False: an index folder is data, and data must never run code when loaded.
    return np.load(io.BytesIO(blob), allow_pickle=False)


# --------------------------------------------------------------------------- the folder


def check_index_location(corpus_dir: Path, index_dir: Path) -> None:
    """TutorError if the index folder is the course folder, or one of them lies inside the other."""
    corpus, index = Path(corpus_dir).resolve(), Path(index_dir).resolve()
    if index == corpus or corpus in index.parents:
        raise TutorError(
            f"The index folder {index_dir} is {'the course folder' if index == corpus else 'inside the course folder'} "
            f"{corpus_dir}: the index needs a folder of its own. Use --index (or TUTOR_INDEX) with a folder "
            "outside the course folder."
        )
    if index in corpus.parents:
        raise TutorError(
            f"The course folder {corpus_dir} is inside the index folder {index_dir}: the index needs a folder "
            "of its own. Use --index (or TUTOR_INDEX) with a folder outside the course folder."
        )


def claim_folder(index_dir: Path) -> None:
    """Make `index_dir` the index's own: create it, or accept it if it is empty or already an index.

    TutorError for a folder that holds anything else: the index replaces and removes files in its
    folder, and must never do so among a user's files."""
    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_dir():
        raise TutorError(f"Cannot write the index in {index_dir}: it is a file, not a folder. Use --index DIR.")
    try:
        names = sorted(p.name for p in index_dir.iterdir()) if index_dir.is_dir() else []
        if names and not _holds_an_index(index_dir, names):
            shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
            raise TutorError(
                f"{index_dir} holds files that are not a tutor index ({shown}). The index needs a folder of its "
                "own: use --index (or TUTOR_INDEX) with a new or empty folder."
            )
        index_dir.mkdir(parents=True, exist_ok=True)
        if MARKER not in names:
            (index_dir / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    except OSError as exc:
        raise TutorError(f"Cannot write the index in {index_dir} ({exc.strerror or exc}). Use --index DIR.") from exc


def _holds_an_index(index_dir: Path, names: list[str]) -> bool:
    if MARKER in names or set(names) <= OWN_NAMES:
        return True
    # An index written before the marker existed (format 1): its vector files, or its manifest.
    if CHUNK_VECTORS in names or UNIT_VECTORS in names:
        return True
    manifest = read_manifest(index_dir) if MANIFEST in names else None
    return manifest is not None and "embedding_model" in manifest and "checksums" in manifest


def _generations(index_dir: Path) -> list[Path]:
    try:
        return [p for p in Path(index_dir).iterdir() if GENERATION_RE.match(p.name) and p.is_dir()]
    except OSError:
        return []


def _remove_generation(folder: Path) -> None:
    """Delete a generation folder: only the files a build writes there, then the folder if that empties it."""
    for name in (*DATA_FILES, UNIT_INDEX, MANIFEST):
        try:
            (folder / name).unlink()
        except FileNotFoundError:
            pass
        except OSError:
            return
    try:
        folder.rmdir()
    except OSError:
        pass


def _remove_leftovers(index_dir: Path, *, switched: bool) -> None:
    """Generations the manifest does not name: those a killed build left, and (once the manifest has
    `switched` to a new one) the previous one, with a format-1 index's files. Only under the lock."""
    manifest = read_manifest(index_dir) or {}
    current = manifest.get("generation")
    for folder in _generations(index_dir):
        if folder.name != current:
            _remove_generation(folder)
    if not switched:
        return
    for path in index_dir.iterdir():
        if path.name in LEGACY_FILES or LEGACY_TEMPORARY_RE.match(path.name):
            try:
                path.unlink()
            except OSError:
                pass


# --------------------------------------------------------------------------- building


class Builder(Protocol):
    """What builds a new generation once `build_index` holds the lock: the local build, or another."""

    def __call__(self, corpus_dir: Path, index_dir: Path, *, device: str, progress: bool, fresh: bool) -> Store: ...


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    *,
    device: str = "cpu",
    progress: bool = False,
    fresh: bool = False,
    builder: Builder | None = None,
    engine: str = "auto",
    embed: Embed | None = None,
    exact_below: int = EXACT_BELOW,
) -> Store:
    """(Re)build the index, re-embedding only texts the previous index did not hold (all of them if `fresh`,
    as `tutor index --rebuild` asks, even when the index is current).

    `builder` replaces the whole local build (`tutor index --ray`); `engine` picks the embedding engine
    (tutor.embeddings.ENGINES) and `embed` replaces the embedding step; `exact_below` is the number of
    vectors from which passages and units get an approximate (HNSW) index instead of an exact one."""
    from filelock import FileLock, Timeout

    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    check_index_location(corpus_dir, index_dir)
    claim_folder(index_dir)
    asked = _manifest_bytes(index_dir)
    try:
        lock = FileLock(str(index_dir / LOCK))
        lock.acquire(timeout=600)
    except Timeout as exc:
        raise TutorError(f"Another process has been building the index in {index_dir} for 10 minutes.") from exc
    except OSError as exc:
        raise TutorError(f"Cannot write the index in {index_dir} ({exc.strerror or exc}). Use --index DIR.") from exc
    try:
        # Someone else may have finished the same build while we waited for the lock. For a fresh build,
        # only a fresh one that switched generations after we asked will do: what the manifest says
        # about itself (a date, a flag) is not trusted on its own.
        try:
            if not fresh:
                return load_index(index_dir, corpus_fingerprint(corpus_dir))
            if _manifest_bytes(index_dir) != asked and (read_manifest(index_dir) or {}).get("fresh") is True:
                store = load_index(index_dir, corpus_fingerprint(corpus_dir))
                store.rebuilt = True
                return store
        except IndexProblem:
            pass
        _remove_leftovers(index_dir, switched=False)
        if builder is not None:
            return builder(corpus_dir, index_dir, device=device, progress=progress, fresh=fresh)
        return _build_locked(corpus_dir, index_dir, device=device, progress=progress, fresh=fresh, engine=engine,
                             embed=embed, exact_below=exact_below)
    except OSError as exc:
        raise IndexWriteError(
            f"Cannot write the index in {index_dir} ({exc.strerror or exc}); the index there is unchanged. "
            "Free some space, or use --index DIR."
        ) from exc
    finally:
        lock.release()


def _build_locked(
    corpus_dir: Path,
    index_dir: Path,
    *,
    device: str,
    progress: bool,
    fresh: bool,
    engine: str = "auto",
    embed: Embed | None = None,
    exact_below: int = EXACT_BELOW,
) -> Store:
    """Parse, embed what the previous index did not hold, write a new generation. `embed` may replace the
    embedding step (a parallel pipeline, or vectors already known)."""
    started = time.perf_counter()
    fingerprint = corpus_fingerprint(corpus_dir)
    parsed = parse_corpus(corpus_dir)
    cache = {} if fresh else _previous_vectors(index_dir)
    embedded = embed_texts(texts_to_embed(parsed), cache, embed or _embedding_step(device, engine, progress))
    return write_index(index_dir, parsed, cache, fingerprint=fingerprint, embedded=embedded, fresh=fresh,
                       started=started, exact_below=exact_below)


@dataclass
class DocumentParts:
    """One course document cut up for the index: its title, its passages, each passage's quotable units."""

    title: str
    chunks: list[Chunk]
    units: list[list[Unit]]


def cut_document(doc: Document) -> DocumentParts:
    """Sections, passages and units of one document (the work of a build that parallelises per file)."""
    title, sections = split_sections(doc)
    chunks = chunk_sections(sections)
    return DocumentParts(
        title=title or Path(doc.source).stem.replace("-", " ").replace("_", " "),
        chunks=chunks,
        units=[split_units(c.text) for c in chunks],
    )


@dataclass
class ParsedCorpus:
    """A course read and cut up, in corpus order: what an index is built from, before embedding."""

    chunks: list[Chunk]
    unit_rows: list[dict]  # {"chunk": position in `chunks`, "text", "context", "item"}
    unit_texts: list[str]  # what is embedded for each row of `unit_rows`
    titles: list[str]
    warnings: list[str]


def parse_corpus(corpus_dir: Path) -> ParsedCorpus:
    """Read and cut up every course document under `corpus_dir`."""
    documents, warnings = load_corpus(corpus_dir)
    return join_documents(corpus_dir, [cut_document(doc) for doc in documents], warnings)


def join_documents(corpus_dir: Path, parts: list[DocumentParts], warnings: list[str]) -> ParsedCorpus:
    """The corpus from its documents' parts, in corpus order; TutorError when it holds nothing to index."""
    if not parts:
        raise TutorError(
            f"No readable course documents in {corpus_dir} (.txt, .md, .html, .pdf)."
            + (" " + " ".join(warnings) if warnings else "")
        )
    parsed = ParsedCorpus(chunks=[], unit_rows=[], unit_texts=[], titles=[p.title for p in parts],
                          warnings=list(warnings))
    for part in parts:
        for chunk, units in zip(part.chunks, part.units):
            position = len(parsed.chunks)
            parsed.chunks.append(chunk)
            parsed.unit_rows.extend(
                {"chunk": position, "text": u.text, "context": u.context, "item": u.item} for u in units
            )
            parsed.unit_texts.extend(unit_texts(chunk, units))
    if not parsed.chunks:
        raise TutorError(f"The documents in {corpus_dir} hold no text to index.")
    return parsed


def texts_to_embed(parsed: ParsedCorpus) -> list[str]:
    """Every text the index holds a vector for: each passage's, then each unit's (repeats included)."""
    return [passage_text(c) for c in parsed.chunks] + parsed.unit_texts


Embed = Callable[[list[str]], np.ndarray]  # texts → unit-length float32 vectors, one row each


def embed_texts(texts: list[str], cache: dict[str, np.ndarray], embed: Embed) -> int:
    """Step 2 of a build: add to `cache` (keyed by _text_key) the vectors of those `texts` it lacks.
    Each distinct text is embedded once; returns how many were."""
    missing = sorted({t for t in texts if _text_key(t) not in cache})
    if missing:
        vectors = embed(missing)
        if any(len(v) != vectors.shape[1] for v in cache.values()):
            cache.clear()  # vectors of another size cannot sit in one index with the new ones
            return embed_texts(texts, cache, embed)
        cache.update({_text_key(t): v for t, v in zip(missing, vectors)})
    return len(missing)


def write_index(
    index_dir: Path,
    parsed: ParsedCorpus,
    vectors: dict[str, np.ndarray],
    *,
    fingerprint: dict[str, str],
    embedded: int,
    fresh: bool,
    started: float,
    exact_below: int = EXACT_BELOW,
) -> Store:
    """Write `parsed` with its `vectors` (keyed by `_text_key` of each of `texts_to_embed`) as a new generation
    of the index in `index_dir` and switch to it; the caller holds the build lock. `embedded` counts the texts
    embedded for this build, `fresh` says whether that was all of them."""
    files, counts = _index_files(parsed, vectors, exact_below)
    generation = f"generation-{secrets.token_hex(8)}"
    manifest = {
        "format_version": FORMAT_VERSION,
        "chunker_version": CHUNKER_VERSION,
        "embedding_text_version": EMBEDDING_TEXT_VERSION,
        "embedding_model": EMBEDDING_MODEL_NAME,
        "dim": counts["dim"],
        "generation": generation,
        "corpus": fingerprint,
        "chunks": len(parsed.chunks),
        "units": len(parsed.unit_rows),
        "vector_indexes": counts["kinds"],
        "embedded_texts": embedded,
        "fresh": fresh,
        "checksums": {name: hashlib.sha256(blob).hexdigest() for name, blob in files.items()},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.perf_counter() - started, 2),
        "built_unix": time.time(),
    }
    _write_generation(index_dir, generation, files, manifest)
    _remove_leftovers(index_dir, switched=True)
    log.info("Indexed %d passages (%d newly embedded texts) in %s", len(parsed.chunks), embedded, index_dir)
    try:
        store = load_index(index_dir, fingerprint)
    except IndexProblem as problem:  # only if something rewrote the folder behind the lock's back
        raise TutorError(f"The index just written to {index_dir} does not read back ({problem}).") from problem
    store.rebuilt = True
    return store


def _index_files(parsed: ParsedCorpus, cache: dict[str, np.ndarray], exact_below: int) -> tuple[dict[str, bytes], dict]:
    """The bytes of each file of a new generation."""
    import faiss

    dim = len(next(iter(cache.values())))
    chunk_vectors = np.stack([cache[_text_key(passage_text(c))] for c in parsed.chunks]).astype(np.float32)
    unit_vectors = (
        np.stack([cache[_text_key(t)] for t in parsed.unit_texts]).astype(np.float32)
        if parsed.unit_texts
        else np.zeros((0, dim), np.float32)
    )
    chunk_index = make_index(chunk_vectors, exact_below)
    files = {
        CHUNKS: "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in parsed.chunks).encode("utf-8"),
        UNITS: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in parsed.unit_rows).encode("utf-8"),
        CHUNK_VECTORS: faiss.serialize_index(chunk_index).tobytes(),
        DOCUMENTS: (json.dumps({"titles": parsed.titles, "warnings": parsed.warnings}, indent=2,
                               ensure_ascii=False) + "\n").encode("utf-8"),
    }
    kinds = {"passages": "exact" if is_exact(chunk_index) else "hnsw", "units": "exact"}
    if len(unit_vectors) >= exact_below:  # the HNSW index holds the vectors: they are not written twice
        files[UNIT_INDEX] = faiss.serialize_index(make_index(unit_vectors, exact_below)).tobytes()
        kinds["units"] = "hnsw"
    else:
        files[UNIT_VECTORS] = _npy_bytes(unit_vectors)
    return files, {"dim": dim, "kinds": kinds}


_EMBEDDERS: dict[tuple[str, str], object] = {}


def _build_embedder(device: str, engine: str = "auto"):
    """The embedder that builds indexes, loaded once per process (a long-running chat may rebuild often).

    'auto': sentence-transformers on a GPU; on a CPU the direct torch forward pass (TorchMiniLM), which
    gives the same vectors, starts in a fraction of the time and embeds faster (bench/bench_build.py), in
    bfloat16 where the CPU has it natively."""
    key = (device, engine)
    if key not in _EMBEDDERS:
        from tutor.embeddings import load_embedder

        _EMBEDDERS[key] = load_embedder(device, engine=engine, building=True)
    return _EMBEDDERS[key]


def _embedding_step(device: str, engine: str, progress: bool) -> Embed:
    def embed(texts: list[str]) -> np.ndarray:
        embedder = _build_embedder(device, engine)
        if progress:
            how = " in bfloat16" if getattr(embedder, "precision", "float32") == "bfloat16" else ""
            print(f"Embedding {len(texts)} new passages and sentences with {embedder.name} on {device}{how}…")
        return embedder.encode(texts, batch_size=64, progress=progress)

    return embed


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _previous_vectors(index_dir: Path) -> dict[str, np.ndarray]:
    """Vectors of the texts the previous index held, from whichever of its files are intact.

    Passage vectors need chunks.jsonl and chunks.faiss; sentence vectors need chunks.jsonl, units.jsonl and
    units.npy. A file is trusted only if it matches the manifest's checksum, and only vectors made by the
    same model, of the size the manifest states, are kept. So damage to one file costs only its own texts.
    """
    manifest = read_manifest(index_dir)
    if manifest is None or manifest.get("embedding_model") != EMBEDDING_MODEL_NAME:
        return {}
    if manifest.get("embedding_text_version") != EMBEDDING_TEXT_VERSION:
        # The texts are keyed by today's recipe (passage_text, unit_texts); vectors made from another
        # recipe's texts would be filed under the wrong keys.
        return {}
    dim = manifest.get("dim")
    try:
        folder = _generation_folder(index_dir, manifest)
    except IndexProblem:
        if manifest.get("format_version") != 1:
            return {}
        folder = index_dir  # format 1 kept its files beside the manifest
    blob = _verified_bytes(folder, manifest, CHUNKS)
    if blob is None or not isinstance(dim, int):
        return {}
    try:
        chunks = _parse_chunks(blob)
    except (ValueError, TypeError, KeyError):
        return {}
    cache: dict[str, np.ndarray] = {}
    blob = _verified_bytes(folder, manifest, CHUNK_VECTORS)
    if blob is not None:
        try:
            index = _parse_faiss(blob)
            if index.ntotal == len(chunks) and index.d == dim:
                vectors = index.reconstruct_n(0, index.ntotal)
                cache.update({_text_key(passage_text(c)): v for c, v in zip(chunks, vectors)})
        except (RuntimeError, ValueError):
            pass
    rows_blob = _verified_bytes(folder, manifest, UNITS)
    vectors_blob = _verified_bytes(folder, manifest, UNIT_VECTORS)
    if vectors_blob is None and UNIT_INDEX in (manifest.get("checksums") or {}):
        vectors_blob = _verified_bytes(folder, manifest, UNIT_INDEX)  # a large course's vectors live there
    if rows_blob is not None and vectors_blob is not None:
        try:
            rows = [json.loads(line) for line in _lines(rows_blob)]
            vectors = (_parse_npy(vectors_blob) if vectors_blob[:6] == b"\x93NUMPY"
                       else np.array(stored_vectors(_parse_faiss(vectors_blob))))
            if vectors.shape == (len(rows), dim) and vectors.dtype == np.float32:
                by_chunk: dict[int, list[int]] = {}
                for n, row in enumerate(rows):
                    by_chunk.setdefault(int(row["chunk"]), []).append(n)
                for position, members in by_chunk.items():
                    units = [Unit(str(rows[n]["text"]), str(rows[n]["context"]), rows[n].get("item") is True)
                             for n in members]
                    for n, text in zip(members, unit_texts(chunks[position], units)):
                        cache[_text_key(text)] = vectors[n]
        except (ValueError, TypeError, KeyError, IndexError, RuntimeError):
            pass
    return cache


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _write_generation(index_dir: Path, generation: str, files: dict[str, bytes], manifest: dict) -> None:
    """Write a new generation's files into its own folder, then switch to it in one step: its manifest,
    written there last, is renamed over the index's manifest. Until that rename, readers see the previous
    generation, whole; if anything fails first, the new folder is removed and the previous one stays."""
    folder = index_dir / generation
    try:
        folder.mkdir()
        for name, blob in files.items():
            _write_file(folder / name, blob)
        _write_file(folder / MANIFEST, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
        _sync_folder(folder)
        os.replace(folder / MANIFEST, index_dir / MANIFEST)
    except BaseException:
        _remove_generation(folder)
        raise
    _sync_folder(index_dir)


def _write_file(path: Path, data: bytes) -> None:
    """Write and flush to disk (a new file in a new generation: no reader looks at it yet)."""
    with open(path, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (new names, a rename) to disk, where the system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
