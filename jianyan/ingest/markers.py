"""Heading markers of Chinese official documents.

The numbering hierarchy follows GB/T 9704-2012 (党政机关公文格式) §7.3.3: 一、 → （一） →
1. → （1）; regulations use 第X章 / 第X节 / 第X条; proposals use the section labels
调研情况 / 问题分析 / 具体建议; work reports enumerate inside a paragraph with 一是…二是… or
第一，…第二，…. `rank` orders the families from outermost (0) to innermost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .numerals import cn_to_int

# Proposal section labels as proposal-management systems emit them: the three every Jiangsu
# proposal has, then rarer ones.
CANONICAL_PROPOSAL_SECTIONS = ("调研情况", "问题分析", "具体建议")
PROPOSAL_SECTIONS = CANONICAL_PROPOSAL_SECTIONS + ("对策建议", "存在问题", "原因分析", "意见建议", "建议措施",
                                                   "案由", "办理情况")

_NUM_CN = r"[一二三四五六七八九十]{1,3}"
_NUM_ANY = r"[一二三四五六七八九十百零〇两\d]{1,4}"


@dataclass(frozen=True)
class Family:
    kind: str
    rank: float
    pattern: re.Pattern
    inline: bool  # may also appear mid-paragraph, after a sentence end
    ordinal: bool = False  # 一是 / 第一，: an enumeration that belongs to its paragraph


FAMILIES: tuple[Family, ...] = (
    Family("chapter", 0, re.compile(rf"第({_NUM_ANY})[编章](?![程节])"), inline=False),
    Family("section", 1, re.compile(rf"第({_NUM_ANY})节"), inline=False),
    Family("proposal", 2, re.compile(rf"({'|'.join(PROPOSAL_SECTIONS)})\s*[：:]"), inline=True),
    Family("article", 3, re.compile(rf"第({_NUM_ANY})条(?![例款项件])"), inline=False),
    Family("cn", 3, re.compile(rf"({_NUM_CN})[、．.](?!是)"), inline=True),
    Family("paren_cn", 4, re.compile(rf"[（(]({_NUM_CN})[）)]"), inline=True),
    Family("arabic", 5, re.compile(r"(\d{1,2})(?:[.．](?!\d)|、)"), inline=True),
    Family("paren_arabic", 6, re.compile(r"[（(](\d{1,2})[）)]"), inline=True),
    Family("circled", 7, re.compile(r"([①-⑳])"), inline=True),
    Family("shi", 8, re.compile(rf"({_NUM_CN})是(?![的否非])"), inline=True, ordinal=True),
    Family("di", 8, re.compile(rf"第({_NUM_CN})[，,、：:](?!\d)"), inline=True, ordinal=True),
)
FAMILY_BY_KIND = {f.kind: f for f in FAMILIES}

# Where an inline marker may start: the paragraph start or right after a sentence or clause end.
INLINE_BEFORE = re.compile(r"[。；;：:！？!?][”’」』）)]?\s*$")


def match_at_start(text: str) -> tuple[Family, int | None, re.Match] | None:
    """The heading marker a paragraph starts with, if any."""
    stripped = text.lstrip()
    offset = len(text) - len(stripped)
    for fam in FAMILIES:
        m = fam.pattern.match(stripped)
        if m:
            number = cn_to_int(m.group(1)) if fam.kind != "proposal" else None
            return fam, number, _shift(m, offset)
    return None


class _Shifted:
    """A match moved by `offset` characters (for a stripped paragraph)."""

    def __init__(self, m: re.Match, offset: int) -> None:
        self._m, self._o = m, offset

    def start(self) -> int:
        return self._m.start() + self._o

    def end(self) -> int:
        return self._m.end() + self._o

    def group(self, i: int = 0) -> str:
        return self._m.group(i)


def _shift(m: re.Match, offset: int):
    return _Shifted(m, offset) if offset else m


def style_rank(level: int) -> float:
    """The rank of a heading a style declares (DOCX "Heading 2", Markdown "##" → level 2): levels
    1–3 go just outside 第X章, 第X节 and 一、, deeper levels stay outside 一、."""
    return min(level, 3) - 0.5


def starts_with_marker(text: str) -> bool:
    return match_at_start(text) is not None
