"""PDF with a text layer, via pdfplumber.

Lines are re-joined into paragraphs by geometry: a line indented past the left margin starts a
paragraph, a line that stops short of the right margin ends one. Running headers and footers
(lines repeated at the top or bottom of most pages, digits ignored) and page numbers are
dropped. A PDF without a text layer is reported as needing OCR, never stored empty.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from pathlib import Path

from ...documents import SourceLine
from ...errors import CorruptFile, EncryptedFile, LimitExceeded, NeedsOCR
from ..clean import is_page_number, join_wrapped
from ..limits import ReadLimits

_EDGE_LINES = 2  # lines at the top and bottom of a page that may be running headers/footers


def _edge_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _declared_pages(pdf) -> int:
    """The page count the page tree declares, read before the tree is walked."""
    from pdfminer.pdftypes import resolve1

    try:
        return int(resolve1(resolve1(pdf.doc.catalog["Pages"])["Count"]))
    except Exception:  # noqa: BLE001 - no usable count: the walk below counts
        return 0


def _open(path: Path, limits: ReadLimits):
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(str(path))
        limits.check("pages", _declared_pages(pdf), str(path))
        _ = pdf.pages  # forces the page tree to be parsed
        limits.check("pages", len(pdf.pages), str(path))
        return pdf
    except (MemoryError, LimitExceeded):
        raise
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise EncryptedFile("PDF 已加密，需要密码才能读取，请先解除加密", path=str(path)) from exc
    except Exception as exc:
        # pdfplumber wraps pdfminer's errors: look at the whole chain for a password problem.
        chain, e = [], exc
        while e is not None and len(chain) < 5:
            chain.append(type(e).__name__ + " " + " ".join(map(repr, getattr(e, "args", ()))))
            e = e.__cause__ or e.__context__
        name = type(exc).__name__
        if any("Password" in c or "Encrypt" in c for c in chain):
            raise EncryptedFile("PDF 已加密，需要密码才能读取，请先解除加密", path=str(path)) from exc
        raise CorruptFile(f"PDF 文件已损坏或被截断，无法读取（{name}）", path=str(path)) from exc


def _page_lines(pdf, path: Path, limits: ReadLimits) -> list[list[dict]]:
    pages, chars = [], 0
    try:
        for page in pdf.pages:
            lines = [ln for ln in page.extract_text_lines(return_chars=False) if ln["text"].strip()]
            lines.sort(key=lambda ln: (round(ln["top"]), ln["x0"]))
            pages.append(lines)
            chars += sum(len(ln["text"]) for ln in lines)
            limits.check("chars", chars, str(path))
            page.close()  # drops the page's parsed objects: memory stays one page's
    except (MemoryError, LimitExceeded):
        raise
    except Exception as exc:
        raise CorruptFile(f"PDF 内容损坏，无法提取文字（{type(exc).__name__}）", path=str(path)) from exc
    return pages


def _running_edges(pages: list[list[dict]]) -> set[str]:
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        keys = {_edge_key(ln["text"]) for ln in lines[:_EDGE_LINES] + lines[-_EDGE_LINES:]}
        counts.update(keys)
    return {k for k, n in counts.items() if n >= max(2, 0.5 * len(pages))}


def read_pdf(path: Path, limits: ReadLimits | None = None) -> tuple[list[SourceLine], dict]:
    limits = limits or ReadLimits()
    pdf = _open(path, limits)
    with pdf:
        info = pdf.metadata or {}
        pages = _page_lines(pdf, path, limits)
    if not any(pages):
        raise NeedsOCR("PDF 没有文字层（可能是扫描件），需要先做 OCR 识别，暂不支持导入", path=str(path))
    edges = _running_edges(pages)
    body = []
    for lines in pages:
        n = len(lines)
        for i, ln in enumerate(lines):
            at_edge = i < _EDGE_LINES or i >= n - _EDGE_LINES
            if is_page_number(ln["text"]) or (at_edge and _edge_key(ln["text"]) in edges):
                continue
            body.append(ln)
    fields = {}
    title = str(info.get("Title") or "").strip()
    if title:
        fields["title"] = title
    return _paragraphs(body), fields


def _paragraphs(lines: list[dict]) -> list[SourceLine]:
    if not lines:
        return []
    widths = [(ln["x1"] - ln["x0"]) / max(1, len(ln["text"])) for ln in lines]
    char_w = statistics.median(widths)
    left = min(ln["x0"] for ln in lines)
    right = statistics.quantiles([ln["x1"] for ln in lines], n=10)[8] if len(lines) >= 4 \
        else max(ln["x1"] for ln in lines)
    paragraphs: list[str] = []
    current = ""
    for ln in lines:
        text = ln["text"].strip()
        indented = ln["x0"] > left + 1.2 * char_w
        if current and indented:
            paragraphs.append(current)
            current = ""
        current = join_wrapped(current, text) if current else text
        if ln["x1"] < right - 1.5 * char_w:  # stops short of the margin: paragraph ends
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return [SourceLine(p, hard=True) for p in paragraphs]
