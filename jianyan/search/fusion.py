"""Fusion of document score maps (keyword, dense, clause coverage) into one ranking: one small
function per method, and `fuse` to pick one by name (`FusionConfig.method`). Each channel comes
with its weight; a document a channel did not return counts as that channel's worst."""

from __future__ import annotations

from typing import Callable

import numpy as np

Scores = dict[int, float]
Channels = list[tuple[float, Scores]]  # (weight, document scores) per channel
RRF_K = 60


def zscore(channels: Channels, rrf_k: int = RRF_K) -> Scores:
    """Σ w·z(channel), z = (s − mean) / sd over each channel's candidates (Montague & Aslam,
    "Relevance score normalization for metasearch", CIKM 2001); a document a channel did not
    return gets that channel's lowest z."""
    fused: Scores = {}
    docs = set().union(*(scores for _, scores in channels))
    for weight, scores in channels:
        if not scores or not weight:
            continue
        vals = np.fromiter(scores.values(), float)
        mu, sd = vals.mean(), vals.std() or 1.0
        floor = (vals.min() - mu) / sd
        for d in docs:
            z = (scores[d] - mu) / sd if d in scores else floor
            fused[d] = fused.get(d, 0.0) + weight * z
    return fused


def minmax(channels: Channels, rrf_k: int = RRF_K) -> Scores:
    """Σ w·norm(channel), each min–max normalised over its candidates."""
    fused: Scores = {}
    for weight, scores in channels:
        if not scores:
            continue
        vals = np.fromiter(scores.values(), float)
        lo, hi = vals.min(), vals.max()
        for d, s in scores.items():
            fused[d] = fused.get(d, 0.0) + weight * ((s - lo) / (hi - lo) if hi > lo else 1.0)
    return fused


def rrf(channels: Channels, rrf_k: int = RRF_K) -> Scores:
    """Σ w / (k + rank): Cormack, Clarke & Büttcher, "Reciprocal rank fusion outperforms Condorcet
    and individual rank learning methods" (SIGIR 2009), k = 60."""
    fused: Scores = {}
    for weight, scores in channels:
        for rank, d in enumerate(sorted(scores, key=scores.get, reverse=True), start=1):
            fused[d] = fused.get(d, 0.0) + weight / (rrf_k + rank)
    return fused


METHODS: dict[str, Callable[..., Scores]] = {"zscore": zscore, "weighted": minmax, "rrf": rrf}


def fuse(method: str, channels: Channels, rrf_k: int = RRF_K) -> Scores:
    if method not in METHODS:
        raise ValueError(f"unknown fusion method {method!r}; one of {', '.join(METHODS)}")
    return METHODS[method](channels, rrf_k)


def prefer(doc_scores: Scores, preferred: set[int], bonus: float) -> Scores:
    """Min–max normalised scores plus `bonus` for the preferred documents (a boost, never a filter)."""
    if not doc_scores:
        return doc_scores
    vals = np.fromiter(doc_scores.values(), float)
    lo, hi = vals.min(), vals.max()
    span = (hi - lo) or 1.0
    return {d: (s - lo) / span + (bonus if d in preferred else 0.0) for d, s in doc_scores.items()}
