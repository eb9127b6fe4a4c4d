"""Quality floors on the development sets (../shared/eval), with the real model and indexes.

Floors were measured (`jianyan eval search` on a store of the 436 proposals: proposal queries
hybrid R@10 1.000 / MRR 1.000; hard known-item queries hybrid MRR 0.914 (character-bigram BM25
0.72); precedent nDCG@10 hybrid 0.894, keyword 0.826, dense 0.809) and set a little below, so a
regression fails while machine-to-machine noise does not.
"""

from __future__ import annotations

import pytest

from jianyan.embed.engines import query_embedder
from jianyan.evaluation.search import evaluate, load_cases
from jianyan.search.nothing_close import NOTHING_CLOSE_AT
from jianyan.search.searcher import Searcher

from .conftest import SHARED, requires_shared

pytestmark = requires_shared


@pytest.fixture(scope="module")
def proposal_searcher(proposal_index):
    store, indexes = proposal_index
    return Searcher(store, indexes, query_embedder(indexes.model_id))


def test_proposal_queries_floor(proposal_searcher):
    cases = [c for c in load_cases(SHARED / "eval" / "search-queries.jsonl")
             if c.kind in ("paraphrase", "passage", "keyword")]
    report = evaluate(proposal_searcher, cases, ["hybrid"])
    assert report.counts["all"] == 50
    assert report.by_kind["all"]["hybrid"]["recall@10"] >= 0.98
    assert report.by_kind["all"]["hybrid"]["mrr@10"] >= 0.95


def test_precedent_floor_and_hybrid_beats_each_channel(proposal_searcher):
    report = evaluate(proposal_searcher, load_cases(SHARED / "eval" / "precedent-queries.jsonl"))
    ndcg = {mode: report.by_kind["all"][mode]["ndcg@10"] for mode in ("hybrid", "dense", "keyword")}
    assert ndcg["hybrid"] >= 0.85
    assert ndcg["hybrid"] > ndcg["keyword"] and ndcg["hybrid"] > ndcg["dense"]


def test_hard_known_item_floor(proposal_searcher):
    """Plain-word descriptions and several suggestions from different passages of one proposal."""
    report = evaluate(proposal_searcher, load_cases(SHARED / "eval" / "search-queries-hard.jsonl"))
    assert report.counts["all"] == 60
    mrr = {mode: report.by_kind["all"][mode]["mrr@10"] for mode in ("hybrid", "dense", "keyword")}
    assert mrr["hybrid"] >= 0.88
    assert mrr["hybrid"] > mrr["dense"] and mrr["hybrid"] > mrr["keyword"]


def test_nothing_close_is_reported_consistently(proposal_searcher):
    """Every hybrid result carries the calibrated probability; the flag and the notice follow it."""
    cases = load_cases(SHARED / "eval" / "precedent-queries.jsonl")
    for case in cases:
        result = proposal_searcher.search(case.query, mode="hybrid", exclude_external_ids=(case.source,))
        out = result.to_dict()
        p = out["nothing_close_probability"]
        assert p is not None and 0.0 <= p <= 1.0
        assert out["nothing_close"] == (result.nothing_close_probability >= NOTHING_CLOSE_AT)
        assert ("未找到相近的先例" in (result.notice or "")) == out["nothing_close"]
    assert proposal_searcher.search(cases[0].query, mode="keyword").to_dict()["nothing_close_probability"] is None
