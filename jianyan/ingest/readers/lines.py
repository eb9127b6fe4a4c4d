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


def row_groups(items: list[dict]) -> list[list[dict]]:
    """Items side by side at one height, top to bottom (an item joins the row it overlaps by
    half its height)."""
    rows: list[list[dict]] = []
    top = bottom = 0.0
    for it in sorted(items, key=lambda it: (it["top"] + it["bottom"]) / 2):
        if rows:
            overlap = min(bottom, it["bottom"]) - max(top, it["top"])
            if overlap > 0.5 * min(bottom - top, it["bottom"] - it["top"]):
                rows[-1].append(it)
                top, bottom = min(top, it["top"]), max(bottom, it["bottom"])
                continue
        rows.append([it])
        top, bottom = it["top"], it["bottom"]
    return rows


def _gutter(rows: list[list[dict]], left: float, span: float) -> tuple[float, float] | None:
    """The widest vertical strip in the middle half of the text that at most a tenth of the
    rows cross (a title over both columns, even letter-spaced, crosses it; columns do not)."""
    bins = 400
    cover = np.zeros(bins + 1, np.int32)
    for row in rows:
        marks = np.zeros(bins + 1, np.int8)
        for it in row:
            a = int((it["x0"] - left) / span * (bins - 1))
            z = int(math.ceil((it["x1"] - left) / span * (bins - 1)))
            marks[max(0, a):max(0, z) + 1] = 1
        cover += marks
    allowed = int(0.1 * len(rows))
    best, i = None, bins // 4
    while i < 3 * bins // 4:
        if cover[i] <= allowed:
            j = i
            while j < 3 * bins // 4 and cover[j] <= allowed:
                j += 1
            if best is None or j - i > best[1] - best[0]:
                best = (i, j)
            i = j
        else:
            i += 1
    if best is None:
        return None
    return left + best[0] / bins * span, left + best[1] / bins * span


def column_groups(items: list[dict]) -> list[tuple[int, list[dict]]]:
    """Split a page's placed items (lines, words, boxes) into reading-order groups: bands of the
    page, each band column by column; each group tagged 0 (full width), 1 (left) or 2 (right).

    Items are first put into rows (one height). A gutter is a vertical strip in the middle half
    of the text's width that at most a tenth of the rows cross; a page has two columns only if
    on each side at least three rows have text that fills most of that side (a form's short
    cells, or a signature set to the right, do not). A row that crosses the gutter (a
    title over both columns) is read whole and cuts the page into bands; each band is read left
    column, then right column.
    """
    if len(items) < 6 or not all(math.isfinite(it[k]) for it in items for k in ("x0", "x1", "top", "bottom")):
        return [(0, items)]
    left = min(it["x0"] for it in items)
    right = max(it["x1"] for it in items)
    span = right - left
    if span <= 0:
        return [(0, items)]
    rows = row_groups(items)
    heights = sorted(it["bottom"] - it["top"] for it in items)
    line_h = heights[len(heights) // 2]
    strip = _gutter(rows, left, span)
    if strip is None or strip[1] - strip[0] < 0.8 * line_h:
        return [(0, items)]
    gx = (strip[0] + strip[1]) / 2
    # Columns of text: at least three rows on each side whose text there fills most of that side.
    full = [0, 0]
    for row in rows:
        if any(it["x0"] < gx < it["x1"] for it in row):
            continue
        for k, (part, width) in enumerate((([it for it in row if it["x1"] <= gx], gx - left),
                                           ([it for it in row if it["x0"] >= gx], right - gx))):
            if part and max(it["x1"] for it in part) - min(it["x0"] for it in part) >= 0.6 * width:
                full[k] += 1
    if min(full) < 3:
        return [(0, items)]
    groups: list[tuple[int, list[dict]]] = []
    band_l: list[dict] = []
    band_r: list[dict] = []
    for row in rows:
        if any(it["x0"] < gx < it["x1"] for it in row):
            groups += [(column, band) for column, band in ((1, band_l), (2, band_r)) if band]
            groups.append((0, row))
            band_l, band_r = [], []
        else:
            band_l += [it for it in row if it["x1"] <= gx]
            band_r += [it for it in row if it["x0"] >= gx]
    groups += [(column, band) for column, band in ((1, band_l), (2, band_r)) if band]
    return groups
