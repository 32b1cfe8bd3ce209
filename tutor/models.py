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
    page: int | None = None  # 1-based page, for documents that have pages (PDF)

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
    page: int | None = None  # 1-based page, for documents that have pages (PDF)


@dataclass(frozen=True)
class Citation:
    """A passage the answer quotes; `quote` is always a verbatim substring of `text`."""

    rank: int
    chunk_id: str
    source: str
    section: str
    text: str
    quote: str
    score: float
    page: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


# How a question was read; each form has its own answer shape (see tutor/answering/).
FORMS = (
    "definition", "factoid", "list", "comparison", "explanation", "procedure", "multipart", "overview", "smalltalk",
)


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
    # Added fields (the schema only grows):
    form: str | None = None  # one of FORMS
    interpreted_as: str | None = None  # the question as answered, when a follow-up or a word was rewritten
    also_retrieved: tuple[Citation, ...] = ()  # passages retrieved but not quoted: never citations, no quote
    highlights: tuple[str, ...] = ()  # substrings of `text` that answer (a year, number, name, term): shown bold

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
            "form": self.form,
            "interpreted_as": self.interpreted_as,
            "also_retrieved": [c.to_dict() for c in self.also_retrieved],
            "highlights": list(self.highlights),
        }
