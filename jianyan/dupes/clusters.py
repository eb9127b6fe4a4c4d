"""并案: groups of stored proposals on the same matter.

Each proposal's candidates are found as a draft's are — the proposals sharing its text
(fingerprints) or near its passages in meaning (FAISS) — so no proposals × proposals matrix is
ever held: the work grows with the proposals and their neighbours, not with their square. Every
candidate pair gets its semantic score and its rewording probability, from the pair's score and
both sides' NEIGHBOURS_K nearest candidates among the proposals clustered, as in a check; pairs
sharing text or at least at the related level get their 查重 verdict; the groups are the
connected components of the duplicate and overlap pairs, each listed with its members and the
pairs that join them.
"""

from __future__ import annotations

import numpy as np

from .checker import semantic as semantic_of
from .shingles import copied_spans
from .verdicts import FLAGGED, NEIGHBOURS_K, REWORDING_MODEL, verdict, verdict_fields


def rewording_probability(semantic: float, level_a: float, level_b: float) -> float:
    """P(rewording) of a pair from its semantic score and each side's neighbourhood level, the
    model applied both ways round and averaged (symmetric)."""
    rows = np.asarray([[semantic, level_a, level_b], [semantic, level_b, level_a]])
    return float(REWORDING_MODEL.probability(rows).mean())


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
    members = set(docs)
    texts = checker.stored(docs)
    semantic: dict[tuple[int, int], float] = {}
    lexical: set[tuple[int, int]] = set()
    for d in docs:
        sharing = set(checker.sharing_text(texts[d].text)) & members
        near = set(checker.near_proposals(texts[d])) & members
        for other in (sharing | near) - {d}:
            pair = (min(d, other), max(d, other))
            if pair not in semantic:
                semantic[pair] = semantic_of(texts[pair[0]], texts[pair[1]])
            if other in sharing:
                lexical.add(pair)
    around: dict[int, list[float]] = {d: [] for d in docs}
    for (a, b), s in semantic.items():
        around[a].append(s)
        around[b].append(s)
    level = {d: float(np.mean(sorted(v, reverse=True)[:NEIGHBOURS_K])) if v else 0.0 for d, v in around.items()}
    edges = []
    for a, b in sorted(semantic):
        probability = rewording_probability(semantic[(a, b)], level[a], level[b])
        if (a, b) not in lexical and probability < checker.t.related_probability:
            continue
        _, cov_a, cov_b = copied_spans(texts[a].norm(), texts[b].norm())
        scores = {"copied_draft": cov_a, "copied_past": cov_b, "semantic": semantic[(a, b)],
                  "probability": probability}
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
