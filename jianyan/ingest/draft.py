"""A draft proposal from a file, for 查重: its title and cleaned body (nothing is stored)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .clean import clean_lines
from .filetype import sniff
from .metadata import extract_metadata
from .readers import read_file


# Far above any proposal (查重 takes at most 50,000 characters); refused before the work of
# decoding and cleaning a file that could never be checked.
MAX_DRAFT_FILE_CHARS = 200_000
TEXT_BYTES_PER_CHAR = 4


def read_draft(path: Path, name: str | None = None, max_chars: int = MAX_DRAFT_FILE_CHARS) -> tuple[str, str]:
    """(title, text) of one draft file (TXT/MD/DOCX/PDF); the title is "" when the file has none
    of its own (a title taken from the file name says nothing about the proposal)."""
    path = Path(path)
    too_long = InputError(f"提案文件过大：正文超过 {max_chars:,} 字，不像一份提案")
    if sniff(path) in ("txt", "md") and path.stat().st_size > max_chars * TEXT_BYTES_PER_CHAR:
        raise too_long
    docs, _ = read_file(path, Path(name or path).name, name=name)
    if len(docs) != 1:
        raise InputError("查重一次只能检查一份提案文件（不支持 CSV/XLSX/JSONL 批量文件）")
    if sum(len(line.text) for line in docs[0].lines) > max_chars:
        raise too_long
    paragraphs = clean_lines(docs[0].lines)
    text = "\n".join(p.text for p in paragraphs)
    meta = extract_metadata(paragraphs, text, docs[0].fields)
    return (meta.title if meta.title != docs[0].fields.get("file_title") else ""), text
