"""The evaluation metrics on hand-checkable rankings."""

import math

import pytest

from jianyan.evaluation.search import metrics


def test_binary_metrics():
    m = metrics(["a", "x", "b", "y"], {"a": 1, "b": 1, "c": 1})
    assert m["recall@10"] == pytest.approx(2 / 3)
    assert m["mrr@10"] == 1.0
    dcg = 1 + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m["ndcg@10"] == pytest.approx(dcg / idcg)


def test_graded_and_missing():
    m = metrics(["x", "b", "a"], {"a": 2, "b": 1})
    assert m["mrr@10"] == 0.5
    dcg = 1 / math.log2(3) + 2 / math.log2(4)
    idcg = 2 + 1 / math.log2(3)
    assert m["ndcg@10"] == pytest.approx(dcg / idcg)
    assert metrics(["x"] * 10 + ["a"], {"a": 1}) == {"recall@10": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
