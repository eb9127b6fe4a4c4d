"""The FAISS index against exact numpy inner products."""

from __future__ import annotations

import numpy as np
import pytest

from jianyan.errors import IndexMismatch
from jianyan.index.vectors import FlatVectorIndex


def _unit(rng, n, d=384):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_search_equals_exact_numpy(tmp_path):
    rng = np.random.default_rng(7)
    vectors = _unit(rng, 2000)
    ids = np.arange(1000, 3000, dtype=np.int64)
    idx = FlatVectorIndex(384, "m")
    idx.add(ids, vectors)
    for q in _unit(rng, 20):
        got_ids, got = idx.search(q, 10)
        exact = vectors @ q
        order = np.argsort(-exact)[:10]
        assert got_ids.tolist() == ids[order].tolist()
        np.testing.assert_allclose(got, exact[order], rtol=1e-5, atol=1e-5)


def test_allowed_ids_and_removal_and_reload(tmp_path):
    rng = np.random.default_rng(8)
    vectors = _unit(rng, 500)
    ids = np.arange(500, dtype=np.int64)
    idx = FlatVectorIndex(384, "m")
    idx.add(ids, vectors)
    allowed = ids[::7]
    q = _unit(rng, 1)[0]
    got_ids, _ = idx.search(q, 5, allowed)
    exact = np.where(np.isin(ids, allowed), vectors @ q, -np.inf)
    assert got_ids.tolist() == np.argsort(-exact)[:5].tolist()
    assert idx.search(q, 5, np.zeros(0, np.int64))[0].size == 0
    assert idx.remove(got_ids[:2]) == 2
    idx.save(tmp_path)
    loaded = FlatVectorIndex.load(tmp_path, 384, "m")
    assert len(loaded) == 498 and not set(got_ids[:2]) & set(loaded.ids().tolist())
    with pytest.raises(IndexMismatch):
        FlatVectorIndex.load(tmp_path, 512, "m")
