"""Okapi BM25 over the postings of the index's segments.

score(d, q) = Σ_{t ∈ q} idf(t) · tf(t,d) / (tf(t,d) + k1 · (1 − b + b · |d| / avgdl))
with idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5)) — the "Lucene" variant of Kamphuis et al.,
"Which BM25 do you mean? A large-scale reproducibility study of scoring variants" (ECIR 2020),
the default of bm25s. k1 = 1.5, b = 0.75. Query tokens count with their multiplicity, as in bm25s.

N, df and avgdl are those of the live passages of all segments together (deleted rows do not
count, unlike Lucene's approximation), so the scores equal an index built from scratch over the
same passages — and bm25s over them (tests). A query reads only its own terms' postings from
the memory-mapped segments; the statistics N and Σ|d| are summed once when the index is opened,
each segment's length normalisation once when a query first needs it.

The loops over postings are compiled (numba): per segment, each term's shares are added into one
dense accumulator, and a histogram of the scores finds the rows at or above the n-th best
without sorting them all. At a million passages a long query reads about a million postings:
~70 ms in numpy (unique + bincount + partition), ~18 ms compiled. The arithmetic is numpy's, in
its order (float32 shares summed in float64), so the scores are the same to the bit.
"""

from __future__ import annotations

import numpy as np

from .segments import SegmentSet

K1, B = 1.5, 0.75
BUCKETS = 4096  # the score histogram of `_best_rows`


def _compiled(function):
    """numba's compiled `function`, its machine code cached beside the module when the folder is
    writable (else compiled once per process)."""
    import numba

    try:
        return numba.njit(cache=True, nogil=True)(function)
    except RuntimeError:  # no writable cache location
        return numba.njit(nogil=True)(function)


@_compiled
def _live_count(rows, live):
    n = 0
    for r in rows:
        if r < 0 or r >= len(live):  # compiled code checks no bounds: a damaged file must not write past them
            raise IndexError("posting row out of range")
        n += live[r]
    return n


@_compiled
def _add_term(acc, rows, tf, norm, weight, live):
    """acc[row] += float32(float32(weight)·tf / (tf + norm[row])) for the live rows (`live`
    empty: all): numpy's `(w * tf / (tf + norm)).astype(float32)` element by element. Returns
    the largest value written: shares are positive, so the last term's is the accumulator's."""
    w = np.float32(weight)
    check = len(live) > 0
    top = 0.0
    for j in range(len(rows)):
        r = rows[j]
        if r < 0 or r >= len(acc):
            raise IndexError("posting row out of range")
        if check and not live[r]:
            continue
        acc[r] += np.float32((w * tf[j]) / (tf[j] + norm[r]))
        top = max(top, acc[r])
    return top


@_compiled
def _best_rows(acc, n, top):
    """Rows with a positive score at or above the n-th best score, ties included (float32
    scores, as returned): a histogram of the scores over (0, `top`], the largest, then one pass
    to collect."""
    top = np.float32(top)
    if not top > 0 or not np.isfinite(top):  # nothing scored, or scores a damaged index made infinite
        return np.flatnonzero(acc > 0)
    counts = np.zeros(BUCKETS, np.int64)
    scale = BUCKETS / np.float64(top)
    for s in acc:
        f = np.float32(s)
        if f > 0:
            counts[min(BUCKETS - 1, int(np.float64(f) * scale))] += 1
    cut, seen = 0, 0
    for bucket in range(BUCKETS - 1, -1, -1):
        seen += counts[bucket]
        if seen >= n:
            cut = bucket
            break
    out = np.empty(seen, np.int64)
    k = 0
    for r in range(len(acc)):
        f = np.float32(acc[r])
        if f > 0 and min(BUCKETS - 1, int(np.float64(f) * scale)) >= cut:
            out[k] = r
            k += 1
    return out[:k]


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
        self._norms: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.n

    @property
    def ids(self) -> np.ndarray:
        return self.segments.ids()

    def _postings(self, term: str) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """(part index, rows, tf) of `term`'s postings per segment, tombstoned rows included."""
        out = []
        for i, part in enumerate(self.parts):
            found = part.segment.postings(term)
            if found is not None and len(found[0]):
                out.append((i, *found))
        return out

    def _live(self, i: int) -> np.ndarray:
        live = self.parts[i].live
        return _NO_MASK if live is None else live

    def _norm(self, i: int) -> np.ndarray:
        """k1·(1 − b + b·|d|/avgdl) of each row of part `i`, computed once per snapshot."""
        norm = self._norms.get(i)
        if norm is None:
            lengths = self.parts[i].segment.lengths
            norm = self._norms[i] = self.k1 * (1 - self.b + self.b * lengths / max(self.avgdl, 1e-9))
        return norm

    def _idf(self, df: int) -> float:
        return float(np.log1p((self.n - df + 0.5) / (df + 0.5)))

    def top(self, query_tokens: list[str], n: int, allowed: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        """The `n` best (passage ids, scores) with a positive score, among `allowed` ids when
        given, and the idf of each distinct query token (the proximity weights)."""
        counts: dict[str, int] = {}
        for t in query_tokens:
            counts[t] = counts.get(t, 0) + 1
        acc: dict[int, np.ndarray] = {}
        top: dict[int, float] = {}
        idf: dict[str, float] = {}
        for term, count in counts.items():
            postings = self._postings(term)
            df = sum(len(rows) if self.parts[i].live is None else int(_live_count(rows, self.parts[i].live))
                     for i, rows, _ in postings)
            idf[term] = self._idf(df) if df else 0.0
            for i, rows, tf in postings:
                if i not in acc:
                    acc[i] = np.zeros(len(self.parts[i].segment), np.float64)
                written = _add_term(acc[i], rows, tf, self._norm(i), count * idf[term], self._live(i))
                top[i] = max(top.get(i, 0.0), written)
        found_ids, found_scores = [], []
        for i, scores in acc.items():
            part = self.parts[i]
            if allowed is not None:
                scores[~part.mask_of(allowed)] = 0.0
                top[i] = float(scores.max())  # the histogram spans the allowed rows' scores
            rows = _best_rows(scores, max(1, n), top[i])
            found_ids.append(part.segment.ids[rows])
            found_scores.append(scores[rows].astype(np.float32))
        if not found_ids:
            return np.zeros(0, np.int64), np.zeros(0, np.float32), idf
        ids, scores = np.concatenate(found_ids), np.concatenate(found_scores)
        return (*top_by_score(ids, scores, n), idf)


_NO_MASK = np.zeros(0, np.bool_)  # `_add_term`'s "every row live"
