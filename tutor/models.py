"""The data model: a few frozen dataclasses that travel between layers.

`to_dict()` exists only for the edges (JSON output, the web API); inside the package
functions take and return these objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

PATH_SEP = " › "


@dataclass(frozen=True)
class Section:
    """A run of a document under one heading path, with its offsets in the source text."""

    source: str
    headings: tuple[str, ...]
    text: str
    start: int
    end: int

    @property
    def path(self) -> str:
        return PATH_SEP.join(self.headings)


@dataclass(frozen=True)
class Chunk:
    """A paragraph-sized passage: what is embedded, retrieved and cited."""

    chunk_id: str
    source: str
    section: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Citation:
    rank: int
    chunk_id: str
    source: str
    section: str
    text: str
    quote: str
    score: float

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    abstained: bool
    generator: str
    citations: tuple[Citation, ...] = ()
    latency_ms: float = 0.0
    id: str | None = None
    error: str | None = None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "generator": self.generator,
            "citations": [c.to_dict() for c in self.citations],
            "latency_ms": round(self.latency_ms, 2),
            "error": self.error,
        }
