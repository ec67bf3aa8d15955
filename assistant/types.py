"""Plain, frozen data passed between the modules."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["current", "superseded"]
Kind = Literal["strategy", "local-offer", "guidance"]
BlockKind = Literal["heading", "paragraph", "list_item", "table_row"]
Span = tuple[int, int]


@dataclass(frozen=True)
class DocumentMeta:
    """One entry of corpus/manifest.toml."""

    id: str
    title: str
    publisher: str
    published: int
    period: str
    status: Status
    kind: Kind
    source_url: str
    file: str
    superseded_by: str | None = None


@dataclass(frozen=True)
class Block:
    """A structural piece of a cleaned document, located by offsets into its text.

    ``parts`` are the verbatim pieces inside the block (table cells' paragraphs
    and list items, or the block itself), so quotes can be joined from them.
    """

    kind: BlockKind
    start: int
    end: int
    level: int = 0
    page: int | None = None
    cells: tuple[tuple[Span, ...], ...] = ()


@dataclass(frozen=True)
class Document:
    """A loaded, cleaned document: its text and the blocks found in it."""

    meta: DocumentMeta
    text: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Chunk:
    """The unit of retrieval.

    ``start``/``end`` locate the chunk in its document's cleaned text;
    ``units`` are the verbatim sentence/cell spans inside it that answers quote;
    ``context`` is the heading path and table headers prepended for embedding.
    """

    id: str
    document_id: str
    section: str
    page: int | None
    start: int
    end: int
    kind: Literal["prose", "table_row"]
    context: str
    units: tuple[Span, ...]
    labels: tuple[str, ...] = ()
    # For table rows: where each unit's column header is in the text (quotes show "Header … value").
    label_spans: tuple[Span | None, ...] = ()
    # For prose: whether each unit is a statement an answer may lead with (ingest/statements.py);
    # a title line, a caption or a line of a poem is not. Empty: every unit is.
    answerable: tuple[bool, ...] = ()

    def is_statement(self, unit: int) -> bool:
        return unit >= len(self.answerable) or self.answerable[unit]


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk as callers see it."""

    text: str
    score: float
    document_id: str
    document_title: str
    status: Status
    section: str
    page: int | None
    start: int
    end: int
    source_url: str
    chunk_id: str = ""
    similarity: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """Where one statement of an answer came from, with the verbatim quote."""

    number: int
    document_id: str
    document_title: str
    section: str
    page: int | None
    quote: str
    source_url: str
    superseded: bool
    chunk_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Reply:
    """The assistant's answer to one message."""

    status: Literal["answered", "not_found", "off_topic", "safeguarding"]
    text: str
    citations: list[Citation] = field(default_factory=list)
    question: str = ""
    standalone_question: str = ""
    backend: str = "extractive"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "text": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "question": self.question,
            "standalone_question": self.standalone_question,
            "backend": self.backend,
        }
