"""Data that flows through ingest: reader → clean → structure → chunk → store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SourceLine:
    """One line or paragraph as a reader found it.

    `hard` says the reader knows this line ends a paragraph (DOCX paragraphs, PDF lines
    re-joined by geometry); plain text lines are soft and may be re-joined by cleaning.
    `heading_rank` is a heading the source declares, by a style (DOCX "Heading 2", Markdown
    "##": `markers.style_rank`) or by its typeface (`typography.mark_headings`), at a rank in the
    order of `markers.FAMILIES`. `look` is how the line's first characters are set and
    `look_share` the share of the line set so (DOCX, PDF, OFD; None where the format has no fonts).
    """

    text: str
    hard: bool = False
    heading_rank: float | None = None
    look: Any = None  # typography.Look
    look_share: float = 0.0


@dataclass
class SourceDocument:
    """A document as read from a file or a record, before cleaning."""

    external_id: str
    source: str  # the file path (and "#row" for records) it came from
    source_format: str  # txt, md, docx, pdf, csv, xlsx, jsonl
    lines: list[SourceLine]
    source_hash: str  # hash of the raw input; unchanged input is not ingested again
    fields: dict[str, Any] = field(default_factory=dict)  # mapped or format metadata
    extra: dict[str, Any] = field(default_factory=dict)  # unmapped record columns, kept
    row: int | None = None  # a record's row (line of a JSONL file) as messages name it; None for a file


@dataclass
class Paragraph:
    text: str
    heading_rank: float | None = None


@dataclass
class HeadingNode:
    """A heading in the structure tree; `start`/`end` are offsets in the document text."""

    label: str
    kind: str
    start: int
    end: int
    children: list["HeadingNode"] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "children": [c.to_dict() for c in self.children],
        }


@dataclass
class Passage:
    """A retrievable span: `text == document_text[start:end]`."""

    seq: int
    start: int
    end: int
    heading_path: list[str]
    text: str


@dataclass
class DocumentMetadata:
    title: str
    doc_type: str  # proposal | report | policy | other
    doc_number: str | None = None
    issuer: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd (or yyyy-mm / yyyy when that is all there is)
    year: int | None = None
    category: str | None = None
    author: str | None = None


@dataclass
class PreparedDocument:
    """A document ready for the store: cleaned text, structure, passages, metadata."""

    external_id: str
    source: str
    source_format: str
    source_hash: str
    text: str
    metadata: DocumentMetadata
    structure: list[HeadingNode]
    passages: list[Passage]
    extra: dict[str, Any] = field(default_factory=dict)


def lines_from_text(text: str) -> list[SourceLine]:
    """Soft lines of a plain text (any line ending); cleaning decides which lines are paragraphs."""
    return [SourceLine(t) for t in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
