"""Cut structure blocks into passages along sentence boundaries.

Size range: passages hold at most MAX_CHARS (400) characters and, where the structure allows,
at least MIN_CHARS (60):
- 400 characters of Chinese are ~300–350 tokens of the multilingual-e5 tokenizer, inside its
  512-token window with room for the heading path, so nothing a passage says is truncated away;
- one proposal suggestion or one 一是… item is 50–300 characters: a passage is one such unit,
  the thing a drafter wants to reuse and a duplicate check wants to align;
- the bundled embedder's throughput falls for longer inputs (notes/embedding.md: ~1,035 chars/s
  at 300 characters, ~820 at 500).
A block longer than MAX_CHARS is cut into equal-sized pieces at sentence ends (。！？；), at
clause ends (，) only for a sentence longer than MAX_CHARS. A block shorter than MIN_CHARS (a
heading line alone) joins the block after it when that block sits under it; a brief item of its
own stays a passage; a fragment under FRAGMENT_CHARS joins the passage before it when both fit.
"""

from __future__ import annotations

import math
import re

from ..documents import Passage
from .structure import Block

MAX_CHARS = 400
MIN_CHARS = 60
FRAGMENT_CHARS = 20

_SENTENCE = re.compile(r"[^。！？；;!?\n]*(?:[。！？；;!?]+[”’」』）)]*|\n|$)")
_CLAUSE = re.compile(r"[^，,、]*(?:[，,、]|$)")


def _pieces(text: str, start: int, pattern: re.Pattern) -> list[tuple[int, int]]:
    spans = []
    for m in pattern.finditer(text):
        if m.end() > m.start():
            spans.append((start + m.start(), start + m.end()))
    return spans


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of text[start:end]; a sentence over MAX_CHARS is cut at clauses, then hard."""
    out: list[tuple[int, int]] = []
    for s, e in _pieces(text[start:end], start, _SENTENCE):
        if e - s <= MAX_CHARS:
            out.append((s, e))
            continue
        for cs, ce in _pieces(text[s:e], s, _CLAUSE):
            while ce - cs > MAX_CHARS:
                out.append((cs, cs + MAX_CHARS))
                cs += MAX_CHARS
            out.append((cs, ce))
    return out


def _pack(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Greedy packing of sentences into spans of about equal size, none over MAX_CHARS."""
    length = end - start
    if length <= MAX_CHARS:
        return [(start, end)]
    target = length / math.ceil(length / MAX_CHARS)
    spans: list[tuple[int, int]] = []
    cur_start = cur_end = None
    for s, e in _sentences(text, start, end):
        if cur_start is None:
            cur_start, cur_end = s, e
        elif e - cur_start > MAX_CHARS or (cur_end - cur_start >= target):
            spans.append((cur_start, cur_end))
            cur_start, cur_end = s, e
        else:
            cur_end = e
    if cur_start is not None:
        spans.append((cur_start, cur_end))
    # A short tail joins the span before it when both fit.
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < MIN_CHARS \
            and spans[-1][1] - spans[-2][0] <= MAX_CHARS:
        spans[-2:] = [(spans[-2][0], spans[-1][1])]
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_under(child: list[str], parent: list[str]) -> bool:
    return len(child) >= len(parent) and child[: len(parent)] == parent


def _common(a: list[str], b: list[str]) -> list[str]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _merge_small(blocks: list[Block], text: str) -> list[Block]:
    merged: list[Block] = []
    pending: Block | None = None  # a short block waiting for the block under it

    def flush() -> None:
        if merged and pending.end - merged[-1].start <= MAX_CHARS:
            prev = merged[-1]
            merged[-1] = Block(prev.start, pending.end, _common(prev.heading_path, pending.heading_path))
        else:
            merged.append(pending)

    for block in blocks:
        if pending is not None:
            if _is_under(block.heading_path, pending.heading_path):
                block = Block(pending.start, block.end, block.heading_path)
            elif len(text[pending.start:pending.end].strip()) < FRAGMENT_CHARS:
                flush()
            else:
                merged.append(pending)  # a short unit of its own (a brief item): keep it
            pending = None
        if len(text[block.start:block.end].strip()) < MIN_CHARS:
            pending = block
            continue
        merged.append(block)
    if pending is not None:
        if len(text[pending.start:pending.end].strip()) < FRAGMENT_CHARS:
            flush()
        else:
            merged.append(pending)
    return merged


def chunk_blocks(blocks: list[Block], text: str) -> list[Passage]:
    passages: list[Passage] = []
    for block in _merge_small(blocks, text):
        for s, e in _pack(text, block.start, block.end):
            s, e = _trim(text, s, e)
            if e > s:
                passages.append(Passage(len(passages), s, e, list(block.heading_path), text[s:e]))
    return passages
