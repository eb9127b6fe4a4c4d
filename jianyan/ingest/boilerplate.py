"""Find boilerplate that a batch of documents repeats at its end (licence footers, disclaimers).

General mechanism, no hard-coded strings: among the last TAIL_PARAGRAPHS paragraphs of every
document in a batch, a paragraph whose normalised text ends at least MIN_SHARE of the documents
(and at least MIN_DOCS of them) is boilerplate; each document loses the run of boilerplate
paragraphs at its very end, when that run holds at least one paragraph of MIN_FOOTER_CHARS. Genuine closing sentences differ from document to document, so
they survive; a footer pasted by a scraper or a template does not.
"""

from __future__ import annotations

import re
from collections import Counter

from ..documents import Paragraph

TAIL_PARAGRAPHS = 8
MIN_DOCS = 3
MIN_SHARE = 0.05
FUZZY_CONTAINMENT = 0.8
MIN_FOOTER_CHARS = 20


def _key(text: str) -> str:
    return re.sub(r"\s+", "", text)


def find_tail_boilerplate(documents: list[list[Paragraph]]) -> set[str]:
    if len(documents) < MIN_DOCS:
        return set()
    counts: Counter[str] = Counter()
    for paragraphs in documents:
        counts.update({_key(p.text) for p in paragraphs[-TAIL_PARAGRAPHS:]})
    floor = max(MIN_DOCS, MIN_SHARE * len(documents))
    return {k for k, n in counts.items() if k and n >= floor}


def _grams(key: str, n: int = 4) -> set[str]:
    return {key[i:i + n] for i in range(len(key) - n + 1)}


def strip_tail(paragraphs: list[Paragraph], boilerplate: set[str]) -> list[Paragraph]:
    """Drop the run of boilerplate paragraphs at the end.

    A paragraph counts when it is a learnt one, or when FUZZY_CONTAINMENT of its character
    4-grams occur in the learnt ones: the same footer wrapped at another place ("本作品来自\n
    中华人民共和国法律…") must go too.
    """
    if not boilerplate:
        return paragraphs
    grams = set().union(*(_grams(b) for b in boilerplate))

    def is_boilerplate(text: str) -> bool:
        key = _key(text)
        if key in boilerplate:
            return True
        own = _grams(key)
        return bool(own) and len(own & grams) >= FUZZY_CONTAINMENT * len(own)

    end = len(paragraphs)
    while end > 0 and is_boilerplate(paragraphs[end - 1].text):
        end -= 1
    # A footer has substance; a run of short repeated lines alone (an issuer's name, "（此件公开
    # 发布）", an empty "具体建议：") is the document's own signature or structure: keep it.
    if not any(len(_key(p.text)) >= MIN_FOOTER_CHARS for p in paragraphs[end:]):
        return paragraphs
    # Keep at least one paragraph: a document that is all boilerplate is left for the user to see.
    return paragraphs[:end] if end > 0 else paragraphs
