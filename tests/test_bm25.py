"""Our BM25 over segments against bm25s run directly on the same jieba tokens of real passages;
segments with tombstones and merged segments against one built from scratch."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from jianyan.index.bm25 import KeywordIndex
from jianyan.index.segments import LiveSegment, SegmentData, SegmentSet, merged_data, open_segment, write_segment
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


def keyword_index(tmp_path, groups, deleted=None) -> KeywordIndex:
    """One segment per (ids, token lists) group; `deleted`: ids to tombstone."""
    parts = []
    for n, (ids, tokens) in enumerate(groups):
        data = SegmentData.from_tokens(ids, ids, np.zeros((len(ids), 4), np.float32), tokens)
        seg = open_segment(write_segment(tmp_path, f"p{n}-{tmp_path.name}", data))
        rows = seg.rows_of(np.asarray(sorted(deleted or []), np.int64))[1]
        parts.append(LiveSegment(seg, rows if len(rows) else None))
    return KeywordIndex(SegmentSet(parts, 4))


def all_scores(index: KeywordIndex, tokens, ids) -> np.ndarray:
    got_ids, got, _ = index.top(tokens, max(1, len(index)))
    by_id = dict(zip(got_ids.tolist(), got.tolist()))
    return np.asarray([by_id.get(int(i), 0.0) for i in ids], np.float32)


def test_scores_equal_bm25s(corpus, tmp_path):
    _, tokens = corpus
    ids = list(range(len(tokens)))
    ours = keyword_index(tmp_path, [(ids, tokens)])
    ref = bm25s.BM25(method="lucene", k1=1.5, b=0.75)
    ref.index(tokens, show_progress=False)
    vocab = {t for toks in tokens for t in toks}
    for q in QUERIES:
        qt = tokenize(q)
        got = all_scores(ours, qt, ids)
        known = [t for t in qt if t in vocab]
        want = ref.get_scores(known) if known else np.zeros(len(tokens))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        top_ids, top, idf = ours.top(qt, 10)
        assert len(top) == min(10, int((want > 0).sum())) and (np.diff(top) <= 0).all()
        np.testing.assert_allclose(top, np.sort(want)[::-1][:len(top)], rtol=1e-4, atol=1e-5)
        assert set(idf) == set(qt)
    assert all_scores(ours, tokenize(QUERIES[0]), ids).max() > 0


def test_segments_with_tombstones_and_merges_equal_one_built_from_scratch(corpus, tmp_path):
    _, tokens = corpus
    n = len(tokens)
    extra = [["临时", "段落"], ["推进", "临时"]]
    groups = [(list(range(n // 3)), tokens[: n // 3]), (list(range(n // 3, n)), tokens[n // 3:]),
              ([10_000, 10_001], extra)]
    gone = {10_000, 10_001, 3, n - 1}
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    segmented = keyword_index(tmp_path / "a", groups, deleted=gone)
    keep = [i for i in range(n) if i not in gone]
    scratch = keyword_index(tmp_path / "b", [(keep, [tokens[i] for i in keep])])
    merged_folder = tmp_path / "c"
    merged_folder.mkdir()
    data = merged_data([(p.segment, p.live) for p in segmented.parts])
    merged = KeywordIndex(SegmentSet([LiveSegment(open_segment(write_segment(merged_folder, "m", data)))], 4))
    assert sorted(segmented.ids.tolist()) == sorted(merged.ids.tolist()) == keep
    for q in QUERIES[:4] + ["临时 推进"]:
        qt = tokenize(q)
        want = all_scores(scratch, qt, keep)
        np.testing.assert_allclose(all_scores(segmented, qt, keep), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(all_scores(merged, qt, keep), want, rtol=1e-5, atol=1e-6)
    allowed = np.asarray(keep[::5], np.int64)
    got_ids, _, _ = segmented.top(tokenize(QUERIES[0]), 50, allowed)
    assert set(got_ids.tolist()) <= set(allowed.tolist()) and len(got_ids)


@requires_shared
def test_bm25_ranking_close_to_rank_bm25(corpus, tmp_path):
    """rank-bm25's Okapi idf differs (it floors negative idf), so compare top-10 sets, not scores."""
    from rank_bm25 import BM25Okapi

    _, tokens = corpus
    ids = list(range(len(tokens)))
    ours = keyword_index(tmp_path, [(ids, tokens)])
    ref = BM25Okapi(tokens)
    overlap = []
    for q in QUERIES[:3]:
        qt = tokenize(q)
        a = set(ours.top(qt, 10)[0].tolist())
        b = set(np.argsort(-ref.get_scores(qt))[:10].tolist())
        overlap.append(len(a & b) / 10)
    assert min(overlap) >= 0.7


def test_best_rows_hold_every_row_at_or_above_the_nth_score_ties_included():
    from jianyan.index.bm25 import BUCKETS, _best_rows

    rng = np.random.default_rng(1)
    tied = np.round(rng.random(50_000) * 20, 1)
    for scores in (tied, rng.random(50_000) * 20):
        scores[rng.random(50_000) < 0.3] = 0.0  # rows the query does not touch
        for n in (1, 10, 300, 40_000):
            got = _best_rows(scores, n, scores.max())
            positive = scores[scores > 0].astype(np.float32)
            nth = np.sort(positive)[::-1][min(n, len(positive)) - 1]
            want = np.flatnonzero((scores.astype(np.float32) >= nth) & (scores > 0))
            assert set(want.tolist()) <= set(got.tolist())  # every row a top-n could need
            assert (scores[got] > 0).all() and (scores[got] >= nth - scores.max() / BUCKETS).all()
    assert len(_best_rows(np.zeros(10), 5, 0.0)) == 0
    # scores a damaged index made infinite or NaN: every positive row, nothing written out of bounds
    assert sorted(_best_rows(np.array([1.0, np.inf, 2.0, np.nan]), 1, np.inf).tolist()) == [0, 1, 2]
    # an upper bound above the largest score (a filter zeroed the best rows) changes nothing
    np.testing.assert_array_equal(np.sort(_best_rows(tied, 10, 2 * tied.max())), np.sort(_best_rows(tied, 10, tied.max())))


def test_a_posting_row_beyond_the_segment_is_refused_not_written(tmp_path):
    from jianyan.index.bm25 import _NO_MASK, _add_term, _live_count

    acc = np.zeros(4)
    with pytest.raises(IndexError):
        _add_term(acc, np.array([1, 9], np.int32), np.ones(2, np.float32), np.ones(4, np.float32), 1.0, _NO_MASK)
    with pytest.raises(IndexError):
        _live_count(np.array([-1], np.int32), np.ones(4, np.bool_))
