"""Proximity of query words in a passage: the phrase signal BM25's bag of words lacks."""

from __future__ import annotations

import numpy as np

from ..script import match_form_joined

PROXIMITY_WINDOW = 15  # characters
_GAP = "\x00" * (PROXIMITY_WINDOW + 1)  # between passages joined into one string: no window spans two


def proximity(text: str, terms: dict[str, float], window: int = PROXIMITY_WINDOW) -> float:
    """Share of the query's IDF mass that occurs together in one window of `window` characters."""
    return proximities([text], terms, window)[0]


def proximities(texts: list[str], terms: dict[str, float], window: int = PROXIMITY_WINDOW) -> list[float]:
    """For each text, the largest share of the query's IDF mass whose words all start within one
    window of `window` characters ending at a word's start.

    BM25 treats a passage as a bag of words; a drafter's figure ("国内生产总值增长7.5%") is a
    phrase. Rewarding query words that stand close together is the classic remedy (Tao & Zhai,
    "An exploration of proximity measures in information retrieval", SIGIR 2007).
    All texts are searched at once, joined into one string: for every occurrence `p` of a query
    word, each word counts whose some occurrence starts in [p − window, p] (found by binary search
    in its sorted positions) — vectorised, no Python loop over texts or over windows.
    """
    total = sum(terms.values())
    if total <= 0 or not texts:
        return [0.0] * len(texts)
    lowered = match_form_joined(texts, _GAP)
    starts = np.cumsum([0] + [len(t) + len(_GAP) for t in texts[:-1]])
    codes = _code_points(lowered)
    positions = {t: _occurrences(codes, t) for t in terms if t}
    hits = np.sort(np.concatenate([p for p in positions.values()] or [np.zeros(0, np.int64)]))
    if not len(hits):
        return [0.0] * len(texts)
    mass = np.zeros(len(hits))
    for term, pos in positions.items():
        if len(pos) and terms[term]:
            inside = np.searchsorted(pos, hits, "right") - np.searchsorted(pos, hits - window, "left")
            mass += terms[term] * (inside > 0)
    owner = np.searchsorted(starts, hits, "right") - 1
    best = np.zeros(len(texts))
    np.maximum.at(best, owner, mass)
    return (best / total).tolist()


def _code_points(text: str) -> np.ndarray:
    """The text as an array of code points: positions in it are positions in the string."""
    return np.frombuffer(text.encode("utf-32-le"), np.uint32)


def _occurrences(codes: np.ndarray, term: str) -> np.ndarray:
    """Start of every occurrence of `term` in `codes`, overlapping ones too: one array pass per
    character of the term over the candidates left, no Python loop over hits."""
    chars = _code_points(term)
    if len(chars) > len(codes):
        return np.zeros(0, np.int64)
    found = np.flatnonzero(codes[:len(codes) - len(chars) + 1] == chars[0])
    for offset, char in enumerate(chars[1:], 1):
        found = found[codes[found + offset] == char]
    return found.astype(np.int64)

