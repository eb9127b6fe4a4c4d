"""Okapi BM25 over the postings of the index's segments.

score(d, q) = Σ_{t ∈ q} idf(t) · tf(t,d) / (tf(t,d) + k1 · (1 − b + b · |d| / avgdl))
with idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5)) — the "Lucene" variant of Kamphuis et al.,
"Which BM25 do you mean? A large-scale reproducibility study of scoring variants" (ECIR 2020),
the default of bm25s. k1 = 1.5, b = 0.75. Query tokens count with their multiplicity, as in bm25s.

N, df and avgdl are those of the live passages of all segments together (deleted rows do not
count, unlike Lucene's approximation), so the scores equal an index built from scratch over the
same passages — and bm25s over them (tests). A query reads only its own terms' postings from
the memory-mapped segments; the statistics N and Σ|d| are summed once when the index is opened.
"""

from __future__ import annotations

import numpy as np

from .segments import SegmentSet

K1, B = 1.5, 0.75


def top_by_score(ids: np.ndarray, scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The `n` highest scores with their ids, ties broken by id: the same result however the
    rows are spread over segments."""
    if len(scores) > n:
        nth = np.partition(scores, len(scores) - n)[len(scores) - n]
        keep = scores >= nth  # every tie at the cut, then the order decides
        ids, scores = ids[keep], scores[keep]
    order = np.lexsort((ids, -scores))[:n]
    return ids[order], scores[order]


class KeywordIndex:
    def __init__(self, segments: SegmentSet, k1: float = K1, b: float = B) -> None:
        self.segments, self.k1, self.b = segments, k1, b
        self.parts = [p for p in segments.parts if p.segment.keyword]
        self.n = sum(p.live_count for p in self.parts)
        total = sum(float(p.segment.lengths.sum(dtype=np.float64) if p.live is None
                          else p.segment.lengths[p.live].sum(dtype=np.float64)) for p in self.parts)
        self.avgdl = total / self.n if self.n else 1.0

    def __len__(self) -> int:
        return self.n

    @property
    def ids(self) -> np.ndarray:
        return self.segments.ids()

    def _postings(self, term: str) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """(part index, rows, tf) of the live postings of `term`, per segment."""
        out = []
        for i, part in enumerate(self.parts):
            found = part.segment.postings(term)
            if found is None:
                continue
            rows, tf = found
            if part.live is not None:
                ok = part.live[rows]
                rows, tf = rows[ok], tf[ok]
            if len(rows):
                out.append((i, rows, tf))
        return out

    def _idf(self, df: int) -> float:
        return float(np.log1p((self.n - df + 0.5) / (df + 0.5)))

    def top(self, query_tokens: list[str], n: int, allowed: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        """The `n` best (passage ids, scores) with a positive score, among `allowed` ids when
        given, and the idf of each distinct query token (the proximity weights)."""
        counts: dict[str, int] = {}
        for t in query_tokens:
            counts[t] = counts.get(t, 0) + 1
        per_part: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        idf: dict[str, float] = {}
        for term, count in counts.items():
            postings = self._postings(term)
            df = sum(len(rows) for _, rows, _ in postings)
            idf[term] = self._idf(df) if df else 0.0
            for i, rows, tf in postings:
                lengths = self.parts[i].segment.lengths[rows]
                norm = self.k1 * (1 - self.b + self.b * lengths / max(self.avgdl, 1e-9))
                per_part.setdefault(i, []).append((rows, (count * idf[term] * tf / (tf + norm)).astype(np.float32)))
        found_ids, found_scores = [], []
        for i, lists in per_part.items():
            part = self.parts[i]
            rows = np.concatenate([r for r, _ in lists])
            weights = np.concatenate([w for _, w in lists])
            uniq, inverse = np.unique(rows, return_inverse=True)
            scores = np.bincount(inverse, weights=weights).astype(np.float32)
            if allowed is not None:
                mask = part.mask_of(allowed)
                ok = mask[uniq]
                uniq, scores = uniq[ok], scores[ok]
            keep = scores > 0
            found_ids.append(part.segment.ids[uniq[keep]])
            found_scores.append(scores[keep])
        if not found_ids:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), idf
        ids, scores = np.concatenate(found_ids), np.concatenate(found_scores)
        return (*top_by_score(ids, scores, n), idf)
