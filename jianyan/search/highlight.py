"""Spans of query words in a passage, for highlighting, and a snippet around the best of them."""

from __future__ import annotations

from ..script import match_form


def find_spans(text: str, terms: list[str], lowered: str | None = None) -> list[list[int]]:
    """Non-overlapping [start, end) spans of `terms` in `text`; longer terms win overlaps.
    `lowered`: the text's `match_form` when the caller has it (`match_forms` of many at once)."""
    taken = bytearray(len(text))
    spans: list[list[int]] = []
    if lowered is None:
        lowered = match_form(text)  # same length as text: traditional text matches simplified terms
    for term in terms:  # longest first
        start = lowered.find(term)
        while start >= 0:
            end = start + len(term)
            if not any(taken[start:end]):
                taken[start:end] = b"\x01" * len(term)
                spans.append([start, end])
            start = lowered.find(term, end)
    spans.sort()
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return merged


def snippet(text: str, spans: list[list[int]], width: int = 120) -> tuple[str, int]:
    """A window of about `width` characters around the densest highlights; returns (snippet, offset)."""
    if len(text) <= width:
        return text, 0
    best_start, best_cover = 0, -1
    for s, _ in spans or [[0, 0]]:
        start = max(0, min(s - width // 4, len(text) - width))
        cover = sum(min(e, start + width) - max(b, start) for b, e in spans if b < start + width and e > start)
        if cover > best_cover:
            best_start, best_cover = start, cover
    return text[best_start:best_start + width], best_start
