"""Limits on the work one file may cost: every reader runs under them (see `sandbox.py`).

Each limit is a setting (environment variable) with a default far above any real office
document; each breach is a `LimitExceeded` error for that file alone, naming the limit. A
setting that is not a number in its range is refused when read (`config.env_number`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from ..config import env_number
from ..errors import LimitExceeded

# field -> (environment variable, what it limits in Chinese, the least and the most it may be set to)
_SETTINGS = {
    "seconds": ("JIANYAN_READ_SECONDS", "读取用时（秒）", 0.1, 86_400),
    "memory_mb": ("JIANYAN_READ_MEMORY_MB", "读取内存（MB）", 64, 1 << 20),
    "pages": ("JIANYAN_READ_MAX_PAGES", "页数（PDF、OFD、多页图像）", 1, 10**7),
    "paragraphs": ("JIANYAN_READ_MAX_PARAGRAPHS", "段落数", 1, 10**9),
    "rows": ("JIANYAN_READ_MAX_ROWS", "记录行数", 1, 10**9),
    "chars": ("JIANYAN_READ_MAX_CHARS", "文字字数", 1, 10**12),
    "field_chars": ("JIANYAN_READ_MAX_FIELD_CHARS", "单个字段字数", 1, 2**31 - 1),  # csv.field_size_limit: a C long
    "depth": ("JIANYAN_READ_MAX_DEPTH", "JSON 嵌套层数", 1, 10_000),
    "megapixels": ("JIANYAN_READ_MAX_MEGAPIXELS", "图像像素（百万）", 1, 10_000),
    "ocr_pages": ("JIANYAN_READ_MAX_OCR_PAGES", "文字识别（OCR）页数", 0, 10**6),
    "ocr_page_seconds": ("JIANYAN_READ_OCR_PAGE_SECONDS", "每页文字识别用时（秒）", 1, 3_600),
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
        """The limits set in the environment (`JIANYAN_READ_*`), the defaults for the rest;
        a `JianyanError` naming the setting when one is not a number in its range."""
        values = {}
        for f in fields(cls):
            env, _, least, most = _SETTINGS[f.name]
            values[f.name] = env_number(env, float if f.type == "float" else int, f.default, least, most)
        return replace(cls(**values), **overrides)

    def exceeded(self, name: str, found: str = "", path: str | None = None) -> LimitExceeded:
        """The error for a breach of limit `name` (`found`: what the file has, if known)."""
        env, what, _, _ = _SETTINGS[name]
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


def draft_limits(limits: ReadLimits | None = None) -> ReadLimits:
    """The draft limits within `limits` (default: read from the settings now)."""
    limits = limits or ReadLimits.from_env()
    return replace(limits, **{k: min(v, getattr(limits, k)) for k, v in _DRAFT.items()})
