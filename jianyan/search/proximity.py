"""Proximity of query words in a passage: the phrase signal BM25's bag of words lacks."""

from __future__ import annotations

from ..script import match_form

PROXIMITY_WINDOW = 15  # characters


def proximity(text: str, terms: dict[str, float], window: int = PROXIMITY_WINDOW) -> float:
    """Share of the query's IDF mass that occurs together in one window of `window` characters.

    BM25 treats a passage as a bag of words; a drafter's figure ("国内生产总值增长7.5%") is a
    phrase. Rewarding query words that stand close together is the classic remedy (Tao & Zhai,
    "An exploration of proximity measures in information retrieval", SIGIR 2007).
    """
    total = sum(terms.values())
    if total <= 0:
        return 0.0
    lowered = match_form(text)
    hits: list[tuple[int, str]] = []
    for term in terms:
        start = lowered.find(term)
        while start >= 0:
            hits.append((start, term))
            start = lowered.find(term, start + 1)
    if not hits:
        return 0.0
    hits.sort()
    best, left, counts = 0.0, 0, {}
    mass = 0.0
    for right, (pos, term) in enumerate(hits):
        counts[term] = counts.get(term, 0) + 1
        if counts[term] == 1:
            mass += terms[term]
        while pos - hits[left][0] > window:
            t = hits[left][1]
            counts[t] -= 1
            if counts[t] == 0:
                mass -= terms[t]
            left += 1
        best = max(best, mass)
    return best / total
