"""Lines placed on pages (a PDF's text layer, an OFD's text, recognised scans) → paragraphs.

Lines are dicts with `text`, `x0`, `x1`, `top` (any unit, one per document). Running headers
and footers (lines repeated at the top or bottom of most pages, digits ignored) and page numbers
are dropped; lines are re-joined into paragraphs by geometry: a line indented past the left
margin starts a paragraph, a line that stops short of the right margin ends one.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter

from ...documents import SourceLine
from ..clean import is_page_number, join_wrapped

_EDGE_LINES = 2  # lines at the top and bottom of a page that may be running headers/footers


def _edge_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _running_edges(pages: list[list[dict]]) -> set[str]:
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        keys = {_edge_key(ln["text"]) for ln in lines[:_EDGE_LINES] + lines[-_EDGE_LINES:]}
        counts.update(keys)
    return {k for k, n in counts.items() if n >= max(2, 0.5 * len(pages))}


def body_lines(pages: list[list[dict]]) -> list[dict]:
    """The lines of all pages, less page numbers and running headers/footers."""
    edges = _running_edges(pages)
    body = []
    for lines in pages:
        n = len(lines)
        for i, ln in enumerate(lines):
            at_edge = i < _EDGE_LINES or i >= n - _EDGE_LINES
            if is_page_number(ln["text"]) or (at_edge and _edge_key(ln["text"]) in edges):
                continue
            body.append(ln)
    return body


def paragraphs(lines: list[dict]) -> list[SourceLine]:
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
