"""Chinese numerals as official documents write them (headings 十一、, dates 二〇一九年三月五日)."""

from __future__ import annotations

import re

CN_DIGITS = "零〇一二三四五六七八九十百两"
_CN_VALUE = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}


def cn_to_int(s: str) -> int | None:
    """Parse a Chinese or Arabic numeral up to 999 (十一 → 11, 二十 → 20, 一百零五 → 105)."""
    if s.isascii() and s.isdigit():
        return int(s)
    if len(s) == 1 and "①" <= s <= "⑳":
        return ord(s) - ord("①") + 1
    total, current = 0, 0
    for ch in s:
        if ch in _CN_VALUE:
            current = _CN_VALUE[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def cn_digits_to_int(s: str) -> int:
    """A number written digit by digit, as years are (二〇一九 → 2019)."""
    return int("".join(str(_CN_VALUE[c]) for c in s))


_SMALL = re.compile(r"[一二三四五六七八九]?十[一二三四五六七八九]?|[一二三四五六七八九]")


def cn_small_to_int(s: str) -> int | None:
    """A month or day (一 … 三十一), only when well formed: 一二 is no number."""
    return cn_to_int(s) if _SMALL.fullmatch(s) else None
