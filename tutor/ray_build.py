"""`tutor index --ray`: parse and embed a course on a Ray cluster; write the index as the local build does.

The build is a Ray Data pipeline over the course files. Each file is read, parsed and cut up where it
lands (one document a row in, one row per passage out); a pool of actors, each loading the embedding
model once, embeds the passages and their quotable units in batches; the rows come back to the driver,
which puts them in corpus order and writes the index with the local build's own steps (`join_documents`,
`write_index`). So the index is the local build's: the same files, the vectors equal up to float rounding.

Workers read the course files themselves, by the path the driver lists: on a cluster, the course folder
must sit at the same path on every node (shared storage), with the same version of tutor installed.
A Ray build embeds every text; it reuses no vectors of a previous index. Ray is imported only here.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from tutor.chunking import CHUNKER_VERSION, Unit
from tutor.errors import TutorError
from tutor.ingest import Document, scan_corpus, source_name
from tutor.models import Chunk
from tutor.repeats import drop_repeats
from tutor.store import (
    EMBEDDING_TEXT_VERSION,
    Builder,
    DocumentParts,
    Store,
    _text_key,
    corpus_fingerprint,
    cut_document,
    join_documents,
    passage_text,
    unit_texts,
    write_index,
)

log = logging.getLogger(__name__)

LOCAL = "local"  # `--ray` without an address: start Ray on this machine (or join RAY_ADDRESS's cluster)
VERSIONS = f"chunker {CHUNKER_VERSION}, embedding text {EMBEDDING_TEXT_VERSION}"
ROWS_PER_BATCH = 64  # passages an actor embeds at once (with their units, a few hundred texts)
MAX_BLOCKS = 1000  # files are spread over at most this many parsing tasks


def ray_builder(address: str = LOCAL) -> Builder:
    """A `store.build_index` builder that parses and embeds on the Ray cluster at `address`."""
    return functools.partial(_build_on_ray, address=address)


def _build_on_ray(
    corpus_dir: Path, index_dir: Path, *, device: str, progress: bool, fresh: bool, address: str
) -> Store:
    """The `store.Builder` of a Ray build: every text is embedded anew, `fresh` or not."""
    started = time.perf_counter()
    ray = _import_ray()
    fingerprint = corpus_fingerprint(corpus_dir)
    paths, warnings = scan_corpus(corpus_dir)
    if not paths:
        join_documents(corpus_dir, [], warnings)  # raises: nothing to index
    ours = _connect(ray, address)
    if progress:
        print(f"Parsing and embedding {len(paths)} course files on Ray "
              f"({'this machine' if address == LOCAL else address}: {ray.cluster_resources().get('CPU', 0):g} CPUs, "
              f"{ray.cluster_resources().get('GPU', 0):g} GPUs)…")
    try:
        rows = _run_pipeline(ray, corpus_dir, paths, device, progress)
    finally:
        if ours:
            ray.shutdown()
    parts, read_warnings, vectors, embedded = _collect(rows, len(paths))
    for warning in warnings + read_warnings:
        log.warning("%s", warning)
    parsed = join_documents(corpus_dir, parts, warnings + read_warnings)
    return write_index(index_dir, parsed, vectors, fingerprint=fingerprint, embedded=embedded, fresh=True,
                       started=started)


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise TutorError("tutor index --ray needs Ray Data, which is not installed: pip install tutor[ray]") from exc
    return ray


def _connect(ray, address: str) -> bool:
    """Connect to Ray (starting it on this machine for LOCAL); True when this call started the connection."""
    if ray.is_initialized():
        return False
    try:
        if address == LOCAL:
            ray.init(include_dashboard=False, logging_level=logging.WARNING)
        else:
            ray.init(address=address, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = "on this machine" if address == LOCAL else f"at {address}"
        raise TutorError(f"Cannot start or reach Ray {where} ({exc}). On the cluster's head node, run "
                         "`ray start --head`; then give its address: tutor index --ray HEAD:6379 (a cluster with "
                         "token authentication also needs RAY_AUTH_MODE=token and its token here).") from exc
    return True


def _run_pipeline(ray, corpus_dir: Path, paths: list[Path], device: str, progress: bool) -> list[dict]:
    """Every row the pipeline makes: per file, a header row (n = -1), then one row per passage."""
    resources = ray.cluster_resources()
    gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 1))
    device = (device or "auto").lower()
    if device.startswith("cuda") and not gpus:
        raise TutorError(f"--device {device} was asked for, but the Ray cluster has no GPUs. Use --device cpu or auto.")
    on_gpu = gpus > 0 and device != "cpu"
    items = [{"doc": n, "path": os.fsencode(os.path.abspath(path)), "source": source_name(corpus_dir, path)}
             for n, path in enumerate(paths)]
    # One actor per GPU, or one per CPU but one (left for parsing); each uses one core.
    actors = gpus if on_gpu else max(1, cpus - 1)
    from ray.util.client import ray as client

    if client.is_connected():
        # Ray Data runs a pipeline from a driver inside the cluster; through Ray Client, one task is that driver.
        task = ray.remote(num_cpus=0)(_pipeline_rows)
        return ray.get(task.remote(items, on_gpu, actors, progress))
    return _pipeline_rows(items, on_gpu, actors, progress)


def _pipeline_rows(items: list[dict], on_gpu: bool, actors: int, progress: bool) -> list[dict]:
    import ray.data
    from ray.data import ActorPoolStrategy, DataContext

    DataContext.get_current().enable_progress_bars = progress
    dataset = ray.data.from_items(items, override_num_blocks=min(len(items), MAX_BLOCKS))
    dataset = dataset.flat_map(_parse_file)
    dataset = dataset.map_batches(
        _EmbedRows,
        fn_constructor_kwargs={"device": "cuda" if on_gpu else "cpu"},
        batch_size=ROWS_PER_BATCH,
        batch_format="numpy",
        compute=ActorPoolStrategy(min_size=1, max_size=actors),
        num_cpus=1,
        num_gpus=1 if on_gpu else 0,
    )
    return list(dataset.iter_rows())


def _parse_file(item: dict) -> list[dict]:
    """Read, parse and cut up one course file (on a worker): its header row, then a row per passage."""
    from tutor.ingest import read_document

    path = Path(os.fsdecode(item["path"]))
    head = {"doc": item["doc"], "n": -1, "source": item["source"], "read": False, "title": "", "warnings": "[]",
            "absent": "", "versions": VERSIONS, "chunk": "", "units": "", "texts": "[]", "text": "", "markup": ""}
    if not os.path.lexists(path):
        return [{**head, "absent": socket.gethostname()}]
    try:
        doc = read_document(path, item["source"])
    except TutorError as exc:
        return [{**head, "warnings": json.dumps([str(exc)])}]
    parts = cut_document(doc)
    # The header carries the text, so that the driver can leave out repeated documents as `load_corpus` does.
    rows = [{**head, "read": True, "title": parts.title, "warnings": json.dumps(list(doc.warnings)),
             "text": doc.text, "markup": doc.markup}]
    for n, (chunk, units) in enumerate(zip(parts.chunks, parts.units)):
        rows.append({
            **head,
            "text": "",
            "markup": "",
            "n": n,
            "chunk": json.dumps(asdict(chunk)),
            "units": json.dumps([[u.text, u.context, u.item] for u in units]),
            "texts": json.dumps([passage_text(chunk), *unit_texts(chunk, units)]),
        })
    return rows


class _EmbedRows:
    """An actor of the pool: loads the embedding model once, then embeds each batch of passage rows."""

    def __init__(self, device: str) -> None:
        from tutor.embeddings import load_embedder

        # The local build's engine ("auto": the direct torch pass on a CPU, in bfloat16 where the CPU has it,
        # sentence-transformers on a GPU), so that both builds compute the same vectors.
        self.embedder = load_embedder(device, engine="auto", building=True)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [json.loads(t) for t in batch["texts"]]
        vectors = self.embedder.encode([t for row in texts for t in row], batch_size=64)
        out, at = [], 0
        for row in texts:
            out.append(np.ascontiguousarray(vectors[at : at + len(row)], dtype=np.float32).tobytes())
            at += len(row)
        return {**batch, "vectors": np.array(out, dtype=object),
                "dim": np.full(len(texts), self.embedder.dim, dtype=np.int64)}


def _collect(rows: list[dict], files: int) -> tuple[list[DocumentParts], list[str], dict[str, np.ndarray], int]:
    """The documents' parts in corpus order, the warnings of reading them, the vectors by text, texts embedded."""
    absent = [row for row in rows if row["absent"]]
    if absent:
        names = ", ".join(row["source"] for row in absent[:3]) + (" …" if len(absent) > 3 else "")
        nodes = ", ".join(sorted({row["absent"] for row in absent}))
        raise TutorError(f"Ray workers found no {names} (on {nodes}): on a cluster, the course folder must be at the "
                         "same path on every node (shared storage).")
    versions = sorted({row["versions"] for row in rows} - {VERSIONS})
    if versions:
        raise TutorError(f"Ray workers run another version of tutor ({versions[0]}; here: {VERSIONS}): "
                         "install the same version on every node.")
    rows = sorted(rows, key=lambda row: (row["doc"], row["n"]))
    heads = [row for row in rows if row["n"] == -1]
    if [row["doc"] for row in heads] != list(range(files)):
        raise TutorError(f"The Ray pipeline returned {len(heads)} of {files} course files; run it again.")
    parts: dict[int, DocumentParts] = {}
    warnings: list[str] = []
    vectors: dict[str, np.ndarray] = {}
    embedded = 0
    read = [Document(row["source"], row["text"], row["markup"]) for row in heads if row["read"]]
    kept, repeats = drop_repeats(read)
    kept_sources = {doc.source for doc in kept}
    for row in rows:
        if row["n"] == -1:
            warnings.extend(json.loads(row["warnings"]))
            if row["read"] and row["source"] in kept_sources:
                parts[row["doc"]] = DocumentParts(title=row["title"], chunks=[], units=[])
            continue
        if row["doc"] not in parts:
            continue  # a repeat of another document, left out as the local build leaves it out
        chunk = Chunk(**json.loads(row["chunk"]))
        part = parts[row["doc"]]
        part.chunks.append(chunk)
        part.units.append([Unit(text, context, item) for text, context, item in json.loads(row["units"])])
        texts = json.loads(row["texts"])
        found = np.frombuffer(row["vectors"], dtype=np.float32).reshape(len(texts), int(row["dim"]))
        vectors.update({_text_key(text): vector for text, vector in zip(texts, found)})
        embedded += len(texts)
    warnings.extend(repeat.warning() for repeat in repeats)
    return list(parts.values()), warnings, vectors, embedded
