"""Quality floors on the development sets (../shared/eval), with the real model and indexes.

Floors were measured (`jianyan eval search` on a store of the 436 proposals: proposal queries
hybrid R@10 1.000 / MRR 1.000; precedent nDCG@10 hybrid 0.891, keyword 0.826, dense 0.805) and
set a little below, so a regression fails while machine-to-machine noise does not.
"""

from __future__ import annotations

import pytest

from jianyan.embed.engines import query_embedder
from jianyan.evaluation.search import evaluate, load_cases
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
