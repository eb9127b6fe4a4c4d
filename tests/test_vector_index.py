"""Vector search over segments against exact numpy inner products: tombstones, filters, several
segments, and the IVF index of a large segment (its recall against exact search)."""

from __future__ import annotations

import numpy as np
import pytest

from jianyan.index.segments import LiveSegment, SegmentData, SegmentSet, open_segment, write_segment
from jianyan.index.vectors import SegmentedVectors


def _unit(x):
    x = np.asarray(x, np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _clustered(rng, n, d=384, centres=64):
    """Vectors around a few dozen topics, as passages on a few dozen matters are."""
    c = rng.standard_normal((centres, d))
    return _unit(c[rng.integers(0, centres, n)] + 0.6 * rng.standard_normal((n, d)))


def _index(tmp_path, groups, deleted=(), ann_min_rows=None) -> SegmentedVectors:
    parts = []
    for n, (ids, vectors) in enumerate(groups):
        data = SegmentData.from_tokens(ids, np.asarray(ids) // 10, vectors, None)
        seg = open_segment(write_segment(tmp_path, f"v{n}-{tmp_path.name}", data, ann_min_rows))
        rows = seg.rows_of(np.asarray(sorted(deleted), np.int64))[1]
        parts.append(LiveSegment(seg, rows if len(rows) else None))
    return SegmentedVectors(SegmentSet(parts, 384), "m")


def _exact(ids, vectors, q, k, allowed=None):
    scores = vectors @ q
    if allowed is not None:
        scores = np.where(np.isin(ids, allowed), scores, -np.inf)
    order = np.argsort(-scores)[:k]
    return ids[order[np.isfinite(scores[order])]], scores[order]


def test_search_over_segments_equals_exact_numpy(tmp_path):
    rng = np.random.default_rng(7)
    vectors = _unit(rng.standard_normal((2000, 384)))
    ids = np.arange(1000, 3000, dtype=np.int64)
    gone = set(ids[::13].tolist())
    idx = _index(tmp_path, [(ids[:1500], vectors[:1500]), (ids[1500:], vectors[1500:])], deleted=gone)
    live = ~np.isin(ids, list(gone))
    assert sorted(idx.ids().tolist()) == ids[live].tolist() and len(idx) == live.sum()
    for q in _unit(rng.standard_normal((20, 384))):
        got_ids, got = idx.search(q, 10)
        want_ids, want = _exact(ids[live], vectors[live], q, 10)
        assert got_ids.tolist() == want_ids.tolist()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    allowed = ids[::7]
    q = _unit(rng.standard_normal((1, 384)))[0]
    got_ids, _ = idx.search(q, 5, allowed)
    assert got_ids.tolist() == _exact(ids[live], vectors[live], q, 5, allowed)[0].tolist()
    assert idx.search(q, 5, np.zeros(0, np.int64))[0].size == 0
    many_ids, many_scores = idx.search_many(vectors[:3], 4)
    assert many_ids.shape == (3, 4) and all(many_ids[i, 0] == ids[i] for i in range(3) if ids[i] not in gone)
    pick = ids[live][[5, 1700 - 200, 3]]
    np.testing.assert_allclose(idx.reconstruct(pick), vectors[np.searchsorted(ids, pick)])
    with pytest.raises(KeyError):
        idx.reconstruct([ids[0]])  # deleted
    assert idx.stats()["kind"] == "exact" and idx.stats()["recall_at_10"] == 1.0


def test_a_large_segment_is_searched_through_ivf_with_measured_recall(tmp_path, monkeypatch):
    monkeypatch.setenv("JIANYAN_ANN_MIN_ROWS", "2000")
    rng = np.random.default_rng(3)
    n = 20_000
    vectors = _clustered(rng, n)
    ids = np.arange(n, dtype=np.int64) * 2 + 5
    idx = _index(tmp_path, [(ids, vectors)], deleted=ids[:100].tolist(), ann_min_rows=2000)
    seg = idx.segments.parts[0].segment
    assert seg.ann is not None and seg.meta["ann"]["recall_at_10"] >= 0.95
    stats = idx.stats()
    assert stats["kind"] == "ivf_pq4fs" and stats["ann_rows"] == n - 100 and stats["recall_at_10"] >= 0.95
    live = np.ones(n, bool)
    live[:100] = False
    queries = _unit(vectors[rng.choice(n, 50)] + 0.035 * rng.standard_normal((50, 384)))  # cosine ~0.85
    recall = []
    for q in queries:
        got_ids, got = idx.search(q, 10)
        want_ids, _ = _exact(ids[live], vectors[live], q, 10)
        recall.append(len(set(got_ids.tolist()) & set(want_ids.tolist())) / 10)
        assert not set(got_ids.tolist()) & set(ids[:100].tolist())  # tombstones hold through the IVF
        np.testing.assert_allclose(got, vectors[np.searchsorted(ids, got_ids)] @ q, atol=1e-5)  # exact scores
    assert np.mean(recall) >= 0.95, np.mean(recall)
    # A filter keeping a tenth of the rows: the probe widens, still only allowed rows, still found.
    allowed = ids[live][::10]
    recall = []
    for q in queries[:20]:
        got_ids, _ = idx.search(q, 10, allowed)
        assert set(got_ids.tolist()) <= set(allowed.tolist())
        want_ids, _ = _exact(ids, vectors, q, 10, allowed)
        recall.append(len(set(got_ids.tolist()) & set(want_ids.tolist())) / 10)
    assert np.mean(recall) >= 0.9, np.mean(recall)
    # A filter keeping few rows is answered exactly.
    few = ids[live][:500]
    got_ids, _ = idx.search(queries[0], 10, few)
    assert got_ids.tolist() == _exact(ids, vectors, queries[0], 10, few)[0].tolist()


def test_a_dimension_fast_scan_cannot_take_gets_scalar_codes_and_loads_again(tmp_path):
    from jianyan.index.ann import build_ann, load_ann

    rng = np.random.default_rng(5)
    vectors = _clustered(rng, 4000, d=102)  # 51 two-dimension sub-quantisers: odd, no fast-scan
    meta = build_ann(tmp_path, vectors)
    assert meta["type"] == "ivf_sq8" and meta["recall_at_10"] >= 0.9
    ann = load_ann(tmp_path, meta)
    assert ann.kind == "ivf_sq8"
    q = vectors[7:8]
    rows, scores = ann.search(vectors, q, 5)
    assert rows[0, 0] == 7
    np.testing.assert_allclose(scores[0], vectors[rows[0]] @ q[0], atol=1e-5)
