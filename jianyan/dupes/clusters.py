"""并案: groups of stored proposals on the same matter.

Every pair with a candidate signal (sharing text by the LSH Ensemble, or a rewording probability
≥ the related level, from the pair's semantic score and both sides' k nearest neighbours among
the proposals clustered, as in a check) gets its 查重 verdict; the groups are the connected components of the duplicate and
overlap pairs, each listed with its members and the pairs that join them.
"""

from __future__ import annotations

import numpy as np

from .shingles import copied_spans, minhash
from .verdicts import FLAGGED, NEIGHBOURS_K, REWORDING_MODEL, verdict, verdict_fields


def pairwise_semantic(texts: list) -> np.ndarray:
    """min(forward, reverse) for every pair of texts (`ComparedText`), as a square matrix."""
    allv = np.vstack([t.vectors for t in texts])
    owner = np.concatenate([[i] * len(t.starts) for i, t in enumerate(texts)])
    bounds = np.searchsorted(owner, np.arange(len(texts) + 1))
    fwd = np.zeros((len(texts), len(texts)))
    for i, t in enumerate(texts):
        best = np.maximum.reduceat(t.vectors @ allv.T, bounds[:-1], axis=1)
        fwd[i] = (best * t.lengths[:, None]).sum(0) / t.lengths.sum()
    return np.minimum(fwd, fwd.T)


def rewording_probabilities(semantic: np.ndarray) -> np.ndarray:
    """P(rewording) of every pair of a square semantic matrix: each side's neighbourhood is its
    NEIGHBOURS_K nearest others; the model is applied both ways round and averaged (symmetric)."""
    others = semantic.copy()
    np.fill_diagonal(others, -np.inf)
    k = min(NEIGHBOURS_K, len(semantic) - 1)
    level = np.sort(others, axis=1)[:, ::-1][:, :k].mean(axis=1)
    n = len(semantic)
    a, b = np.broadcast_to(level[:, None], (n, n)), np.broadcast_to(level[None, :], (n, n))
    both = [REWORDING_MODEL.probability(np.stack([semantic.ravel(), x.ravel(), y.ravel()], axis=1))
            for x, y in ((a, b), (b, a))]
    return ((both[0] + both[1]) / 2).reshape(n, n)


def connected_groups(nodes: list[int], edges: list[tuple[int, int]]) -> list[list[int]]:
    """Connected components (union–find with path halving), in the order of `nodes`."""
    parent = {d: d for d in nodes}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for d in nodes:
        groups.setdefault(find(d), []).append(d)
    return list(groups.values())


def cluster_proposals(checker, year: int | None = None) -> list[dict]:
    docs = [d for d in checker.proposal_ids if year is None or checker.docs[d].year == year]
    if len(docs) < 2:
        return []
    pos = {d: i for i, d in enumerate(docs)}
    texts = checker.stored(docs)
    semantic = pairwise_semantic([texts[d] for d in docs])
    lsh = checker.lsh_index()
    pairs: set[tuple[int, int]] = set()
    for d in docs:
        m, size = minhash(texts[d].text)
        for other in (lsh.query(m, size) if size else ()):
            if other != d and other in pos:
                pairs.add((min(d, other), max(d, other)))
    probability = rewording_probabilities(semantic)
    i_idx, j_idx = np.nonzero(np.triu(probability >= checker.t.related_probability, k=1))
    pairs |= {(min(docs[i], docs[j]), max(docs[i], docs[j])) for i, j in zip(i_idx, j_idx)}
    edges = []
    for a, b in sorted(pairs):
        _, cov_a, cov_b = copied_spans(texts[a].norm(), texts[b].norm())
        scores = {"copied_draft": cov_a, "copied_past": cov_b, "semantic": float(semantic[pos[a], pos[b]]),
                  "probability": float(probability[pos[a], pos[b]])}
        v = verdict(scores, checker.t)
        if v in FLAGGED:
            edges.append((a, b, v, scores))
    groups = [g for g in connected_groups(docs, [(a, b) for a, b, _, _ in edges]) if len(g) >= 2]
    clusters = [_render(checker.docs, members, edges) for members in groups]
    clusters.sort(key=lambda c: -len(c["members"]))
    return clusters


def _render(briefs: dict, members: list[int], edges: list) -> dict:
    mset = set(members)
    return {
        "members": [{"document_id": d, "external_id": briefs[d].external_id, "title": briefs[d].title,
                     "year": briefs[d].year, "author": briefs[d].author} for d in sorted(members)],
        "pairs": [{"a": briefs[a].external_id, "b": briefs[b].external_id, **verdict_fields(v, sc)}
                  for a, b, v, sc in edges if a in mset and b in mset]}
