"""Find the heading structure of a cleaned document and cut it into blocks.

A block is a maximal span of text under one heading path. Headings are found at paragraph
starts (一、 （一） 1. 第X条 调研情况： …, or a heading style the source declares) and inside
paragraphs (…。一是…。二是…; …：1.…。2.…), where only a run numbered 1, 2, 3… in order counts,
so that a stray "二是" or "3." in running text is not taken for a heading.

Nesting: a family already open is continued (its sibling replaces it); otherwise entries of the
same or a deeper rank are closed (GB/T 9704 order). Markers found inside a paragraph, and the
一是/第一， enumerations, belong to their paragraph and close at its end, unless the paragraph is
the heading alone (a report that puts "一是推进农业结构调整。" on its own line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from ..documents import HeadingNode
from .markers import FAMILIES, INLINE_BEFORE, Family, match_at_start
from .numerals import cn_to_int

HEADING_LABEL_MAX = 40
_SENTENCE_END = re.compile(r"[。！？；;!?]")


@dataclass
class Block:
    start: int
    end: int
    heading_path: list[str]


@dataclass
class _Open:
    family: Family | None  # None: a heading declared by the source's style
    rank: float
    node: HeadingNode
    scoped: bool  # closes at the end of its paragraph
    number: int | None = None


@dataclass
class Structure:
    tree: list[HeadingNode] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)


def heading_label(paragraph: str, pos: int, family: Family | None, marker_end: int) -> str:
    """The label shown in a heading path: the heading's first sentence, kept short."""
    if family is not None and family.kind == "proposal":
        return re.sub(r"\s*[：:]$", "", paragraph[pos:marker_end])
    rest = paragraph[pos:]
    m = _SENTENCE_END.search(rest)
    label = rest[: m.start()] if m else rest
    label = label.strip()
    if family is not None and family.kind == "article":
        return paragraph[pos:marker_end].strip()
    if len(label) > HEADING_LABEL_MAX:
        comma = label.find("，", 4, HEADING_LABEL_MAX)
        label = label[:comma] if comma > 0 else label[: HEADING_LABEL_MAX - 1] + "…"
    return label


class Cut(NamedTuple):
    """A heading marker found in a paragraph: where it starts and ends (offsets in the paragraph),
    its family (None for a heading the source's style declared), its number, and whether it stands
    inside the paragraph rather than at its start."""

    at: int
    marker_end: int
    family: Family | None
    number: int | None
    inline: bool


def _inline_markers(paragraph: str, start_match) -> list[Cut]:
    """Markers inside a paragraph that form an in-order run (1, 2, 3…) of one family."""
    found: list[Cut] = []
    for fam in FAMILIES:
        if not fam.inline:
            continue
        expected = 1
        if start_match is not None and start_match[0] is fam and start_match[1] is not None:
            expected = start_match[1] + 1
        run: list[Cut] = []
        for m in fam.pattern.finditer(paragraph):
            if m.start() == 0 or not INLINE_BEFORE.search(paragraph[: m.start()]):
                continue
            if fam.kind == "proposal":
                run.append(Cut(m.start(), m.end(), fam, None, True))
                continue
            number = cn_to_int(m.group(1))
            if number == expected:
                run.append(Cut(m.start(), m.end(), fam, number, True))
                expected += 1
        # A lone inline item is no enumeration unless it continues one the paragraph began.
        begun_here = start_match is not None and start_match[0] is fam
        if fam.kind == "proposal" or len(run) >= 2 or (run and begun_here):
            found.extend(run)
    found.sort(key=lambda c: c.at)
    # Two families at one position (e.g. "一、" inside "（一、"): keep the first found.
    dedup: list[Cut] = []
    for item in found:
        if dedup and item.at < dedup[-1].marker_end:
            continue
        dedup.append(item)
    return dedup


def parse_structure(text: str, heading_ranks: dict[int, float] | None = None) -> Structure:
    """Parse `text` (paragraphs separated by "\\n") into a heading tree and blocks.

    `heading_ranks` maps a paragraph's index to the rank of a heading its source declared (by a
    style or a typeface; ranks as in `markers.FAMILIES`).
    """
    heading_ranks = heading_ranks or {}
    out = Structure()
    stack: list[_Open] = []
    segments: list[Block] = []

    def close(entry: _Open, pos: int) -> None:
        entry.node.end = pos

    def open_heading(pos: int, label: str, family: Family | None, rank: float,
                     number: int | None, scoped: bool, inline: bool) -> None:
        if family is not None and any(e.family is family for e in stack):
            while stack:
                e = stack.pop()
                close(e, pos)
                if e.family is family:
                    break
        elif not inline:
            while stack and (stack[-1].rank >= rank or stack[-1].scoped):
                close(stack.pop(), pos)
        node = HeadingNode(label=label, kind=family.kind if family else "style",
                           start=pos, end=pos)
        (stack[-1].node.children if stack else out.tree).append(node)
        stack.append(_Open(family, rank, node, scoped, number))

    pos = 0
    for index, paragraph in enumerate(text.split("\n")):
        p_start, p_end = pos, pos + len(paragraph)
        pos = p_end + 1
        if not paragraph.strip():
            continue
        cuts: list[Cut] = []
        start_match = match_at_start(paragraph)
        if start_match is not None:
            fam, number, m = start_match
            cuts.append(Cut(m.start(), m.end(), fam, number, False))
            start_info = (fam, number)
        elif index in heading_ranks:
            cuts.append(Cut(0, 0, None, None, False))
            start_info = None
        else:
            start_info = None
        cuts.extend(_inline_markers(paragraph, start_info))

        seg_from = p_start
        for at, marker_end, fam, number, inline in cuts:
            if p_start + at > seg_from:
                segments.append(Block(seg_from, p_start + at, [e.node.label for e in stack]))
                seg_from = p_start + at
            label = heading_label(paragraph, at, fam, marker_end)
            heading_alone = label == paragraph.strip().rstrip("。；;：:")
            if fam is None:
                open_heading(p_start, label, None, heading_ranks[index], None, scoped=False, inline=False)
                continue
            scoped = inline or (fam.ordinal and not heading_alone)
            open_heading(p_start + at, label, fam, fam.rank, number, scoped, inline)
        segments.append(Block(seg_from, p_end, [e.node.label for e in stack]))
        # Paragraph-scoped headings end with their paragraph (they are always on top: a
        # paragraph-start heading closes them before it opens).
        while stack and stack[-1].scoped:
            close(stack.pop(), p_end)
    for e in stack:
        close(e, len(text))
    out.blocks = _merge_segments(segments, text)
    return out


def _merge_segments(segments: list[Block], text: str) -> list[Block]:
    """Join consecutive segments with the same heading path; drop blank ones."""
    blocks: list[Block] = []
    for seg in segments:
        if not text[seg.start:seg.end].strip():
            continue
        if blocks and blocks[-1].heading_path == seg.heading_path:
            blocks[-1].end = seg.end
        else:
            blocks.append(Block(seg.start, seg.end, list(seg.heading_path)))
    return blocks


def iter_nodes(tree: list[HeadingNode], depth: int = 0):
    for node in tree:
        yield depth, node
        yield from iter_nodes(node.children, depth + 1)


__all__ = ["Block", "Structure", "parse_structure", "heading_label", "iter_nodes"]
