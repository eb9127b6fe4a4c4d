"""Hybrid search: BM25, dense and clause-coverage rankings of documents, fused, with each
document's best passages.

Each channel scores passages (BM25 over jieba tokens; cosine of e5 vectors of the query's core),
and a document takes its best passage's score; the clause channel scores a document by the mean,
over the query's clauses, of each clause's best passage (`query.py`) — evidence from several
passages of one document. The document rankings are fused (see `fuse`); then each returned
document shows its best passages by a passage-level blend of the signals, with highlights.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import IndexMismatch, QueryError
from ..index.sync import SearchIndexes
from ..index.tokenize import query_terms, tokenize
from ..script import match_forms
from ..store import Store
from .fusion import RRF_K, fuse, prefer
from .highlight import find_spans
from .intent import doc_type_intent
from .nothing_close import (NOTHING_CLOSE_AT, NOTHING_CLOSE_MESSAGE, closeness_features,
                            nothing_close_probability)
from .proximity import proximities
from .query import query_clauses, query_core

MODES = ("hybrid", "dense", "keyword")
MAX_QUERY_CHARS = 5000
CANDIDATES = 300  # passages taken from each channel before grouping by document
PROXIMITY_WEIGHT = 1.0  # BM25 score × (1 + weight × proximity)
INTENT_BONUS = 0.2  # on min–max normalised document scores; see intent.py


@dataclass
class Filters:
    doc_type: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    category: str | None = None

    def active(self) -> bool:
        return any(v is not None for v in asdict(self).values())


@dataclass
class PassageHit:
    passage_id: int
    heading_path: list[str]
    text: str
    start: int
    end: int
    highlights: list[list[int]]
    score: float


@dataclass
class DocumentHit:
    document_id: int
    external_id: str
    title: str
    doc_type: str
    year: int | None
    score: float
    passages: list[PassageHit] = field(default_factory=list)


@dataclass
class SearchResult:
    query: str
    mode: str
    results: list[DocumentHit]
    notice: str = ""
    nothing_close_probability: float | None = None  # see nothing_close.py; None in keyword mode
    closeness: dict[str, float] | None = None  # the features it came from

    @property
    def nothing_close(self) -> bool:
        return self.nothing_close_probability is not None and self.nothing_close_probability >= NOTHING_CLOSE_AT

    def to_dict(self) -> dict:
        out = {"query": self.query, "mode": self.mode, "nothing_close": self.nothing_close,
               "nothing_close_probability": None if self.nothing_close_probability is None
               else round(self.nothing_close_probability, 4), "results": []}
        for d in self.results:
            out["results"].append({
                "document_id": d.document_id, "external_id": d.external_id, "title": d.title, "doc_type": d.doc_type, "year": d.year,
                "score": round(d.score, 6),
                "passages": [{"passage_id": p.passage_id, "heading_path": p.heading_path, "text": p.text, "start": p.start,
                              "end": p.end, "highlights": p.highlights, "score": round(p.score, 6)}
                             for p in d.passages]})
        if self.notice:
            out["notice"] = self.notice
        return out


@dataclass
class FusionConfig:
    """How document scores are formed and fused; every value chosen on the dev sets
    (../shared/eval, see README "Ranking") — the table there shows the alternatives measured."""

    method: str = "zscore"  # zscore | weighted (min–max) | rrf
    dense_weight: float = 0.5  # share of the dense side in the fused score
    figure_dense_factor: float = 0.1  # dense share × this for figure or work-report queries
    keyword_doc_weights: tuple[float, ...] = (1.0, 0.2, 0.1)  # best, 2nd, 3rd passage of a document
    title_weight: float = 0.3  # dense document score += this × cosine(query, title)
    clause_weight: float = 0.2  # weight of the clause-coverage channel (queries of ≥ 2 clauses)
    rrf_k: int = RRF_K


class Searcher:
    proximity_weight = PROXIMITY_WEIGHT

    def __init__(self, store: Store, indexes: SearchIndexes, query_embedder,
                 fusion: FusionConfig | None = None, indexed: set[int] | None = None) -> None:
        """`indexed`: when the indexes lag behind the store (a service catching up after a
        restart), the passages they hold; only those are searched."""
        if indexes.model_id != query_embedder.model_id:
            raise IndexMismatch(f"索引由模型“{indexes.model_id}”构建，检索用的模型是“{query_embedder.model_id}”，"
                                f"不能混用；请用同一模型检索，或运行 jianyan reindex 重建索引")
        self.store, self.indexes, self.embedder = store, indexes, query_embedder
        self.fusion = fusion or FusionConfig()
        self._load_passage_table(indexed)

    def _load_passage_table(self, indexed: set[int] | None) -> None:
        """The documents' briefs (filters, grouping, results), read once per view; which document
        a passage belongs to comes from the index's own segments. When the indexes lag behind
        the store, only passages both hold are searched (`_searchable`)."""
        self.docs = self.store.document_briefs()
        self._searchable: set[int] | None = None
        if indexed is not None:
            self._searchable = set(self.store.passage_id_array().tolist()) & indexed

    def documents_of(self, passage_ids) -> list[int]:
        """The document of each passage (-1 for one not searchable)."""
        docs = self.indexes.passage_segments.documents_of(passage_ids).tolist()
        if self._searchable is None:
            return docs
        return [d if p in self._searchable else -1 for p, d in zip(passage_ids, docs)]

    # -- filters -----------------------------------------------------------------------------
    def allowed_passages(self, filters: Filters | None, exclude_docs: set[int]) -> np.ndarray | None:
        if (filters is None or not filters.active()) and not exclude_docs:
            return None
        f = filters or Filters()
        allowed_docs = [d for d, b in self.docs.items()
                        if (f.doc_type is None or b.doc_type == f.doc_type)
                        and (f.year_from is None or (b.year is not None and b.year >= f.year_from))
                        and (f.year_to is None or (b.year is not None and b.year <= f.year_to))
                        and (f.category is None or b.category == f.category)
                        and d not in exclude_docs]
        return self.indexes.passage_segments.ids_of_documents(np.asarray(allowed_docs, np.int64))

    # -- channels ----------------------------------------------------------------------------
    def keyword_passages(self, tokens: list[str], allowed: np.ndarray | None) -> dict[int, float]:
        ids, scores, idf = self.indexes.keyword.top(tokens, CANDIDATES, allowed)
        # (passages of the index the store no longer has — an index lagging behind — are skipped)
        docs = self.documents_of(ids.tolist())
        top = [(pid, s) for pid, s, d in zip(ids.tolist(), scores.tolist(), docs) if d >= 0]
        if not top or self.proximity_weight <= 0:
            return dict(top)
        texts = self.store.passage_texts([pid for pid, _ in top])
        near = proximities([texts[pid] for pid, _ in top], idf)
        return {pid: s * (1 + self.proximity_weight * p) for (pid, s), p in zip(top, near)}

    def query_vectors(self, query: str, clauses: list[str]) -> np.ndarray:
        """The core's vector, then the clauses' vectors: one call to the embedder."""
        return self.embedder.embed_queries([query_core(query), *clauses])

    def nearest_passages(self, vectors: np.ndarray, allowed: np.ndarray | None) -> list[dict[int, float]]:
        """Each vector's CANDIDATES nearest passages (id → cosine): the core's and the clauses'
        in one search, so the segments are visited once."""
        if not len(vectors):
            return []
        ids, scores = self.indexes.vectors.search_many(vectors, CANDIDATES, allowed)
        return [{pid: s for pid, s in zip(row_ids, row_scores) if pid >= 0}
                for row_ids, row_scores in zip(ids.tolist(), scores.tolist())]

    def dense_documents(self, passage_scores: dict[int, float], query_vector: np.ndarray
                        ) -> dict[int, float]:
        """Best passage cosine plus title_weight × the title's cosine: a proposal's title states
        its subject, which a passage deep in its body may not repeat."""
        docs = self._doc_scores(passage_scores)
        if self.fusion.title_weight and len(self.indexes.titles):
            sims = self.indexes.titles.similarities(query_vector, docs)
            docs = {d: s + self.fusion.title_weight * sims.get(d, 0.0) for d, s in docs.items()}
        return docs

    def clause_documents(self, clause_passages: list[dict[int, float]]) -> dict[int, float]:
        """Mean over the clauses of each clause's best passage cosine in the document; a document
        outside a clause's nearest passages counts that clause's last candidate."""
        per_clause = [(self._doc_scores(found), min(found.values())) for found in clause_passages if found]
        docs = set().union(*(best for best, _ in per_clause)) if per_clause else set()
        n = len(per_clause)  # (a Python mean: np.mean costs ~5 µs a call, for hundreds of documents)
        return {d: sum(best.get(d, floor) for best, floor in per_clause) / n for d in docs}

    def _doc_scores(self, passage_scores: dict[int, float], weights: tuple[float, ...] = (1.0,)
                    ) -> dict[int, float]:
        """A document's score: its best passages' scores, weighted (1, w2, w3…)."""
        per_doc: dict[int, list[float]] = {}
        for d, s in zip(self.documents_of(list(passage_scores)), passage_scores.values()):
            if d >= 0:
                per_doc.setdefault(d, []).append(s)
        return {d: sum(w * v for w, v in zip(weights, sorted(vals, reverse=True)))
                for d, vals in per_doc.items()}

    # -- fusion ------------------------------------------------------------------------------
    def fuse(self, kw: dict[int, float], dense: dict[int, float], clauses: dict[int, float],
             factor: float = 1.0) -> dict[int, float]:
        """The document score maps fused by the configured method (`fusion.py`); `factor` scales
        the meaning-based shares (figure and work-report queries)."""
        cfg = self.fusion
        dense_weight = cfg.dense_weight * factor
        return fuse(cfg.method, [(1 - dense_weight, kw), (dense_weight, dense),
                                 (cfg.clause_weight * factor, clauses)], cfg.rrf_k)

    def _prefer_type(self, doc_scores: dict[int, float], doc_type: str) -> dict[int, float]:
        """INTENT_BONUS for documents of the type the query asks for (`intent.py`)."""
        preferred = {d for d in doc_scores if d in self.docs and self.docs[d].doc_type == doc_type}
        return prefer(doc_scores, preferred, INTENT_BONUS)

    # -- search ------------------------------------------------------------------------------
    def search(self, query: str, mode: str = "hybrid", k: int = 10, filters: Filters | None = None,
               exclude_external_ids: tuple[str, ...] = (), passages_per_doc: int = 3) -> SearchResult:
        query = (query or "").strip()
        if not query:
            raise QueryError("请输入检索内容")
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(f"检索内容过长（{len(query)} 字），请控制在 {MAX_QUERY_CHARS} 字以内")
        if mode not in MODES:
            raise QueryError(f"未知的检索方式“{mode}”，可选：{'、'.join(MODES)}")
        if k < 1 or k > 200:
            raise QueryError("返回条数 k 应在 1 到 200 之间")
        excluded = set(exclude_external_ids)
        exclude = {d for d, b in self.docs.items() if b.external_id in excluded} if excluded else set()
        allowed = self.allowed_passages(filters, exclude)
        if allowed is not None and len(allowed) == 0:
            return SearchResult(query, mode, [], notice="没有符合筛选条件的文档")
        tokens = tokenize(query)  # once: the keyword channel's and the highlights' words
        kw = self.keyword_passages(tokens, allowed) if mode in ("hybrid", "keyword") else {}
        # Per call, not on self: one Searcher serves concurrent requests in the service.
        clauses = query_clauses(query) if mode == "hybrid" and self.fusion.clause_weight else []
        qvec, dense, clause_passages = None, {}, []
        if mode in ("hybrid", "dense"):
            vectors = self.query_vectors(query, clauses)
            qvec = vectors[0]
            dense, *clause_passages = self.nearest_passages(vectors, allowed)
        kw_docs = self._doc_scores(kw, self.fusion.keyword_doc_weights)
        dense_docs = self.dense_documents(dense, qvec) if dense else {}
        intent = doc_type_intent(query) if (filters is None or filters.doc_type is None) else None
        if mode == "keyword":
            doc_scores = kw_docs
        elif mode == "dense":
            doc_scores = dense_docs
        else:
            # Small embedders do not represent exact figures, and a work report is a hundred
            # passages on everything: there the words decide (measured on the dev report queries).
            figures = intent == "report" or bool(re.search(r"\d", query))
            doc_scores = self.fuse(kw_docs, dense_docs, self.clause_documents(clause_passages),
                                   self.fusion.figure_dense_factor if figures else 1.0)
        if intent:
            doc_scores = self._prefer_type(doc_scores, intent)
        top = sorted(doc_scores, key=doc_scores.get, reverse=True)[:k]
        closeness = closeness_features(top[0], dense_docs) if top else None
        probability = nothing_close_probability(closeness)
        notice = "" if top else "没有找到相关文档"
        if probability is not None and probability >= NOTHING_CLOSE_AT:
            notice = NOTHING_CLOSE_MESSAGE
        return SearchResult(query, mode, self._hits(tokens, top, doc_scores, kw, dense, passages_per_doc),
                            notice, probability, closeness)

    def _hits(self, tokens, doc_ids, doc_scores, kw, dense, per_doc) -> list[DocumentHit]:
        if not doc_ids:
            return []
        # Passage ranking inside a document: both signals, each scaled to its best candidate.
        kw_max = max(kw.values(), default=0.0) or 1.0
        blend: dict[int, float] = {}
        for pid, s in kw.items():
            blend[pid] = blend.get(pid, 0.0) + 0.5 * s / kw_max
        for pid, s in dense.items():
            blend[pid] = blend.get(pid, 0.0) + 0.5 * max(s, 0.0)
        terms = query_terms(tokens)  # once per search, not once per passage
        by_doc: dict[int, list[int]] = {}
        ranked = sorted(blend, key=blend.get, reverse=True)
        for pid, d in zip(ranked, self.documents_of(ranked)):
            by_doc.setdefault(d, []).append(pid)
        chosen = {d: by_doc.get(d, [])[:per_doc] for d in doc_ids if d in self.docs}
        stored = self.store.passages_by_id([pid for pids in chosen.values() for pid in pids])
        lowered = dict(zip(stored, match_forms([p.text for p in stored.values()])))
        hits = []
        for d, pids in chosen.items():
            b = self.docs[d]
            passages = [PassageHit(pid, stored[pid].heading_path, stored[pid].text, stored[pid].start,
                                   stored[pid].end, find_spans(stored[pid].text, terms, lowered[pid]), blend[pid])
                        for pid in pids if pid in stored]
            hits.append(DocumentHit(d, b.external_id, b.title, b.doc_type, b.year, doc_scores[d], passages))
        return hits
