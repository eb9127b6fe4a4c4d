"""Our BM25 against bm25s run directly on the same jieba tokens of real passages."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from jianyan.index.bm25 import BM25Index
from jianyan.index.tokenize import tokenize

from .conftest import CORPORA, SHARED, proposal_rows, requires_shared


def _passages() -> list[str]:
    if (SHARED / "corpora").exists():
        return [r["content"][i:i + 300] for r in proposal_rows()[:120] for i in range(0, 900, 300)]
    text = (CORPORA / "seed" / "2021年县政协工作总结.txt").read_text(encoding="utf-8")
    return [text[i:i + 200] for i in range(0, len(text), 200)]


QUERIES = ["推进中小企业融资担保体系建设", "乡村振兴 人才", "养老服务 医养结合 家庭医生", "7.5%",
           "加强理论武装，提高政治站位", "不存在的词汇组合甲乙丙"]


@pytest.fixture(scope="module")
def corpus():
    texts = _passages()
    return texts, [tokenize(t) for t in texts]


def test_scores_equal_bm25s(corpus):
    _, tokens = corpus
    ours = BM25Index()
    ours.add(list(range(len(tokens))), tokens)
    ref = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
    ref.index(tokens, show_progress=False)
    for q in QUERIES:
        qt = tokenize(q)
        got = ours.scores(qt)
        known = [t for t in qt if t in ours.vocab]
        want = ref.get_scores(known) if known else np.zeros(len(tokens))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert ours.scores(tokenize(QUERIES[0])).max() > 0


def test_incremental_equals_from_scratch(corpus, tmp_path):
    _, tokens = corpus
    n = len(tokens)
    inc = BM25Index()
    inc.add(list(range(n // 2)), tokens[: n // 2])
    inc.add(list(range(n // 2, n)), tokens[n // 2:])
    inc.add([10_000], [["临时", "段落"]])
    inc.remove([10_000, 3])
    scratch = BM25Index()
    keep = [i for i in range(n) if i != 3]
    scratch.add(keep, [tokens[i] for i in keep])
    inc.save(tmp_path / "kw.npz")
    loaded = BM25Index.load(tmp_path / "kw.npz")
    for q in QUERIES[:4]:
        qt = tokenize(q)
        np.testing.assert_allclose(loaded.scores(qt), scratch.scores(qt), rtol=1e-5, atol=1e-6)
    assert loaded.ids.tolist() == keep


@requires_shared
def test_bm25_ranking_close_to_rank_bm25(corpus):
    """rank-bm25's Okapi idf differs (it floors negative idf), so compare top-10 sets, not scores."""
    from rank_bm25 import BM25Okapi

    _, tokens = corpus
    ours = BM25Index()
    ours.add(list(range(len(tokens))), tokens)
    ref = BM25Okapi(tokens)
    overlap = []
    for q in QUERIES[:3]:
        qt = tokenize(q)
        a = set(np.argsort(-ours.scores(qt))[:10].tolist())
        b = set(np.argsort(-ref.get_scores(qt))[:10].tolist())
        overlap.append(len(a & b) / 10)
    assert min(overlap) >= 0.7
