"""Headings told by their typeface, where the text carries no number.

GB/T 9704-2012 §7.3.3 sets a face per heading level: 一、 in 黑体, （一） in 楷体, 1. and （1） in
仿宋 like the body (offices often set them bold). A work report's sub-headings often have no
number at all ("经济运行保持在合理区间"); in a DOCX, PDF or OFD only their face says they are
headings. Readers give each line the look of its first characters (`Look`) and the share of the
line in that look; `mark_headings` then sets `heading_rank` on the lines that are headings by
their look.

The rank is relative, not a table of fonts: the body look is the one most of the long lines
have; a numbered heading in a look votes for its family's rank (a document that sets 一、 in
bold 仿宋 teaches that bold 仿宋 is that level); an unnumbered heading in a voted look gets that
rank, and one in an unvoted look is placed between the voted looks by prominence (size, then
face, then weight). Only a document with no numbered headings at all falls back on GB/T
9704's own order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .markers import match_at_start

if TYPE_CHECKING:
    from ..documents import SourceLine

HEADING_MAX_CHARS = 40  # a heading is a label, not a sentence (structure.HEADING_LABEL_MAX)
_MIN_SHARE = 0.5  # of a line in its leading look: a bold first word does not make a heading
_SENTENCE_INSIDE = re.compile(r"[。！？；!?;]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Short lines set apart that are not headings: a 成文日期, a table's or figure's caption.
_NOT_A_HEADING = re.compile(r"^(?:(?:19|20)\d{2}\s*年|[〇零一二三四五六七八九]{4}年|[表图]\s*\d)")

# Face classes by name fragments, checked in this order (仿宋 contains 宋).
_FACES = (
    ("fangsong", ("仿宋", "fangsong", "fang song", "fs_gb", "fzfs")),
    ("kai", ("楷", "kai", "stkaiti", "fzkt")),
    ("hei", ("黑", "hei", "yahei", "雅黑", "sans", "gothic", "fzht")),
    ("song", ("宋", "song", "simsun", "nsimsun", "serif", "ming", "fzxbs", "mincho")),
)
# Prominence of a face among headings (GB/T 9704: 黑体 over 楷体 over 仿宋).
_FACE_WEIGHT = {"hei": 3.0, "kai": 2.0, "song": 2.0, "fangsong": 1.0}
# GB/T 9704's ranks (markers.FAMILIES) for a document that numbers none of its headings.
_DEFAULT_RANK = {"hei": 3.0, "kai": 4.0, "song": 3.0}
_BOLD_RANK = 5.0
_LARGER_RANK = 2.5
_BOLD_NAME = re.compile(r"bold|heavy|black|semibold|demibold|粗|[-_ ]b(?:d)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Look:
    """How a run of text is set: face class (or the font's own name), bold, size in points."""

    face: str | None
    bold: bool = False
    size: float | None = None

    def prominence(self) -> tuple[float, float]:
        weight = _FACE_WEIGHT.get(self.face or "", 1.0) + (0.5 if self.bold else 0.0)
        return (round(self.size or 0.0, 1), weight)


def face_of(font_name: str | None) -> str | None:
    """The face class of a font name ("楷体_GB2312", "ABCDEF+SimHei", "AR PL UKai CN" …), else the
    name itself without a subset prefix (two unknown fonts stay two looks)."""
    if not font_name:
        return None
    name = font_name.split("+", 1)[-1].strip()
    lower = name.lower()
    for face, fragments in _FACES:
        if any(f in lower for f in fragments):
            return face
    return lower or None


def is_bold_name(font_name: str | None) -> bool:
    return bool(font_name) and bool(_BOLD_NAME.search(font_name.split("+", 1)[-1]))


def look_of(font_name: str | None, size: float | None, bold: bool | None = None) -> Look | None:
    if size is not None and not (math.isfinite(size) and 0 < size < 10_000):
        size = None  # a damaged size says nothing
    face = face_of(font_name)
    if face is None and size is None:
        return None
    return Look(face, bool(bold) if bold is not None else is_bold_name(font_name),
                round(size * 2) / 2 if size else None)


def _weight(text: str, han_only: bool) -> int:
    return len(_HAN.findall(text)) if han_only else len(text.strip())


def leading_look(runs: list[tuple[str, Look | None]]) -> tuple[Look | None, float]:
    """The look of a line's first Chinese characters and the share of its Chinese characters in
    that look (digits and Latin letters are often set in a western font: "2024 年" in Times and
    仿宋 is a 仿宋 line); a line without Chinese is judged on all its characters."""
    han_only = any(_HAN.search(t) for t, _ in runs)
    total = sum(_weight(t, han_only) for t, _ in runs)
    lead = next((look for t, look in runs if _weight(t, han_only)), None)
    if lead is None or total == 0:
        return None, 0.0
    return lead, sum(_weight(t, han_only) for t, look in runs if look == lead) / total


def _body_look(lines: list["SourceLine"]) -> Look | None:
    weights: Counter[Look] = Counter()
    for ln in lines:
        if ln.look is not None and len(ln.text.strip()) > HEADING_MAX_CHARS:
            weights[ln.look] += len(ln.text)
    return weights.most_common(1)[0][0] if weights else None


def _stands_out(look: Look, body: Look) -> bool:
    """Set apart from the body the way headings are: another face, bold, or larger."""
    if look.size and body.size and look.size < body.size - 0.25:
        return False  # smaller than the body: a note, a caption
    return (look.face != body.face or (look.bold and not body.bold)
            or bool(look.size and body.size and look.size > body.size + 0.25))


def _rank_for(look: Look, body: Look, voted: dict[Look, float]) -> float:
    if look in voted:
        return voted[look]
    key = look.prominence()
    same = [r for lk, r in voted.items() if lk.prominence() == key]
    if same:
        return min(same)
    above = [r for lk, r in voted.items() if lk.prominence() > key]
    below = [r for lk, r in voted.items() if lk.prominence() < key]
    if above and below:
        return (max(above) + min(below)) / 2
    if above:
        return max(above) + 0.5
    if below:
        return min(below) - 0.5
    if look.size and body.size and look.size > body.size + 0.25:
        return _LARGER_RANK
    return _DEFAULT_RANK.get(look.face or "", _BOLD_RANK)


def mark_headings(lines: list["SourceLine"]) -> None:
    """Set `heading_rank` on the lines that are unnumbered headings by their look (in place).

    Lines before the first body line (or the 主送机关 line ending in a colon before it) are the
    document's head (发文机关标志, 文号, title, subtitle, speaker) and are left alone, as are lines that already carry a declared
    heading.
    """
    body = _body_look(lines)
    if body is None:
        return
    votes: dict[Look, Counter[float]] = {}
    for ln in lines:
        if ln.look is None or ln.look == body:
            continue
        found = match_at_start(ln.text)
        if found is not None and found[0].kind != "proposal" and not found[0].ordinal:
            votes.setdefault(ln.look, Counter())[found[0].rank] += 1
    voted = {look: c.most_common(1)[0][0] for look, c in votes.items()}
    in_body = False
    for ln in lines:
        text = ln.text.strip()
        if not in_body:
            # The body itself, or the 主送机关 / 各位代表： before it (a 文号 line in the body's face
            # is still the head).
            in_body = ln.look == body and (len(text) > HEADING_MAX_CHARS or text.endswith(("：", ":", "！", "!")))
            continue
        if (ln.heading_rank is not None or ln.look is None or not text
                or len(text) > HEADING_MAX_CHARS or ln.look_share < _MIN_SHARE
                or _SENTENCE_INSIDE.search(text.rstrip("。")) or match_at_start(text) is not None
                or _NOT_A_HEADING.match(text)
                or not _stands_out(ln.look, body)):
            continue
        ln.heading_rank = _rank_for(ln.look, body, voted)


__all__ = ["Look", "face_of", "look_of", "leading_look", "mark_headings", "HEADING_MAX_CHARS"]
