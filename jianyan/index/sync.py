"""Keep the derived indexes (passage vectors, BM25 keywords, title vectors) in step with the store.

The indexes live in `<data>/index/` as immutable segments (`segments.py`) keyed by passage id
(titles by document id), listed with their tombstones in `index.json`. `sync_indexes` compares
the ids the index holds with the store's: what is gone becomes tombstones, what is new one new
segment — after an ingest, a removal, or an interrupted run alike — so the indexes never need
the store's history, and a write costs what it writes, not what the archive holds. Segments of
one size tier are merged when there are MERGE_FACTOR of them (a merge reads the segments, never
the store; large merged segments get their ANN index). `rebuild=True` (`jianyan reindex`)
starts from empty. Vectors come through the embedding cache, so rebuilding embeds nothing new.

`index.json` is written last, atomically, and names every file of the index; files it no longer
names are removed after it (a process still reading them keeps them open until it is done).
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from ..atomic import write_json_atomic
from ..embed.cache import EmbeddingCache, embed_with_cache
from ..errors import IndexMismatch
from ..store import Store
from .ann import ann_min_rows
from .bm25 import KeywordIndex
from .fingerprints import fingerprints
from .segments import (LiveSegment, SegmentData, SegmentSet, merged_data, new_segment_name, open_segment, save_npy,
                       write_segment)
from .titles import TitleVectors
from .tokenize import tokenize
from .vectors import SegmentedVectors, VectorIndex

log = logging.getLogger("jianyan.index")
INDEX_VERSION = 2  # 2: segments (1: whole files vectors.faiss, keyword.npz, titles.npz)
META_FILE = "index.json"
MERGE_FACTOR = 10  # segments of one size tier merged into one (Lucene's LogMergePolicy)
BUILD_ROWS = 100_000  # rows per segment written by one sync (a rebuild writes several, then merges)
EXPUNGE_SHARE = 0.3  # a segment this much deleted is rewritten without its tombstones
EmbedProgress = Callable[[int, int], None]  # (characters embedded so far, characters to embed)



def _not_in(ids: np.ndarray, others: np.ndarray) -> np.ndarray:
    """The ids not among `others`, sorted (np.setdiff1d's result; its unique() sorts both sides
    again, 0.8 s at a million passages against ~10 ms for a hash lookup)."""
    return np.sort(ids[~np.isin(ids, others)])

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


@dataclass
class SegmentEntry:
    """One segment as `index.json` lists it: its folder and its tombstones file (rows deleted)."""

    name: str
    deleted: str | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "deleted": self.deleted}


class SearchIndexes:
    """The derived indexes of one store generation, and what they were built with (`meta`)."""

    def __init__(self, passages: SegmentSet, titles: SegmentSet, meta: dict,
                 entries: dict[str, list[SegmentEntry]] | None = None) -> None:
        self.passage_segments, self.title_segments, self.meta = passages, titles, meta
        self.entries = entries or {"passages": [], "titles": []}
        self.vectors: VectorIndex = SegmentedVectors(passages, meta["model_id"])
        self.keyword = KeywordIndex(passages)
        self.titles = TitleVectors(titles)

    @property
    def model_id(self) -> str:
        return self.meta["model_id"]

    @classmethod
    def empty(cls, model_id: str, dim: int) -> "SearchIndexes":
        return cls(SegmentSet([], dim), SegmentSet([], dim), {"model_id": model_id, "dim": dim})

    def stats(self) -> dict:
        return {**self.vectors.stats(), "title_segments": len(self.title_segments.parts)}


def index_exists(data_dir: Path) -> bool:
    return (index_dir(data_dir) / META_FILE).exists()


def read_index_meta(data_dir: Path) -> dict | None:
    """`index.json` of a data folder (model, dimension, generation…), or None before the first sync."""
    path = index_dir(data_dir) / META_FILE
    if not path.exists():
        return None
    meta = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or meta.get("version") != INDEX_VERSION:
        raise IndexMismatch("索引格式已过期，请运行 jianyan reindex 重建")
    return meta


def index_files(meta: dict) -> list[str]:
    """Every file of the index `meta` describes, relative to the index folder; `index.json` last."""
    out = []
    for entry in (e for listed in _entries(meta).values() for e in listed):
        out.append(entry.name)
        if entry.deleted:
            out.append(entry.deleted)
    return out + [META_FILE]


def index_file_paths(folder: Path, meta: dict) -> list[str]:
    """Every file of the index `meta` describes, relative to `folder` (a segment's files as
    `segment/file`), `index.json` last: what a backup copies."""
    out = []
    for name in index_files(meta)[:-1]:
        path = folder / name
        if path.is_dir():
            out += [f"{name}/{f.name}" for f in sorted(path.iterdir()) if f.is_file()]
        else:
            out.append(name)
    return out + [META_FILE]


def load_indexes(data_dir: Path) -> SearchIndexes | None:
    """The indexes as `index.json` lists them. A sync may replace it and remove segments it no
    longer names while this reads: the listing is read again then (a few times)."""
    for attempt in range(5):
        meta = read_index_meta(data_dir)
        if meta is None:
            return None
        try:
            return _open(index_dir(data_dir), meta)
        except FileNotFoundError:
            if attempt == 4:
                raise IndexMismatch(f"索引文件不全（{index_dir(data_dir)}），请运行 jianyan check --repair")
            time.sleep(0.05)
    return None


_SEGMENT_NAME = re.compile(r"[pt]\d{6,}-[0-9a-f]{8}")
_TOMBSTONE_NAME = re.compile(r"([pt]\d{6,}-[0-9a-f]{8})\.del-\d+-[0-9a-f]{6}\.npy")


def _entries(meta: dict) -> dict[str, list[SegmentEntry]]:
    """The segments `index.json` lists, each name checked: a name is a file of the index folder
    and nothing else (an edited or restored `index.json` cannot point outside it)."""
    entries = {kind: [SegmentEntry(e["name"], e.get("deleted")) for e in meta["segments"][kind]]
               for kind in ("passages", "titles")}
    for entry in (e for listed in entries.values() for e in listed):
        tomb = _TOMBSTONE_NAME.fullmatch(entry.deleted) if isinstance(entry.deleted, str) else None
        if not isinstance(entry.name, str) or not _SEGMENT_NAME.fullmatch(entry.name) or \
                (entry.deleted is not None and (tomb is None or tomb.group(1) != entry.name)):
            raise ValueError(f"索引段名称无效：{str(entry.name)[:40]}")
    return entries


def _open(folder: Path, meta: dict) -> SearchIndexes:
    try:
        entries = _entries(meta)
        dim = int(meta["dim"])
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexMismatch(f"{folder / META_FILE} 内容不完整（{exc}），请运行 jianyan reindex") from exc
    sets = {}
    for kind, listed in entries.items():
        parts = []
        for entry in listed:
            if not (folder / entry.name / "segment.json").exists():
                raise FileNotFoundError(folder / entry.name)
            seg = open_segment(folder / entry.name)
            if seg.dim != dim:
                raise IndexMismatch(f"索引段 {entry.name} 的向量维度 {seg.dim} 与记录的 {dim} 不一致，请运行 jianyan reindex")
            deleted = np.load(folder / entry.deleted) if entry.deleted else None
            parts.append(LiveSegment(seg, deleted))
        sets[kind] = SegmentSet(parts, dim)
    return SearchIndexes(sets["passages"], sets["titles"], meta, entries)


def sync_indexes(store: Store, embedder=None, progress: bool = True, rebuild: bool = False,
                 on_progress: EmbedProgress | None = None) -> SyncReport:
    """Bring `<data>/index/` in step with the store, embedding new passages with `embedder`
    (default: the fastest engine available for the amount of text to embed).
    `on_progress(done_chars, total_chars)` follows the embedding (the service's job progress)."""
    started = time.perf_counter()
    report = SyncReport()
    existing = None if rebuild else load_indexes(store.data_dir)
    store_ids = store.passage_id_array()
    held = existing.vectors.ids() if existing is not None else np.zeros(0, np.int64)
    new_ids = _not_in(store_ids, held)
    if embedder is None:
        from ..embed.engines import bulk_embedder

        embedder = bulk_embedder(store.passage_lengths(new_ids.tolist()))
    if existing is not None and existing.model_id != embedder.model_id:
        raise IndexMismatch(f"现有索引由模型“{existing.model_id}”构建，当前模型是“{embedder.model_id}”，"
                            f"不能混用；请运行 jianyan reindex 用当前模型重建")
    indexes = existing or SearchIndexes.empty(embedder.model_id, embedder.dim)
    writer = IndexWriter(index_dir(store.data_dir), indexes, store.generation)
    cache = _LazyCache(store.data_dir / "cache" / "embeddings.sqlite3")
    try:
        gone = _not_in(held, store_ids)
        writer.delete("passages", gone)
        report.removed = len(gone)
        for a in range(0, len(new_ids), BUILD_ROWS):
            chunk = new_ids[a:a + BUILD_ROWS].tolist()
            writer.add("passages", _passage_segment(store, chunk, embedder, cache, report, progress, on_progress))
        report.added = len(new_ids)
        titles_changed = _sync_titles(store, indexes, writer, embedder, cache)
        # Same ids but another generation (a write that changed no passage, or a generation moved
        # behind the index): the content is already right — a passage's or title's id never
        # changes its text — so committing re-stamps `index.json` with the store's generation.
        stale = existing is not None and existing.meta.get("generation") != store.generation
        if report.changed or titles_changed or rebuild or existing is None or stale:
            writer.merge("passages")
            writer.merge("titles")
            writer.commit(embedder.model_id, embedder.dim)
    except BaseException:
        writer.abandon()
        raise
    finally:
        cache.close()
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


def _passage_segment(store: Store, ids: list[int], embedder, cache: _LazyCache, report: SyncReport,
                     progress: bool, on_progress: EmbedProgress | None) -> SegmentData:
    """New passages as one segment's data: their BM25 tokens and vectors."""
    passages = store.passages_for_index(ids)
    tokens = [tokenize(keyword_text(p.title, p.heading_path, p.text)) for p in passages]
    t0 = time.perf_counter()
    texts = [embedding_text(p.text) for p in passages]
    vectors, embedded = _embed_passages(texts, embedder, cache.get(), progress, on_progress)
    report.embed_seconds += time.perf_counter() - t0
    report.embedded_chars += embedded
    report.cached_chars += sum(len(t) for t in texts) - embedded
    return SegmentData.from_tokens([p.id for p in passages], [p.document_id for p in passages], vectors, tokens)


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


def _sync_titles(store: Store, indexes: SearchIndexes, writer: "IndexWriter", embedder, cache: _LazyCache) -> bool:
    """Title vectors by document id, with the fingerprints of proposals' texts (the 查重 copy
    index, `fingerprints.py`); True when any changed."""
    store_ids = store.document_id_array()
    held = indexes.titles.ids
    gone, new = _not_in(held, store_ids), _not_in(store_ids, held).tolist()
    writer.delete("titles", gone)
    for a in range(0, len(new), BUILD_ROWS):
        chunk = new[a:a + BUILD_ROWS]
        titles = store.titles_of(chunk)
        vectors = embed_with_cache([titles[d] for d in chunk], embedder, cache.get())
        proposals = store.document_ids_of_type(chunk, "proposal")
        prints = {d: fingerprints(text) for d, text in store.document_texts(proposals).items()}
        writer.add("titles", SegmentData.from_tokens(chunk, chunk, vectors, None).with_fingerprints(prints))
    return bool(len(gone) or new)


class IndexWriter:
    """The next `index.json`: segments written, tombstones added and merges, then one commit."""

    def __init__(self, folder: Path, indexes: SearchIndexes, generation: int) -> None:
        self.folder, self.generation = folder, generation
        self.dim = indexes.passage_segments.dim
        self.meta = dict(indexes.meta)
        self.number = int(self.meta.get("next_segment", 1))
        self.parts = {"passages": list(indexes.passage_segments.parts),
                      "titles": list(indexes.title_segments.parts)}
        self.entries = {k: list(v) for k, v in indexes.entries.items()}
        self.written: list[str] = []  # segments and tombstones not yet named by index.json
        folder.mkdir(parents=True, exist_ok=True)

    def abandon(self) -> None:
        """Remove what this sync wrote and will not commit (a failed or empty sync) — never a
        file `index.json` names (an interruption right after it was replaced)."""
        try:
            named = set(index_files(read_index_meta(self.folder.parent) or {"segments": {"passages": [], "titles": []}}))
        except Exception:  # noqa: BLE001 - unreadable: keep everything, the next commit collects it
            return
        for name in self.written:
            if name not in named:
                _remove(self.folder / name)

    def _name(self, kind: str) -> str:
        name = new_segment_name("p" if kind == "passages" else "t", self.number)
        self.number += 1
        return name

    def add(self, kind: str, data: SegmentData) -> None:
        if not len(data.ids):
            return
        ann = ann_min_rows() if kind == "passages" else None
        folder = write_segment(self.folder, self._name(kind), data, ann)
        self.written.append(folder.name)
        self.parts[kind].append(LiveSegment(open_segment(folder)))
        self.entries[kind].append(SegmentEntry(folder.name))

    def delete(self, kind: str, ids: np.ndarray) -> None:
        """Tombstones for `ids`: per segment holding some, a new file of all its deleted rows."""
        if not len(ids):
            return
        for part, _, rows in SegmentSet(self.parts[kind], self.dim).locate(ids):
            i = self.parts[kind].index(part)
            deleted = np.union1d(part.deleted, rows)
            name = f"{part.segment.name}.del-{self.generation}-{secrets.token_hex(3)}.npy"
            save_npy(self.folder / name, deleted.astype(np.int64))
            self.written.append(name)
            self.parts[kind][i] = LiveSegment(part.segment, deleted)
            self.entries[kind][i] = SegmentEntry(part.segment.name, name)

    def merge(self, kind: str) -> None:
        """Merge while a size tier holds MERGE_FACTOR segments; rewrite segments mostly deleted."""
        while True:
            group = self._merge_group(kind)
            if not group:
                return
            parts = [self.parts[kind][i] for i in group]
            data = merged_data([(p.segment, p.live) for p in parts])
            keep = [i for i in range(len(self.parts[kind])) if i not in group]
            self.parts[kind] = [self.parts[kind][i] for i in keep]
            self.entries[kind] = [self.entries[kind][i] for i in keep]
            if len(data.ids):
                self.add(kind, data)
            log.info("合并索引段：%d 段 → 1 段（%d 行）", len(group), len(data.ids))

    def _merge_group(self, kind: str) -> list[int]:
        parts = self.parts[kind]
        for i, p in enumerate(parts):
            if len(p.segment) and len(p.deleted) / len(p.segment) >= EXPUNGE_SHARE:
                return [i]
        tiers: dict[int, list[int]] = {}
        for i, p in enumerate(parts):
            tiers.setdefault(int(math.log10(max(p.live_count, 1)) // 1), []).append(i)
        for tier in sorted(tiers):
            if len(tiers[tier]) >= MERGE_FACTOR:
                return tiers[tier]
        return []

    def commit(self, model_id: str, dim: int) -> None:
        """`index.json` last, naming the generation everything was built at; then unnamed files go."""
        self.meta.update(version=INDEX_VERSION, model_id=model_id, dim=dim,
                         passages=sum(p.live_count for p in self.parts["passages"]),
                         generation=self.generation, next_segment=self.number,
                         segments={k: [e.to_json() for e in v] for k, v in self.entries.items()},
                         built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        write_json_atomic(self.folder / META_FILE, self.meta)
        self.written = []  # named now: never abandoned
        named = set(index_files(self.meta))
        for path in self.folder.iterdir():
            if path.name not in named:
                _remove(path)


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError as exc:  # a leftover costs space, not correctness; the next commit tries again
        log.warning("无法删除旧索引文件 %s：%s", path, exc)
