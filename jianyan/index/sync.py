"""Keep the derived indexes (passage vectors, BM25 keywords, title vectors) in step with the store.

The indexes live in `<data>/index/` and are keyed by passage id (titles by document id).
`sync_indexes` compares the ids in each index with the store, removes what is gone and adds what
is new — after an ingest, a removal, or an interrupted run alike — so the indexes never need the
store's history. `rebuild=True` (`jianyan reindex`) starts from empty. Vectors come through the
embedding cache, so rebuilding unchanged text embeds nothing.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from ..atomic import write_json_atomic
from ..embed.cache import EmbeddingCache, embed_with_cache
from ..errors import IndexMismatch
from ..store import Store
from .bm25 import BM25Index
from .titles import TitleVectors
from .tokenize import tokenize
from .vectors import VectorIndex, open_vector_index

log = logging.getLogger("jianyan.index")
INDEX_VERSION = 1
META_FILE = "index.json"
KEYWORD_FILE = "keyword.npz"
TITLES_FILE = "titles.npz"
EmbedProgress = Callable[[int, int], None]  # (characters embedded so far, characters to embed)


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

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


class SearchIndexes:
    """The derived indexes of one store generation, and what they were built with (`meta`)."""

    def __init__(self, vectors: VectorIndex, keyword: BM25Index, meta: dict,
                 titles: TitleVectors | None = None) -> None:
        self.vectors, self.keyword, self.meta = vectors, keyword, meta
        self.titles = titles if titles is not None else TitleVectors(vectors.dim)

    @property
    def model_id(self) -> str:
        return self.meta["model_id"]

    @classmethod
    def empty(cls, model_id: str, dim: int) -> "SearchIndexes":
        return cls(open_vector_index(None, dim, model_id), BM25Index(), {"model_id": model_id, "dim": dim},
                   TitleVectors(dim))


def index_exists(data_dir: Path) -> bool:
    return (index_dir(data_dir) / META_FILE).exists()


def read_index_meta(data_dir: Path) -> dict | None:
    """`index.json` of a data folder (model, dimension, generation…), or None before the first sync."""
    path = index_dir(data_dir) / META_FILE
    if not path.exists():
        return None
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("version") != INDEX_VERSION:
        raise IndexMismatch("索引格式已过期，请运行 jianyan reindex 重建")
    return meta


def load_indexes(data_dir: Path) -> SearchIndexes | None:
    meta = read_index_meta(data_dir)
    if meta is None:
        return None
    folder = index_dir(data_dir)
    vectors = open_vector_index(folder, meta["dim"], meta["model_id"])
    return SearchIndexes(vectors, BM25Index.load(folder / KEYWORD_FILE), meta,
                         TitleVectors.load(folder / TITLES_FILE, meta["dim"]))


def sync_indexes(store: Store, embedder=None, progress: bool = True, rebuild: bool = False,
                 on_progress: EmbedProgress | None = None) -> SyncReport:
    """Bring `<data>/index/` in step with the store, embedding new passages with `embedder`
    (default: the fastest engine available for the amount of text to embed).
    `on_progress(done_chars, total_chars)` follows the embedding (the service's job progress)."""
    started = time.perf_counter()
    report = SyncReport()
    existing = None if rebuild else load_indexes(store.data_dir)
    if embedder is None:
        from ..embed.engines import bulk_embedder

        embedder = bulk_embedder(_pending_chars(store, existing))
    if existing is not None and existing.model_id != embedder.model_id:
        raise IndexMismatch(f"现有索引由模型“{existing.model_id}”构建，当前模型是“{embedder.model_id}”，"
                            f"不能混用；请运行 jianyan reindex 用当前模型重建")
    indexes = existing or SearchIndexes.empty(embedder.model_id, embedder.dim)
    cache = _LazyCache(store.data_dir / "cache" / "embeddings.sqlite3")
    try:
        _sync_passages(store, indexes, embedder, cache, report, progress, on_progress)
        titles_changed = _sync_titles(store, indexes, embedder, cache)
    finally:
        cache.close()
    # Same ids but another generation (a write that changed no passage, or a generation moved
    # behind the index): the content is already right — a passage's or title's id never changes
    # its text — so saving re-stamps `index.json` with the store's generation.
    stale = existing is not None and existing.meta.get("generation") != store.generation
    if report.changed or titles_changed or rebuild or existing is None or stale:
        _save(store, indexes, embedder)
    report.seconds = time.perf_counter() - started
    report.engine = getattr(embedder, "engine", "?")
    log.info("索引同步（%s）：新增 %d，删除 %d，向量化 %d 字，用时 %.1f 秒", report.engine,
             report.added, report.removed, report.embedded_chars, report.seconds)
    return report


class _LazyCache:
    """The embedding cache, opened only when something is to be embedded (a removal embeds nothing)."""

    def __init__(self, path: Path) -> None:
        self.path, self._cache = path, None

    def get(self) -> EmbeddingCache:
        if self._cache is None:
            self._cache = EmbeddingCache(self.path)
        return self._cache

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()


def _pending_chars(store: Store, existing: SearchIndexes | None) -> int:
    have = set(existing.vectors.ids().tolist()) if existing is not None else set()
    return sum(n for pid, n in store.passage_lengths().items() if pid not in have)


def _sync_passages(store: Store, indexes: SearchIndexes, embedder, cache: _LazyCache,
                   report: SyncReport, progress: bool, on_progress: EmbedProgress | None) -> None:
    """Passage ids: drop what the store no longer has, add what it has new, to both channels."""
    store_ids = store.passage_ids()
    vec_ids, kw_ids = set(indexes.vectors.ids().tolist()), set(indexes.keyword.ids.tolist())
    gone = (vec_ids | kw_ids) - store_ids
    indexes.vectors.remove(gone & vec_ids)
    indexes.keyword.remove(gone & kw_ids)
    report.removed = len(gone)
    new_vec, new_kw = sorted(store_ids - vec_ids), sorted(store_ids - kw_ids)
    by_id = {p.id: p for p in store.passages_for_index(sorted(set(new_vec) | set(new_kw)))}
    if new_kw:
        indexes.keyword.add(new_kw, [tokenize(keyword_text(p.title, p.heading_path, p.text))
                                     for p in (by_id[i] for i in new_kw)])
    if new_vec:
        t0 = time.perf_counter()
        texts = [embedding_text(by_id[i].text) for i in new_vec]
        vectors, embedded = _embed_passages(texts, embedder, cache.get(), progress, on_progress)
        report.embed_seconds = time.perf_counter() - t0
        report.embedded_chars = embedded
        report.cached_chars = sum(len(t) for t in texts) - embedded
        indexes.vectors.add(new_vec, vectors)
    report.added = len(set(new_vec) | set(new_kw))


def _embed_passages(texts: list[str], embedder, cache: EmbeddingCache, progress: bool,
                    on_progress: EmbedProgress | None):
    """(vectors, characters actually embedded): the cache answers for text seen before."""
    total = sum(len(t) for t in texts)
    bar = tqdm(total=total, desc="向量化", unit="字", unit_scale=True, disable=not progress, leave=False)
    done = [0]

    def embedded(chars: int) -> None:  # called for text the cache did not have
        done[0] += chars
        bar.update(chars)
        if on_progress is not None:
            on_progress(done[0], total)

    try:
        return embed_with_cache(texts, embedder, cache, progress=embedded), done[0]
    finally:
        bar.close()


def _sync_titles(store: Store, indexes: SearchIndexes, embedder, cache: _LazyCache) -> bool:
    """Title vectors by document id; True when any changed."""
    titles = store.document_titles()
    have = set(indexes.titles.ids.tolist())
    gone, new = have - set(titles), sorted(set(titles) - have)
    indexes.titles.remove(gone)
    if new:
        indexes.titles.add(new, embed_with_cache([titles[d] for d in new], embedder, cache.get()))
    return bool(gone or new)


def _save(store: Store, indexes: SearchIndexes, embedder) -> None:
    """Each file atomically; `index.json` last, naming the generation all of them were built at."""
    folder = index_dir(store.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    indexes.vectors.save(folder)
    indexes.keyword.save(folder / KEYWORD_FILE)
    indexes.titles.save(folder / TITLES_FILE)
    indexes.meta.update(version=INDEX_VERSION, model_id=embedder.model_id, dim=embedder.dim,
                        passages=len(indexes.vectors), generation=store.generation,
                        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    write_json_atomic(folder / META_FILE, indexes.meta)
