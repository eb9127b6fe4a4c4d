"""Readers turn one file into source documents (one per file, or one per record of an export)."""

from __future__ import annotations

from pathlib import Path

from ...documents import SourceDocument
from ...hashing import sha256_hex
from ..filetype import sniff
from .docx import read_docx
from .pdf import read_pdf
from .records import FieldMapping, RecordProblem, read_records
from .text import read_text

RECORD_FORMATS = ("csv", "jsonl", "xlsx")  # exports: one document per row


def file_hash(data: bytes) -> str:
    return sha256_hex(data)


def read_file(path: Path, external_id: str, mapping: FieldMapping | None = None,
              name: str | None = None) -> tuple[list[SourceDocument], list[RecordProblem]]:
    """Read `path` (format detected by content). Records files may also return problems.
    `name` is the file's name as the user knows it (an upload's original name), when `path`
    is only where it was saved: it becomes the source and the fallback title."""
    fmt = sniff(path)
    if fmt in RECORD_FORMATS:
        return read_records(path, fmt, external_id, mapping or FieldMapping(), name)
    data = path.read_bytes()
    digest = file_hash(data)
    if fmt == "pdf":
        lines, fields = read_pdf(path)
    elif fmt == "docx":
        lines, fields = read_docx(path)
    else:
        lines, fields = read_text(data, name or str(path))
    fields.setdefault("file_title", Path(name).stem if name else path.stem)
    return [SourceDocument(external_id, name or str(path), fmt, lines, digest, fields)], []


__all__ = ["read_file", "FieldMapping", "RecordProblem", "file_hash"]
