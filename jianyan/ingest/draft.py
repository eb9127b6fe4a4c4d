"""A draft proposal for 查重: its title, cleaned text and passages — prepared exactly as a stored
document is (`pipeline.split_paragraphs`), cleaned once, and never stored."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..documents import Paragraph, Passage, lines_from_text
from ..errors import DraftError, InputError
from .clean import clean_lines
from .filetype import sniff
from .limits import ReadLimits, draft_limits
from .metadata import extract_metadata
from .pipeline import split_paragraphs
from .readers import RECORD_FORMATS
from .sandbox import read_limited

MIN_DRAFT_CHARS = 20
MAX_DRAFT_CHARS = 50_000


@dataclass
class Draft:
    title: str
    text: str  # the cleaned text (title line first when there is one); evidence offsets refer to it
    passages: list[Passage]


def draft_from_text(text: str, title: str = "") -> Draft:
    """A draft typed or pasted: the title (案由) as its first line, then the body."""
    body = _checked_body(text)
    title = (title or "").strip()
    return _draft(title, clean_lines(lines_from_text(f"{title}\n{body}" if title else body)))


def read_draft(path: Path, name: str | None = None, title: str = "",
               limits: ReadLimits | None = None) -> Draft:
    """A draft from one file (any single-document format), read in the sandbox under `limits`
    (default: the draft limits, far tighter than an archive's, and no OCR: a scan is refused). `title` overrides the file's own; a title
    taken from the file name says nothing about the proposal and is not used."""
    path, title = Path(path), (title or "").strip()
    if sniff(path) in RECORD_FORMATS + ("xls", "et"):  # even a one-row export: a draft is one proposal's own file
        raise InputError("查重一次只能检查一份提案文件（不支持 CSV/XLSX/JSONL 批量文件）")
    docs, _ = read_limited(path, Path(name or path).name, name=name, limits=limits or draft_limits())
    paragraphs = clean_lines(docs[0].lines)
    _checked_body("\n".join(p.text for p in paragraphs))
    if not title:
        found = extract_metadata(paragraphs, "\n".join(p.text for p in paragraphs), docs[0].fields).title
        title = found if found != docs[0].fields.get("file_title") else ""
    if title:
        # The title as the body's lines are cleaned (spaces, full-width letters), so that a file
        # whose first line is the title does not get it twice.
        heading = clean_lines(lines_from_text(title))
        if heading and (not paragraphs or paragraphs[0].text != heading[0].text):
            paragraphs = [*heading, *paragraphs]
    return _draft(title, paragraphs)


def _checked_body(text: str) -> str:
    body = (text or "").strip()
    if len(body) < MIN_DRAFT_CHARS:
        raise DraftError(f"提案正文太短（{len(body)} 字），至少需要 {MIN_DRAFT_CHARS} 字才能查重")
    if len(body) > MAX_DRAFT_CHARS:
        raise DraftError(f"提案正文过长（{len(body)} 字），请控制在 {MAX_DRAFT_CHARS} 字以内")
    return body


def _draft(title: str, paragraphs: list[Paragraph]) -> Draft:
    text, _, passages = split_paragraphs(paragraphs)
    return Draft(title, text, passages)
