"""Keep the derived indexes (FAISS vectors, BM25 keywords) in step with the store.

The indexes live in `<data>/index/` and are keyed by passage id. `sync_indexes` compares the
ids in each index with the passages in the store, removes what is gone and adds what is new —
after an ingest, a removal, or an interrupted run alike — so the indexes never need the store's
history. `rebuild=True` (`jianyan reindex`) starts from empty. Vectors come through the
embedding cache, so rebuilding unchanged text embeds nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..store import Store
from .bm25 import BM25Index
from ..embed.cache import EmbeddingCache, embed_with_cache
from .tokenize import tokenize
from .vectors import IndexMismatch, VectorIndex, write_json_atomic

log = logging.getLogger("jianyan.index")
INDEX_VERSION = 1


def index_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "index"


def embedding_text(text: str) -> str:
    """What a passage's vector is computed from (the e5 `passage: ` prefix is the engine's)."""
    return text


def keyword_text(title: str, heading_path: list[str], text: str) -> str:
    """What a passage's BM25 tokens come from: the passage with its document title and headings,
    so a query naming the subject of a proposal finds each of its passages."""
    return "\n".join([title, *heading_path, text])


@dataclass
class SyncReport:
    added: int = 0
    removed: int = 0
    embedded_chars: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    engine: str = ""
    cached_chars: int = 0  # passage text whose vector came from the cache


class TitleVectors:
    """One vector per document title, keyed by document id (titles say what a proposal is about)."""

    def __init__(self, dim: int) -> None:
        self.ids = np.zeros(0, np.int64)
        self.vectors = np.zeros((0, dim), np.float32)

    def add(self, ids, vectors: np.ndarray) -> None:
        if len(ids):
            self.ids = np.concatenate([self.ids, np.asarray(ids, np.int64)])
            self.vectors = np.vstack([self.vectors, vectors.astype(np.float32)])

    def remove(self, ids) -> None:
        keep = ~np.isin(self.ids, np.asarray(list(ids), np.int64))
        self.ids, self.vectors = self.ids[keep], self.vectors[keep]

    def similarities(self, query_vector: np.ndarray) -> dict[int, float]:
        return dict(zip(self.ids.tolist(), (self.vectors @ query_vector).tolist()))

    def save(self, path: Path) -> None:
        import os

        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, ids=self.ids, vectors=self.vectors)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, dim: int) -> "TitleVectors":
        out = cls(dim)
        if path.exists():
            z = np.load(path)
            out.ids, out.vectors = z["ids"], z["vectors"]
        return out


class SearchIndexes:
    def __init__(self, vectors: VectorIndex, keyword: BM25Index, meta: dict,
                 titles: TitleVectors | None = None) -> None:
        self.vectors, self.keyword, self.meta = vectors, keyword, meta
        self.titles = titles if titles is not None else TitleVectors(vectors.dim)

    @property
    def model_id(self) -> str:
        return self.meta["model_id"]


def load_indexes(data_dir: Path) -> SearchIndexes | None:
    import json

    folder = index_dir(data_dir)
    meta_path = folder / "index.json"
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("version") != INDEX_VERSION:
        raise IndexMismatch("索引格式已过期，请运行 jianyan reindex 重建")
    vectors = VectorIndex.load(folder, meta["dim"], meta["model_id"])
    keyword = BM25Index.load(folder / "keyword.npz")
    titles = TitleVectors.load(folder / "titles.npz", meta["dim"])
    return SearchIndexes(vectors, keyword, meta, titles)


def _passage_rows(store: Store, ids: list[int]) -> list[tuple[int, str, list[str], str]]:
    import json

    rows = []
    for i in range(0, len(ids), 900):
        chunk = ids[i:i + 900]
        q = (f"SELECT p.id, d.title, p.heading_path, p.text FROM passages p JOIN documents d "
             f"ON d.id = p.document_id WHERE p.id IN ({','.join('?' * len(chunk))})")
        rows += [(r[0], r[1], json.loads(r[2]), r[3]) for r in store.conn.execute(q, chunk)]
    rows.sort()
    return rows


def _pending_chars(store: Store, existing: SearchIndexes | None) -> int:
    have = set(existing.vectors.ids().tolist()) if existing is not None else set()
    return sum(n for pid, n in store.conn.execute("SELECT id, length(text) FROM passages") if pid not in have)


def sync_indexes(store: Store, embedder=None, progress: bool = True, rebuild: bool = False,
                 on_progress=None) -> SyncReport:
    """Bring `<data>/index/` in step with the store, embedding new passages with `embedder`
    (default: the fastest engine available for the amount of text to embed).
    `on_progress(done_chars, total_chars)` follows the embedding (the service's job progress)."""
    started = time.perf_counter()
    report = SyncReport()
    folder = index_dir(store.data_dir)
    existing = None if rebuild else load_indexes(store.data_dir)
    if embedder is None:
        from ..embed.engines import bulk_embedder

        embedder = bulk_embedder(_pending_chars(store, existing))
    if existing is not None and existing.model_id != embedder.model_id:
        raise IndexMismatch(f"现有索引由模型“{existing.model_id}”构建，当前模型是“{embedder.model_id}”，"
                            f"不能混用；请运行 jianyan reindex 用当前模型重建")
    if existing is None:
        existing = SearchIndexes(VectorIndex(embedder.dim, embedder.model_id), BM25Index(),
                                 {"model_id": embedder.model_id, "dim": embedder.dim},
                                 TitleVectors(embedder.dim))

    store_ids = {r[0] for r in store.conn.execute("SELECT id FROM passages")}
    vec_ids, kw_ids = set(existing.vectors.ids().tolist()), set(existing.keyword.ids.tolist())
    gone = (vec_ids | kw_ids) - store_ids
    existing.vectors.remove(gone & vec_ids)
    existing.keyword.remove(gone & kw_ids)
    report.removed = len(gone)

    new_vec = sorted(store_ids - vec_ids)
    new_kw = sorted(store_ids - kw_ids)
    rows = _passage_rows(store, sorted(set(new_vec) | set(new_kw)))
    by_id = {r[0]: r for r in rows}
    if new_kw:
        existing.keyword.add(new_kw, [tokenize(keyword_text(*by_id[i][1:])) for i in new_kw])
    if new_vec:
        texts = [embedding_text(by_id[i][3]) for i in new_vec]
        total = sum(len(t) for t in texts)
        cache = EmbeddingCache(store.data_dir / "cache" / "embeddings.sqlite3")
        bar = tqdm(total=total, desc="向量化", unit="字", unit_scale=True, disable=not progress, leave=False)
        t0 = time.perf_counter()
        done = [0]

        def embedded(chars: int) -> None:  # called for text the cache did not have
            done[0] += chars
            bar.update(chars)
            if on_progress is not None:
                on_progress(done[0], total)

        try:
            vectors = embed_with_cache(texts, embedder, cache, progress=embedded)
        finally:
            bar.close()
            cache.close()
        report.embed_seconds = time.perf_counter() - t0
        report.embedded_chars = done[0]
        report.cached_chars = total - done[0]
        existing.vectors.add(new_vec, vectors)
    report.added = len(set(new_vec) | set(new_kw))

    docs = dict(store.conn.execute("SELECT id, title FROM documents").fetchall())
    have = set(existing.titles.ids.tolist())
    gone_docs = have - set(docs)
    existing.titles.remove(gone_docs)
    new_docs = sorted(set(docs) - have)
    if new_docs:
        cache = EmbeddingCache(store.data_dir / "cache" / "embeddings.sqlite3")
        try:
            existing.titles.add(new_docs, embed_with_cache([docs[d] for d in new_docs], embedder, cache))
        finally:
            cache.close()

    if report.added or report.removed or new_docs or gone_docs or rebuild \
            or not (folder / "index.json").exists():
        folder.mkdir(parents=True, exist_ok=True)
        existing.vectors.save(folder)
        existing.keyword.save(folder / "keyword.npz")
        existing.titles.save(folder / "titles.npz")
        existing.meta.update(version=INDEX_VERSION, model_id=embedder.model_id, dim=embedder.dim,
                             passages=len(existing.vectors), generation=store.generation,
                             built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        write_json_atomic(folder / "index.json", existing.meta)
    report.seconds = time.perf_counter() - started
    report.engine = getattr(embedder, "engine", "?")
    log.info("索引同步（%s）：新增 %d，删除 %d，向量化 %d 字，用时 %.1f 秒", report.engine,
             report.added, report.removed, report.embedded_chars, report.seconds)
    return report
