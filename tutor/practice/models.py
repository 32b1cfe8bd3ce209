"""What practice hands out and hands back: a question with its answer from the course, and a verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tutor.errors import TutorError
from tutor.models import Citation

KINDS = ("definition", "comparison", "list", "cloze", "order")
VERDICTS = ("correct", "partly", "incorrect")


@dataclass(frozen=True)
class PracticeItem:
    """One question the tutor asks. `answer` is text of the course; `accept` holds what else counts: the
    listed items (list), each side as "Side: value" (comparison), the blanked term (cloze), the step's words
    (order), the definition (definition). `citation.quote` is the passage's text that answers it; when part of
    the answer lies in other passages (a list that runs on past its passage, the other side of a comparison),
    `also` cites each of them, its quote being that part as the passage has it."""

    id: str
    kind: str
    question: str
    answer: str
    accept: tuple[str, ...]
    citation: Citation
    also: tuple[Citation, ...] = ()

    @property
    def citations(self) -> tuple[Citation, ...]:
        """Every passage the answer comes from, the main one first."""
        return (self.citation,) + self.also

    @property
    def section(self) -> str:
        return self.citation.section

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "kind": self.kind,
            "question": self.question,
            "answer": self.answer,
            "accept": list(self.accept),
            "citation": self.citation.to_dict(),
            "also": [c.to_dict() for c in self.also],
        }

    @classmethod
    def from_dict(cls, data: dict) -> PracticeItem:
        """The item back from `to_dict()` (what the web API and the session keep); TutorError if malformed."""
        def citation_of(c: dict) -> Citation:
            return Citation(
                rank=int(c.get("rank", 1)), chunk_id=str(c["chunk_id"]), source=str(c["source"]),
                section=str(c.get("section", "")), text=str(c["text"]), quote=str(c["quote"]),
                score=float(c.get("score", 1.0)), page=c.get("page"),
            )

        try:
            citation = citation_of(data["citation"])
            also = tuple(citation_of(c) for c in data.get("also") or ())
            kind = str(data["kind"])
            if kind not in KINDS:
                raise ValueError(f"unknown kind {kind!r}")
            return cls(
                id=str(data["id"]), kind=kind, question=str(data["question"]), answer=str(data["answer"]),
                accept=tuple(str(a) for a in data.get("accept") or ()), citation=citation, also=also,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TutorError(
                f"Not a practice item ({exc}): pass an item from Tutor.practice() or its to_dict()."
            ) from exc


@dataclass(frozen=True)
class Grade:
    """The verdict on one answer. `matched` and `missing` name the key terms or items found and not found."""

    verdict: str  # one of VERDICTS
    score: float  # 0 to 1
    feedback: str
    model_answer: str
    citation: Citation
    matched: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        out = asdict(self)
        out["matched"], out["missing"] = list(self.matched), list(self.missing)
        return out
