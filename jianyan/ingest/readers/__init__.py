"""Readers turn one file into source documents (one per file, or one per record of an export)."""

from __future__ import annotations

from pathlib import Path

from ...documents import SourceDocument
from ...hashing import sha256_hex
from ..filetype import sniff
from ..limits import ReadLimits
from ..convert import TARGETS as CONVERTED, Converted
from .docx import read_docx
from .image import read_image
from .ofd import read_ofd
from .pdf import read_pdf
from .records import FieldMapping, RecordProblem, read_records
from .text import read_text

RECORD_FORMATS = ("csv", "jsonl", "xlsx")  # exports: one document per row
TEXT_FORMATS = ("txt", "md", "csv", "jsonl")
MAX_BYTES_PER_CHAR = 4


def file_hash(data: bytes) -> str:
    return sha256_hex(data)


def read_file(path: Path, external_id: str, mapping: FieldMapping | None = None,
              name: str | None = None, limits: ReadLimits | None = None, progress=None
              ) -> tuple[list[SourceDocument], list[RecordProblem]]:
    """Read `path` (format detected by content). Records files may also return problems.
    `name` is the file's name as the user knows it (an upload's original name), when `path`
    is only where it was saved: it becomes the source and the fallback title.
    The readers count what `limits` bounds; the time and memory limits are the sandbox's
    (`ingest/sandbox.py`, the way every file is read in ingest and 查重). `progress(done, total)`
    is called after each scanned page recognised.
    Legacy office files are converted by LibreOffice first (`convert.py`) and keep their own
    format name."""
    limits = limits or ReadLimits()
    shown = name or str(path)
    fmt = sniff(path)
    if fmt in TEXT_FORMATS and path.stat().st_size > limits.chars * MAX_BYTES_PER_CHAR:
        raise limits.exceeded("chars", f"{path.stat().st_size:,} 字节", shown)
    if fmt in CONVERTED:
        with Converted(path, fmt, limits, shown) as made:
            docs, problems = _read_as(made, CONVERTED[fmt], external_id, mapping, name or path.name,
                                      limits, progress, shown, file_hash(path.read_bytes()))
        for doc in docs:
            doc.source_format = fmt
            doc.fields["converted_from"] = fmt
    else:
        docs, problems = _read_as(path, fmt, external_id, mapping, name, limits, progress, shown, None)
    limits.check("chars", sum(len(line.text) for d in docs for line in d.lines), shown)
    # Lines, whatever split them (\r, \n, a record body's own): cleaning runs in the parent.
    limits.check("paragraphs", sum(len(d.lines) for d in docs), shown)
    return docs, problems


def _read_as(path: Path, fmt: str, external_id: str, mapping: FieldMapping | None, name: str | None,
             limits: ReadLimits, progress, shown: str, source_hash: str | None):
    """Read `path` as `fmt`. `source_hash`: the hash of the file the user gave, when `path` is a
    conversion of it."""
    if fmt in RECORD_FORMATS:
        return read_records(path, fmt, external_id, mapping or FieldMapping(), name, limits)
    data = path.read_bytes()
    if fmt == "pdf":
        lines, fields = read_pdf(path, limits, progress)
    elif fmt == "docx":
        lines, fields = read_docx(path, limits)
    elif fmt == "ofd":
        lines, fields = read_ofd(path, limits)
    elif fmt == "image":
        lines, fields = read_image(path, limits, progress)
    else:
        lines, fields = read_text(data, shown, limits)
    fields.setdefault("file_title", Path(name).stem if name else path.stem)
    return [SourceDocument(external_id, shown, fmt, lines, source_hash or file_hash(data), fields)], []


__all__ = ["read_file", "FieldMapping", "RecordProblem", "file_hash"]
