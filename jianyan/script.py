"""Traditional and simplified Chinese: one form for matching, the original for display.

Members from Hong Kong, Macao and Taiwan write in traditional characters. Everything that
compares text — BM25 tokens, highlighting, proximity, 查重 shingles, the embedding model's input
and structure/metadata patterns (關於…的提案, 第一條) — sees `fold(text)`: the text converted to
simplified Chinese by OpenCC (`t2s`, phrase-aware). The stored text, passages and titles keep the
script they were written in.

`fold` keeps the length of the text, character for character, so offsets found in the folded
text (highlights, headings, copied spans) are offsets in the original. OpenCC's phrase tables may
change a phrase's length; where they do, that stretch is folded one character at a time.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

# A text is "traditional" when this share of its Chinese characters change under t2s. Simplified
# text changes at well under 1% (characters OpenCC treats as variants); traditional text at
# 15-30% (measured on the corpora and their s2t conversion: tests/test_script.py).
TRADITIONAL_SHARE = 0.05
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def _convert(text: str) -> str:
    with _lock:  # one converter, shared; OpenCC's C++ object is not documented as thread-safe
        return _converter().convert(text)


def fold(text: str) -> str:
    """`text` in simplified Chinese, as long as `text` (see the module docstring)."""
    if not text or text.isascii():
        return text
    out = _convert(text)
    if len(out) == len(text):
        return out
    pieces = []  # rare: some phrase changed length; fold line by line, then character by character
    for line in text.splitlines(keepends=True):
        folded = _convert(line)
        if len(folded) != len(line):
            folded = "".join(c if len(f := _convert(c)) != 1 else f for c in line)
        pieces.append(folded)
    return "".join(pieces)


def match_form(text: str) -> str:
    """The form two texts are compared in: folded and lower-cased (same length as `text`)."""
    folded = fold(text)
    lowered = folded.lower()
    return lowered if len(lowered) == len(folded) else folded


def match_form_joined(texts: list[str], gap: str) -> str:
    """`match_form` of each text, joined with `gap`, in one conversion for all of them (OpenCC
    costs ~50 µs a call): each text keeps its length, so its slice of the result is its own."""
    joined = gap.join(texts)
    lowered = fold(joined).lower()
    if len(lowered) == len(joined):
        return lowered
    return gap.join(match_form(t) for t in texts)  # a character whose lower case is longer


def match_forms(texts: list[str]) -> list[str]:
    """`match_form` of each text (one conversion for all)."""
    joined, out, at = match_form_joined(texts, "\n"), [], 0
    for text in texts:
        out.append(joined[at:at + len(text)])
        at += len(text) + 1
    return out


def traditional_share(text: str) -> float:
    """The share of `text`'s Chinese characters that t2s changes."""
    han = [m.start() for m in _HAN.finditer(text)]
    if not han:
        return 0.0
    folded = fold(text)
    return sum(1 for i in han if folded[i] != text[i]) / len(han)


def is_traditional(text: str) -> bool:
    return traditional_share(text[:20_000]) >= TRADITIONAL_SHARE


def restore(value: str | None, folded: str, original: str) -> str | None:
    """A string found in `folded` (a title, a heading label) as `original` writes it."""
    if not value or folded == original:
        return value
    at = folded.find(value)
    return original[at:at + len(value)] if at >= 0 else value
