"""Limits on the work one file may cost: every reader runs under them (see `sandbox.py`).

Each limit is a setting (environment variable) with a default far above any real office
document; each breach is a `LimitExceeded` error for that file alone, naming the limit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

from ..errors import LimitExceeded

# field -> (environment variable, what it limits, in Chinese)
_SETTINGS = {
    "seconds": ("JIANYAN_READ_SECONDS", "读取用时（秒）"),
    "memory_mb": ("JIANYAN_READ_MEMORY_MB", "读取内存（MB）"),
    "pages": ("JIANYAN_READ_MAX_PAGES", "PDF 页数"),
    "paragraphs": ("JIANYAN_READ_MAX_PARAGRAPHS", "段落数"),
    "rows": ("JIANYAN_READ_MAX_ROWS", "记录行数"),
    "chars": ("JIANYAN_READ_MAX_CHARS", "文字字数"),
    "field_chars": ("JIANYAN_READ_MAX_FIELD_CHARS", "单个字段字数"),
    "depth": ("JIANYAN_READ_MAX_DEPTH", "JSON 嵌套层数"),
    "megapixels": ("JIANYAN_READ_MAX_MEGAPIXELS", "图像像素（百万）"),
    "ocr_pages": ("JIANYAN_READ_MAX_OCR_PAGES", "文字识别（OCR）页数"),
    "ocr_page_seconds": ("JIANYAN_READ_OCR_PAGE_SECONDS", "每页文字识别用时（秒）"),
}


@dataclass(frozen=True)
class ReadLimits:
    seconds: float = 120.0
    memory_mb: int = 2048
    pages: int = 3000  # a 3,000-page PDF is a book shelf, not a document
    paragraphs: int = 200_000  # counted before parsing: empty ones too
    rows: int = 200_000  # records of one export
    chars: int = 30_000_000  # text of one file (an export of 30,000 proposals)
    field_chars: int = 2_000_000  # one record's field (a proposal is ~5,000)
    depth: int = 50  # nesting of a JSON record
    megapixels: int = 100  # one image (an A4 page at 300 dpi is 8.7)
    ocr_pages: int = 500  # scanned pages recognised in one file (~5 s each on 2 cores)
    ocr_page_seconds: float = 60.0  # added to `seconds` for each page recognised

    @classmethod
    def from_env(cls, **overrides) -> "ReadLimits":
        values = {}
        for f in fields(cls):
            raw = os.environ.get(_SETTINGS[f.name][0], "").strip()
            if raw:
                values[f.name] = float(raw) if f.type == "float" else int(float(raw))
        return replace(cls(**values), **overrides)

    def exceeded(self, name: str, found: str = "", path: str | None = None) -> LimitExceeded:
        """The error for a breach of limit `name` (`found`: what the file has, if known)."""
        env, what = _SETTINGS[name]
        value = getattr(self, name)
        shown = f"{value:g}" if isinstance(value, float) else f"{value:,}"
        got = f"（本文件 {found}）" if found else ""
        return LimitExceeded(f"超出{what}上限 {shown}{got}，已拒绝；如确需导入，可调高设置 {env}",
                             limit=name, path=path)

    def check(self, name: str, count: int, path: str | None = None) -> None:
        if count > getattr(self, name):
            raise self.exceeded(name, f"超过 {getattr(self, name):,}", path)


# 查重 reads one proposal's file: tighter than an archive's, and never looser than the settings.
# Scans are never recognised in a request (OCR takes seconds a page): upload them for import.
_DRAFT = dict(seconds=30.0, memory_mb=1024, pages=200, paragraphs=20_000, rows=1, chars=200_000, ocr_pages=0)


def draft_limits() -> ReadLimits:
    limits = ReadLimits.from_env()
    return replace(limits, **{k: min(v, getattr(limits, k)) for k, v in _DRAFT.items()})
