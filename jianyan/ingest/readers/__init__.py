"""Readers turn one file into source documents (one per file, or one per record of an export)."""

from __future__ import annotations

from pathlib import Path

from ...documents import SourceDocument
from ...hashing import sha256_hex
from ..filetype import sniff
from ..limits import ReadLimits
from .docx import read_docx
from .pdf import read_pdf
from .records import FieldMapping, RecordProblem, read_records
from .text import read_text

RECORD_FORMATS = ("csv", "jsonl", "xlsx")  # exports: one document per row
TEXT_FORMATS = ("txt", "md", "csv", "jsonl")
MAX_BYTES_PER_CHAR = 4


def file_hash(data: bytes) -> str:
    return sha256_hex(data)


def read_file(path: Path, external_id: str, mapping: FieldMapping | None = None,
              name: str | None = None, limits: ReadLimits | None = None
              ) -> tuple[list[SourceDocument], list[RecordProblem]]:
    """Read `path` (format detected by content). Records files may also return problems.
    `name` is the file's name as the user knows it (an upload's original name), when `path`
    is only where it was saved: it becomes the source and the fallback title.
    The readers count what `limits` bounds; the time and memory limits are the sandbox's
    (`ingest/sandbox.py`, the way every file is read in ingest and 查重)."""
    limits = limits or ReadLimits()
    shown = name or str(path)
    fmt = sniff(path)
    if fmt in TEXT_FORMATS and path.stat().st_size > limits.chars * MAX_BYTES_PER_CHAR:
        raise limits.exceeded("chars", f"{path.stat().st_size:,} 字节", shown)
    if fmt in RECORD_FORMATS:
        docs, problems = read_records(path, fmt, external_id, mapping or FieldMapping(), name, limits)
    else:
        data = path.read_bytes()
        if fmt == "pdf":
            lines, fields = read_pdf(path, limits)
        elif fmt == "docx":
            lines, fields = read_docx(path, limits)
        else:
            lines, fields = read_text(data, shown, limits)
        fields.setdefault("file_title", Path(name).stem if name else path.stem)
        docs, problems = [SourceDocument(external_id, shown, fmt, lines, file_hash(data), fields)], []
    limits.check("chars", sum(len(line.text) for d in docs for line in d.lines), shown)
    # Lines, whatever split them (\r, \n, a record body's own): cleaning runs in the parent.
    limits.check("paragraphs", sum(len(d.lines) for d in docs), shown)
    return docs, problems


__all__ = ["read_file", "FieldMapping", "RecordProblem", "file_hash"]
