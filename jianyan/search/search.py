"""Hybrid search: BM25 and dense rankings of documents, fused, with each document's best passages.

Each channel scores passages (BM25 over jieba tokens; cosine of e5 vectors), and a document takes
its best passage's score. The two document rankings are fused (see `fuse`); then each returned
document shows its best passages by a passage-level blend of both signals, with highlights.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import JianyanError
from ..store import Store
from .highlight import highlight_spans
from .indexer import SearchIndexes
from .intent import doc_type_intent
from .tokenize import tokenize

MODES = ("hybrid", "dense", "keyword")
MAX_QUERY_CHARS = 5000
CANDIDATES = 300  # passages taken from each channel before grouping by document
RRF_K = 60
INTENT_BONUS = 0.2  # on min–max normalised document scores; see intent.py


class QueryError(JianyanError):
    code = "bad_query"


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

    def to_dict(self) -> dict:
        out = {"query": self.query, "mode": self.mode, "results": []}
        for d in self.results:
            out["results"].append({
                "external_id": d.external_id, "title": d.title, "doc_type": d.doc_type, "year": d.year,
                "score": round(d.score, 6),
                "passages": [{"heading_path": p.heading_path, "text": p.text, "start": p.start,
                              "end": p.end, "highlights": p.highlights, "score": round(p.score, 6)}
                             for p in d.passages]})
        if self.notice:
            out["notice"] = self.notice
        return out


@dataclass
class FusionConfig:
    """How the two document rankings are combined; chosen on the dev set (see README)."""

    method: str = "rrf"  # rrf | weighted
    dense_weight: float = 0.5  # weight of the dense side (weighted: of its normalised score)
    rrf_k: int = RRF_K


class Searcher:
    def __init__(self, store: Store, indexes: SearchIndexes, query_embedder,
                 fusion: FusionConfig | None = None) -> None:
        if indexes.model_id != query_embedder.model_id:
            from .vector_index import IndexMismatch

            raise IndexMismatch(f"索引由模型“{indexes.model_id}”构建，检索用的模型是“{query_embedder.model_id}”，"
                                f"不能混用；请用同一模型检索，或运行 jianyan reindex 重建索引")
        self.store, self.indexes, self.embedder = store, indexes, query_embedder
        self.fusion = fusion or FusionConfig()
        self._load_passage_table()

    def _load_passage_table(self) -> None:
        rows = self.store.conn.execute(
            "SELECT p.id, p.document_id, d.doc_type, d.year, d.category, d.external_id "
            "FROM passages p JOIN documents d ON d.id = p.document_id").fetchall()
        self.passage_doc = {r[0]: r[1] for r in rows}
        self.doc_external = {r[1]: r[5] for r in rows}
        self._rows = rows
        kw_ids = self.indexes.keyword.ids
        self.kw_doc = np.array([self.passage_doc.get(int(i), -1) for i in kw_ids], np.int64)

    # -- filters -----------------------------------------------------------------------------
    def allowed_passages(self, filters: Filters | None, exclude_docs: set[int]) -> np.ndarray | None:
        if (filters is None or not filters.active()) and not exclude_docs:
            return None
        f = filters or Filters()
        ids = [r[0] for r in self._rows
               if (f.doc_type is None or r[2] == f.doc_type)
               and (f.year_from is None or (r[3] is not None and r[3] >= f.year_from))
               and (f.year_to is None or (r[3] is not None and r[3] <= f.year_to))
               and (f.category is None or r[4] == f.category)
               and r[1] not in exclude_docs]
        return np.asarray(ids, np.int64)

    # -- channels ----------------------------------------------------------------------------
    def keyword_passages(self, query: str, allowed: np.ndarray | None) -> dict[int, float]:
        scores = self.indexes.keyword.scores(tokenize(query))
        ids = self.indexes.keyword.ids
        if allowed is not None:
            scores = np.where(np.isin(ids, allowed), scores, 0.0)
        top = np.argsort(-scores)[:CANDIDATES]
        return {int(ids[i]): float(scores[i]) for i in top if scores[i] > 0}

    def dense_passages(self, query: str, allowed: np.ndarray | None) -> dict[int, float]:
        qv = self.embedder.embed_queries([query])[0]
        ids, scores = self.indexes.vectors.search(qv, CANDIDATES, allowed)
        return {int(i): float(s) for i, s in zip(ids, scores)}

    def _doc_scores(self, passage_scores: dict[int, float]) -> dict[int, float]:
        docs: dict[int, float] = {}
        for pid, s in passage_scores.items():
            d = self.passage_doc.get(pid)
            if d is not None and s > docs.get(d, -1e9):
                docs[d] = s
        return docs

    # -- fusion ------------------------------------------------------------------------------
    def fuse(self, kw: dict[int, float], dense: dict[int, float]) -> dict[int, float]:
        """Fuse two document score maps.

        rrf: Σ w / (k + rank), Cormack, Clarke & Büttcher, "Reciprocal rank fusion outperforms
        Condorcet and individual rank learning methods" (SIGIR 2009), k = 60.
        weighted: w·norm(dense) + (1−w)·norm(bm25), each min–max normalised over its candidates.
        """
        cfg = self.fusion
        w = cfg.dense_weight
        fused: dict[int, float] = {}
        if cfg.method == "rrf":
            for weight, scores in ((1 - w, kw), (w, dense)):
                for rank, d in enumerate(sorted(scores, key=scores.get, reverse=True), start=1):
                    fused[d] = fused.get(d, 0.0) + weight / (cfg.rrf_k + rank)
            return fused
        for weight, scores in ((1 - w, kw), (w, dense)):
            if not scores:
                continue
            vals = np.fromiter(scores.values(), float)
            lo, hi = vals.min(), vals.max()
            for d, s in scores.items():
                fused[d] = fused.get(d, 0.0) + weight * ((s - lo) / (hi - lo) if hi > lo else 1.0)
        return fused

    def _prefer_type(self, doc_scores: dict[int, float], doc_type: str) -> dict[int, float]:
        """Min–max normalised scores plus INTENT_BONUS for documents of the type the query asks for."""
        if not doc_scores:
            return doc_scores
        types = dict(self.store.conn.execute(
            f"SELECT id, doc_type FROM documents WHERE id IN ({','.join('?' * len(doc_scores))})",
            list(doc_scores)).fetchall())
        vals = np.fromiter(doc_scores.values(), float)
        lo, hi = vals.min(), vals.max()
        span = (hi - lo) or 1.0
        return {d: (s - lo) / span + (INTENT_BONUS if types.get(d) == doc_type else 0.0)
                for d, s in doc_scores.items()}

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
        exclude = {d for d, e in self.doc_external.items() if e in set(exclude_external_ids)}
        allowed = self.allowed_passages(filters, exclude)
        if allowed is not None and len(allowed) == 0:
            return SearchResult(query, mode, [], notice="没有符合筛选条件的文档")
        kw = self.keyword_passages(query, allowed) if mode in ("hybrid", "keyword") else {}
        dense = self.dense_passages(query, allowed) if mode in ("hybrid", "dense") else {}
        kw_docs, dense_docs = self._doc_scores(kw), self._doc_scores(dense)
        if mode == "keyword":
            doc_scores = kw_docs
        elif mode == "dense":
            doc_scores = dense_docs
        else:
            doc_scores = self.fuse(kw_docs, dense_docs)
        intent = doc_type_intent(query) if (filters is None or filters.doc_type is None) else None
        if intent:
            doc_scores = self._prefer_type(doc_scores, intent)
        top = sorted(doc_scores, key=doc_scores.get, reverse=True)[:k]
        notice = "" if top else "没有找到相关文档"
        return SearchResult(query, mode, self._hits(query, top, doc_scores, kw, dense, passages_per_doc),
                            notice)

    def _hits(self, query, doc_ids, doc_scores, kw, dense, per_doc) -> list[DocumentHit]:
        if not doc_ids:
            return []
        # Passage ranking inside a document: both signals, each scaled to its best candidate.
        kw_max = max(kw.values(), default=0.0) or 1.0
        blend: dict[int, float] = {}
        for pid, s in kw.items():
            blend[pid] = blend.get(pid, 0.0) + 0.5 * s / kw_max
        for pid, s in dense.items():
            blend[pid] = blend.get(pid, 0.0) + 0.5 * max(s, 0.0)
        by_doc: dict[int, list[int]] = {}
        for pid in sorted(blend, key=blend.get, reverse=True):
            by_doc.setdefault(self.passage_doc[pid], []).append(pid)
        hits = []
        for d in doc_ids:
            meta = self.store.conn.execute(
                "SELECT external_id, title, doc_type, year FROM documents WHERE id=?", (d,)).fetchone()
            if meta is None:
                continue
            pids = by_doc.get(d, [])[:per_doc]
            passages = []
            for pid in pids:
                row = self.store.conn.execute(
                    "SELECT heading_path, text, start, end FROM passages WHERE id=?", (pid,)).fetchone()
                if row is None:
                    continue
                passages.append(PassageHit(pid, json.loads(row[0]), row[1], row[2], row[3],
                                           highlight_spans(query, row[1]), blend[pid]))
            hits.append(DocumentHit(d, meta[0], meta[1], meta[2], meta[3], doc_scores[d], passages))
        return hits
