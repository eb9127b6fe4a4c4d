"""Lines placed on pages (a PDF's text layer, an OFD's text, recognised scans) → paragraphs.

Lines are dicts with `text`, `x0`, `x1`, `top` (any unit, one per document), optionally
`column` (0 full width, 1 left, 2 right: `column_groups`) and `runs` (the line's text in pieces
with their `typography.Look`). Running headers and footers (lines repeated at the top or bottom
of most pages, digits ignored) and page numbers are dropped; lines are re-joined into paragraphs
by geometry: a line indented past its column's left margin starts a paragraph, a line that stops
short of the right margin ends one. Headings marked only by their typeface are found last
(`typography.mark_headings`).
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter

import numpy as np

from ...documents import SourceLine
from ..clean import is_page_number, join_wrapped
from ..typography import leading_look, mark_headings

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


def _margins(lines: list[dict]) -> tuple[float, float]:
    left = min(ln["x0"] for ln in lines)
    right = statistics.quantiles([ln["x1"] for ln in lines], n=10)[8] if len(lines) >= 4 \
        else max(ln["x1"] for ln in lines)
    return left, right


def paragraphs(lines: list[dict]) -> list[SourceLine]:
    if not lines:
        return []
    widths = [(ln["x1"] - ln["x0"]) / max(1, len(ln["text"])) for ln in lines]
    char_w = statistics.median(widths)
    by_column: dict[int, list[dict]] = {}
    for ln in lines:
        by_column.setdefault(ln.get("column", 0), []).append(ln)
    margins = {column: _margins(group) for column, group in by_column.items()}
    out: list[SourceLine] = []
    current, runs = "", []

    def end_paragraph() -> None:
        nonlocal current, runs
        if current:
            look, share = leading_look(runs)
            out.append(SourceLine(current, hard=True, look=look, look_share=share))
        current, runs = "", []

    for ln in lines:
        text = ln["text"].strip()
        left, right = margins[ln.get("column", 0)]  # a paragraph may flow on into the next column
        if current and ln["x0"] > left + 1.2 * char_w:
            end_paragraph()
        current = join_wrapped(current, text) if current else text
        runs.extend(ln.get("runs") or [(text, None)])
        if ln["x1"] < right - 1.5 * char_w:  # stops short of the margin: paragraph ends
            end_paragraph()
    end_paragraph()
    mark_headings(out)
    return out


def carry_columns(pages: list[list[dict]]) -> None:
    """Tag the lines of pages where no gutter was seen (a last page with only a few lines in its
    left column) by the gutter the document's two-column pages have, so that they are measured
    against their column's margins."""
    gutters = []
    for lines in pages:
        lefts = [ln["x1"] for ln in lines if ln.get("column") == 1]
        rights = [ln["x0"] for ln in lines if ln.get("column") == 2]
        if lefts and rights:
            gutters.append((max(lefts) + min(rights)) / 2)
    if not gutters:
        return
    gx = statistics.median(gutters)
    for lines in pages:
        if any(ln.get("column") for ln in lines):
            continue
        for ln in lines:
            ln["column"] = 1 if ln["x1"] <= gx else 2 if ln["x0"] >= gx else 0


def column_groups(items: list[dict]) -> list[tuple[int, list[dict]]]:
    """Split a page's placed items (lines, words, boxes) into reading-order groups: bands of the
    page, each band column by column; each group tagged 0 (full width), 1 (left) or 2 (right).

    A gutter is a vertical strip, in the middle half of the text's width, that no item crosses
    and that has at least three items on each side. Items that cross it (a title over both
    columns) cut the page into bands; each band is read left column, then right column.
    """
    if len(items) < 6:
        return [(0, items)]
    left = min(it["x0"] for it in items)
    right = max(it["x1"] for it in items)
    span = right - left
    if span <= 0:
        return [(0, items)]
    heights = sorted(it["bottom"] - it["top"] for it in items)
    line_h = heights[len(heights) // 2]
    bins = 400
    cover = np.zeros(bins, np.int32)
    narrow = [it for it in items if it["x1"] - it["x0"] < 0.6 * span]
    for it in narrow:
        a = int((it["x0"] - left) / span * (bins - 1))
        z = int(math.ceil((it["x1"] - left) / span * (bins - 1)))
        cover[a:z + 1] += 1
    best = None  # the widest empty run inside the middle half
    i = bins // 4
    while i < 3 * bins // 4:
        if cover[i] == 0:
            j = i
            while j < 3 * bins // 4 and cover[j] == 0:
                j += 1
            if best is None or j - i > best[1] - best[0]:
                best = (i, j)
            i = j
        else:
            i += 1
    if best is None or (best[1] - best[0]) / bins * span < 0.8 * line_h:
        return [(0, items)]
    gx = left + (best[0] + best[1]) / 2 / bins * span
    lcol = [it for it in items if it["x1"] <= gx]
    rcol = [it for it in items if it["x0"] >= gx]
    if len(lcol) < 3 or len(rcol) < 3:
        return [(0, items)]
    spanning = sorted((it for it in items if it["x0"] < gx < it["x1"]), key=lambda it: it["top"])
    groups: list[tuple[int, list[dict]]] = []
    cuts = [it["top"] for it in spanning] + [math.inf]
    prev = -math.inf
    for k, cut in enumerate(cuts):
        band_l = [it for it in lcol if prev <= it["top"] < cut]
        band_r = [it for it in rcol if prev <= it["top"] < cut]
        groups += [(column, g) for column, g in ((1, band_l), (2, band_r)) if g]
        if k < len(spanning):
            groups.append((0, [spanning[k]]))
            prev = spanning[k]["top"]
    return groups
