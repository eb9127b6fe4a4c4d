"""A draft proposal from a file, for 查重: its title and cleaned body (nothing is stored)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .clean import clean_lines
from .metadata import extract_metadata
from .readers import read_file


def read_draft(path: Path, name: str | None = None) -> tuple[str, str]:
    """(title, text) of one draft file (TXT/MD/DOCX/PDF); the title is "" when the file has none
    of its own (a title taken from the file name says nothing about the proposal)."""
    docs, _ = read_file(Path(path), Path(name or path).name, name=name)
    if len(docs) != 1:
        raise InputError("查重一次只能检查一份提案文件（不支持 CSV/XLSX/JSONL 批量文件）")
    paragraphs = clean_lines(docs[0].lines)
    text = "\n".join(p.text for p in paragraphs)
    meta = extract_metadata(paragraphs, text, docs[0].fields)
    return (meta.title if meta.title != docs[0].fields.get("file_title") else ""), text
