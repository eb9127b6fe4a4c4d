"""Clean raw lines into paragraphs.

- drop zero-width characters; full-width ASCII letters, digits and % become half-width while
  Chinese punctuation stays (the 2012 report writes 7.5％, queries write 7.5%);
- drop page-number lines (3, - 3 -, 第3页 共9页);
- re-join lines a wrap broke (政府工作报\\n告): when blank lines separate paragraphs, a single
  newline is a wrap; otherwise a line that fills the typical line width and does not end a
  sentence continues on the next one;
- split paragraphs that proposal systems glued together: a run of non-breaking or ideographic
  spaces, or a section label such as 问题分析： right after a sentence end;
- drop the spaces PDF copying leaves between Chinese characters (2015 年 4 月 → 2015年4月).

The stored document text is the cleaned paragraphs joined by "\\n"; passage offsets point into it.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter

from ..documents import Paragraph, SourceLine
from .markers import CANONICAL_PROPOSAL_SECTIONS, PROPOSAL_SECTIONS, starts_with_marker

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f"))
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in list(range(0xFF10, 0xFF1A)) + list(range(0xFF21, 0xFF3B))
              + list(range(0xFF41, 0xFF5B)) + [0xFF05]}
_WS = "\t \u00a0\u3000\u2002\u2003\u2009\u202f"
_PAGE_NUMBER = re.compile(
    r"^[\s\-—–－~·•]*(第\s*)?\d{1,4}\s*(页)?\s*([/／]\s*\d{1,4}|共\s*\d{1,4}\s*页)?[\s\-—–－~·•]*$")
_SENTENCE_END = re.compile(r"[。！？；;!?：:][”’」』）)]*$")
MIN_WRAP_WIDTH = 20
_OPENING = "（(《“‘「『【〔"
_CLOSING = "）)》”’」』】〕，、。；：！？,.;:!?"
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u2018-\u201f\u2026\u2014"
_PARAGRAPH_GAP = re.compile(rf"[{_WS}]*(?:[\u00a0\u3000][{_WS}]*[\u00a0\u3000]|[ \t]{{3,}})[{_WS}]*")
# The three canonical labels are split off wherever they stand (exports often glue them to the
# previous sentence: "…的级别问题分析："); rarer labels only after a sentence end.
_SECTION_SPLIT = re.compile(
    rf"(?<=[。！？；;!?”])[{_WS}]*(?=(?:{'|'.join(PROPOSAL_SECTIONS)})\s*[：:])"
    rf"|[{_WS}]*(?=(?:{'|'.join(CANONICAL_PROPOSAL_SECTIONS)})\s*[：:])")
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])[{_WS}]+|[{_WS}]+(?=[{_CJK}])")
_SPACES = re.compile(rf"[{_WS}]+")


def normalize_chars(s: str) -> str:
    s = s.translate(_ZERO_WIDTH).translate(_FULLWIDTH)
    # A full-width full stop between digits is a decimal point (7．5 → 7.5).
    return re.sub(r"(?<=\d)．(?=\d)", ".", s)


def is_page_number(line: str) -> bool:
    return bool(line.strip()) and bool(_PAGE_NUMBER.match(line))


def _typical_width(lines: list[str]) -> float | None:
    """The width a wrap breaks lines at: the most common length (±1) of lines that stop
    mid-sentence, seen at least 3 times; else the 80th percentile of all line lengths."""
    stripped = [x.strip() for x in lines]
    lengths = [len(x) for x in stripped if len(x) >= 8]
    if len(lengths) < 4:
        return None
    # Pages are wider than 20 characters: shorter repeated lengths are lists (names, items).
    open_ended = Counter(len(x) for x in stripped if len(x) >= MIN_WRAP_WIDTH and not _SENTENCE_END.search(x))
    if open_ended:
        best = max(open_ended, key=lambda n: (open_ended[n - 1] + open_ended[n] + open_ended[n + 1], n))
        if open_ended[best - 1] + open_ended[best] + open_ended[best + 1] >= 3:
            return best - 1
    return statistics.quantiles(lengths, n=10)[7]


def _continues(line: str, nxt: str, width: float | None) -> bool:
    """Does soft line `line` run on into `nxt`?"""
    a, b = line.strip(), nxt.strip()
    if not a or not b:
        return False
    if nxt[:1] in (_WS + "　") and not line.endswith(tuple(_OPENING)):
        return False  # an indented line starts a paragraph
    if b[0] in _CLOSING or a[-1] in _OPENING:
        return True
    if _SENTENCE_END.search(a) or starts_with_marker(b):
        return False
    if starts_with_marker(a) and width is not None and len(a) < 0.7 * width:
        return False  # a heading line
    return width is not None and len(a) >= 0.85 * width


def _blank_mode_continues(line: str, nxt: str) -> bool:
    """With blank lines between paragraphs, a single newline is a wrap, except at a heading."""
    a, b = line.strip(), nxt.strip()
    if starts_with_marker(b):
        return False
    return not (starts_with_marker(a) and len(a) <= 40 and not _SENTENCE_END.search(a))


def join_wrapped(a: str, b: str) -> str:
    a, b = a.rstrip(_WS), b.lstrip(_WS)
    if a and b and a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum():
        return a + " " + b
    return a + b


def join_lines(lines: list[SourceLine]) -> list[Paragraph]:
    """Re-join soft-wrapped lines into paragraphs; hard lines stay as they are."""
    texts = [normalize_chars(x.text.replace("\r", "")) for x in lines]
    soft = [t for x, t in zip(lines, texts) if not x.hard]
    blank_gaps = sum(1 for i in range(1, len(soft)) if not soft[i].strip() and soft[i - 1].strip())
    nonblank = sum(1 for t in soft if t.strip())
    blank_mode = nonblank >= 4 and blank_gaps >= 0.3 * nonblank
    width = _typical_width(soft)

    paragraphs: list[Paragraph] = []
    current: str | None = None
    current_last = ""  # the last soft line joined into `current`
    rank: float | None = None
    for i, (line, text) in enumerate(zip(lines, texts)):
        if is_page_number(text):
            continue
        if line.hard:
            if current is not None:
                paragraphs.append(Paragraph(current, rank))
                current = None
            paragraphs.append(Paragraph(text, line.heading_rank))
            continue
        if not text.strip():
            if current is not None:
                paragraphs.append(Paragraph(current, rank))
                current = None
            continue
        if current is None:
            current, rank = text, line.heading_rank
        elif (_blank_mode_continues(current_last, text) if blank_mode
              else _continues(current_last, text, width)):
            current = join_wrapped(current, text)
        else:
            paragraphs.append(Paragraph(current, rank))
            current, rank = text, line.heading_rank
        current_last = text
    if current is not None:
        paragraphs.append(Paragraph(current, rank))
    return paragraphs


def split_glued(paragraph: Paragraph) -> list[Paragraph]:
    """Split a paragraph at non-breaking-space runs and at proposal section labels."""
    parts: list[Paragraph] = []
    for i, piece in enumerate(_PARAGRAPH_GAP.split(paragraph.text)):
        for j, sub in enumerate(_SECTION_SPLIT.split(piece)):
            parts.append(Paragraph(sub, paragraph.heading_rank if i == 0 and j == 0 else None))
    return parts


def tidy_spaces(s: str) -> str:
    s = _SPACE_NEAR_CJK.sub("", s)
    return _SPACES.sub(" ", s).strip()


def clean_lines(lines: list[SourceLine]) -> list[Paragraph]:
    out: list[Paragraph] = []
    for paragraph in join_lines(lines):
        for part in split_glued(paragraph):
            text = tidy_spaces(part.text)
            if text:
                out.append(Paragraph(text, part.heading_rank))
    return out
