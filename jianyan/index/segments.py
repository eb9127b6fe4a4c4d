"""Immutable index segments: Lucene's design, so that a write costs what it writes.

A segment is one folder of `<data>/index/` holding a fixed set of rows (passages, or document
titles), never changed once written:

    ids.npy        row → passage id (int64, ascending: ids are AUTOINCREMENT, never reused)
    docs.npy       row → document id
    vectors.npy    row → L2-normalised vector (float32), memory-mapped
    lengths.npy    row → number of BM25 tokens                       (passage segments)
    terms.json     the segment's vocabulary, column order            (passage segments)
    term_ptr.npy, post_rows.npy, post_tf.npy
                   postings by term (CSC): rows of term t are post_rows[term_ptr[t]:term_ptr[t+1]],
                   memory-mapped, so a query reads only its terms' postings
    ann.faiss      an IVF index over the vectors, for large segments (`ann.py`)
    fp_keys.npy, fp_rows.npy
                   winnowed fingerprints of the documents' texts and their rows, sorted by
                   fingerprint (`fingerprints.py`), memory-mapped: the 查重 copy index (title
                   segments, proposals only)
    segment.json   rows, kind and the ANN's parameters and measured recall; written last

A segment is written under a temporary name and renamed whole. Deletions are tombstones: a
small file of deleted rows per segment and generation, named in `index.json` (`sync.py`).
Segments are opened once per process (`open_segment` keeps a weak cache by path), so a new
snapshot shares every unchanged segment, and its memory, with the one it replaces.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import fsync_dir, write_atomic
from ..errors import IndexMismatch
from .fingerprints import shared_counts, with_rows

SEGMENT_META = "segment.json"
_cache: "weakref.WeakValueDictionary[str, Segment]" = weakref.WeakValueDictionary()
_cache_lock = threading.Lock()


def new_segment_name(kind: str, number: int) -> str:
    """Unique for the folder's life: a counter, and a random tail so that a rebuilt index never
    reuses a name another process may still have open (the cache is keyed by path)."""
    return f"{kind}{number:06d}-{secrets.token_hex(4)}"


class Segment:
    """One segment, read-only. Vectors and postings stay on disk (memory-mapped)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name
        self.meta = _read(folder / SEGMENT_META, lambda p: json.loads(p.read_text(encoding="utf-8")))
        self.ids = _read(folder / "ids.npy", np.load)
        self.docs = _read(folder / "docs.npy", np.load)
        self.vectors = _read(folder / "vectors.npy", _mapped)
        self.keyword = bool(self.meta.get("keyword", False))
        if self.keyword:
            self.lengths = _read(folder / "lengths.npy", np.load)
            terms = _read(folder / "terms.json", lambda p: json.loads(p.read_text(encoding="utf-8")))
            self.vocab = {t: i for i, t in enumerate(terms)}
            self.term_ptr = _read(folder / "term_ptr.npy", np.load)
            self.post_rows = _read(folder / "post_rows.npy", _mapped)
            self.post_tf = _read(folder / "post_tf.npy", _mapped)
        self.fingerprints = bool(self.meta.get("fingerprints", False))
        if self.fingerprints:
            self.fp_keys = _read(folder / "fp_keys.npy", _mapped)
            self.fp_rows = _read(folder / "fp_rows.npy", _mapped)
        rows = self.meta.get("rows")
        if self.fingerprints and len(self.fp_keys) != len(self.fp_rows):
            raise IndexMismatch(f"索引段 {folder} 内部不一致，请运行 jianyan check --repair")
        if self.vectors.ndim != 2 or not (len(self.ids) == len(self.docs) == len(self.vectors) == rows) or \
                (self.keyword and (len(self.lengths) != rows or len(self.term_ptr) != len(self.vocab) + 1
                                   or len(self.post_rows) != self.term_ptr[-1] or len(self.post_tf) != len(self.post_rows))):
            raise IndexMismatch(f"索引段 {folder} 内部不一致，请运行 jianyan check --repair")
        self.ann = None
        if self.meta.get("ann"):
            from .ann import load_ann

            self.ann = _read(folder / "ann.faiss", lambda p: load_ann(folder, self.meta["ann"]))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def rows_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in `ids` found here, their rows)."""
        ids = np.asarray(ids, np.int64)
        if not len(self.ids) or not len(ids):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        rows = np.searchsorted(self.ids, ids)
        rows = np.minimum(rows, len(self.ids) - 1)
        found = self.ids[rows] == ids
        return np.flatnonzero(found), rows[found]

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        col = self.vocab.get(term)
        if col is None:
            return None
        a, b = self.term_ptr[col], self.term_ptr[col + 1]
        return np.asarray(self.post_rows[a:b]), np.asarray(self.post_tf[a:b], np.float32)

    def row_tokens(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Every posting as (row, term column, tf) and the terms: what a merge rebuilds from."""
        counts = np.diff(self.term_ptr)
        cols = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        terms = [None] * len(self.vocab)
        for t, i in self.vocab.items():
            terms[i] = t
        return np.asarray(self.post_rows, np.int64), cols, np.asarray(self.post_tf, np.float32), terms


def _mapped(path: Path) -> np.ndarray:
    """The array memory-mapped, as a plain ndarray over the mapping: np.memmap's Python-level
    __getitem__ adds ~30 µs to each indexing, done dozens of times a search (the mapping stays open
    while any view of it lives)."""
    return np.asarray(np.load(path, mmap_mode="r"))


def _read(path: Path, load):
    """`load(path)`, any failure but a missing file (a sync replaced the segment) in words."""
    try:
        return load(path)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - numpy, JSON and FAISS each fail in their own way
        raise IndexMismatch(f"索引文件 {path} 无法读取（{exc}），请运行 jianyan check --repair") from exc


def open_segment(folder: Path) -> Segment:
    """The segment at `folder`, shared with every other holder in this process."""
    key = str(folder.resolve())
    with _cache_lock:
        seg = _cache.get(key)
        if seg is None:
            seg = Segment(folder)
            _cache[key] = seg
        return seg


@dataclass
class SegmentData:
    """What a new segment is written from: rows sorted by id."""

    ids: np.ndarray
    docs: np.ndarray
    vectors: np.ndarray
    # keyword part (passage segments): per posting (row, term column, tf), and the terms
    post_row: np.ndarray | None = None
    post_col: np.ndarray | None = None
    post_tf: np.ndarray | None = None
    terms: list[str] | None = None
    # fingerprint part (title segments): sorted (fingerprint, row) pairs
    fp_keys: np.ndarray | None = None
    fp_rows: np.ndarray | None = None

    @classmethod
    def from_tokens(cls, ids, docs, vectors: np.ndarray, token_lists: list[list[str]] | None) -> "SegmentData":
        order = np.argsort(np.asarray(ids, np.int64), kind="stable")
        data = cls(np.asarray(ids, np.int64)[order], np.asarray(docs, np.int64)[order],
                   np.ascontiguousarray(np.asarray(vectors, np.float32)[order]))
        if token_lists is not None:
            vocab: dict[str, int] = {}
            rows, cols, tfs = [], [], []
            for row, k in enumerate(order.tolist()):
                counts: dict[int, int] = {}
                for tok in token_lists[k]:
                    tid = vocab.setdefault(tok, len(vocab))
                    counts[tid] = counts.get(tid, 0) + 1
                rows.extend([row] * len(counts))
                cols.extend(counts.keys())
                tfs.extend(counts.values())
            data.post_row, data.post_col = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
            data.post_tf, data.terms = np.asarray(tfs, np.float32), list(vocab)
        return data

    @property
    def keyword(self) -> bool:
        return self.terms is not None

    def with_fingerprints(self, by_id: dict[int, np.ndarray]) -> "SegmentData":
        """Add the fingerprints of the rows whose id is in `by_id`."""
        rows = [i for i, x in enumerate(self.ids.tolist()) if x in by_id]
        self.fp_keys, self.fp_rows = with_rows([by_id[int(self.ids[r])] for r in rows], rows)
        return self


def write_segment(parent: Path, name: str, data: SegmentData, ann_min_rows: int | None = None) -> Path:
    """Write `data` as segment `parent/name` (whole or not at all) and return its folder.
    A segment of at least `ann_min_rows` rows gets an ANN index (`ann.py`)."""
    final = parent / name
    tmp = parent / (name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        rows = len(data.ids)
        meta: dict = {"rows": rows, "keyword": data.keyword, "fingerprints": data.fp_keys is not None}
        save_npy(tmp / "ids.npy", data.ids)
        save_npy(tmp / "docs.npy", data.docs)
        save_npy(tmp / "vectors.npy", data.vectors)
        if data.keyword:
            order = np.lexsort((data.post_row, data.post_col))  # by term, then row
            counts = np.bincount(data.post_col, minlength=len(data.terms))
            lengths = np.bincount(data.post_row, weights=data.post_tf, minlength=rows).astype(np.float32)
            save_npy(tmp / "lengths.npy", lengths)
            save_npy(tmp / "term_ptr.npy", np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
            save_npy(tmp / "post_rows.npy", data.post_row[order].astype(np.int32))
            save_npy(tmp / "post_tf.npy", data.post_tf[order].astype(np.float32))
            write_atomic(tmp / "terms.json", lambda fh: fh.write(json.dumps(data.terms, ensure_ascii=False).encode()))
        if data.fp_keys is not None:
            save_npy(tmp / "fp_keys.npy", data.fp_keys.astype(np.uint64))
            save_npy(tmp / "fp_rows.npy", data.fp_rows.astype(np.int32))
        if ann_min_rows is not None and rows >= ann_min_rows:
            from .ann import build_ann

            meta["ann"] = build_ann(tmp, data.vectors)
        write_atomic(tmp / SEGMENT_META, lambda fh: fh.write(json.dumps(meta, ensure_ascii=False).encode()))
        os.replace(tmp, final)
        fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def save_npy(path: Path, array: np.ndarray) -> None:
    """As `np.save`, but the bytes written by Python's file object: numpy's own writer loses the
    errno of a full disk or a file size limit, which the user must be told in words."""
    array = np.ascontiguousarray(array)

    def write(fh) -> None:
        np.lib.format.write_array_header_1_0(fh, np.lib.format.header_data_from_array_1_0(array))
        view = memoryview(array.reshape(-1).view(np.uint8))
        for a in range(0, len(view), 1 << 24):
            fh.write(view[a:a + (1 << 24)])
    write_atomic(path, write)


def merged_data(parts: list[tuple[Segment, np.ndarray | None]]) -> SegmentData:
    """The live rows of several segments (each with its live mask, None = all) as one segment's
    data, in id order, with their vocabularies united — vectorised, no loop over rows."""
    ids, docs, vectors = [], [], []
    post_row, post_col, post_tf, terms, vocab = [], [], [], [], {}
    fp_keys, fp_rows = [], []
    offset = 0
    keyword = all(seg.keyword for seg, _ in parts)
    fingerprinted = any(seg.fingerprints for seg, _ in parts)
    for seg, live in parts:
        keep = np.arange(len(seg)) if live is None else np.flatnonzero(live)
        ids.append(seg.ids[keep])
        docs.append(seg.docs[keep])
        vectors.append(np.asarray(seg.vectors[keep], np.float32))
        new_row = np.full(len(seg), -1, np.int64)
        new_row[keep] = np.arange(len(keep)) + offset
        if seg.fingerprints:
            rows = new_row[np.asarray(seg.fp_rows, np.int64)]
            ok = rows >= 0
            fp_keys.append(np.asarray(seg.fp_keys)[ok])
            fp_rows.append(rows[ok])
        if keyword:
            rows, cols, tf, seg_terms = seg.row_tokens()
            mapping = np.asarray([vocab.setdefault(t, len(vocab)) for t in seg_terms], np.int64)
            ok = new_row[rows] >= 0
            post_row.append(new_row[rows[ok]])
            post_col.append(mapping[cols[ok]] if len(mapping) else cols[ok])
            post_tf.append(tf[ok])
        offset += len(keep)
    dim = parts[0][0].dim
    data = SegmentData(np.concatenate(ids) if ids else np.zeros(0, np.int64),
                       np.concatenate(docs) if docs else np.zeros(0, np.int64),
                       np.vstack(vectors) if vectors else np.zeros((0, dim), np.float32))
    if keyword:
        terms = list(vocab)
        data.post_row, data.post_col = np.concatenate(post_row), np.concatenate(post_col)
        data.post_tf, data.terms = np.concatenate(post_tf), terms
    if fingerprinted:
        data.fp_keys = np.concatenate(fp_keys) if fp_keys else np.zeros(0, np.uint64)
        data.fp_rows = np.concatenate(fp_rows) if fp_rows else np.zeros(0, np.int64)
    order = np.argsort(data.ids, kind="stable")
    if (order != np.arange(len(order))).any():  # segments merged out of id order
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        data.ids, data.docs, data.vectors = data.ids[order], data.docs[order], data.vectors[order]
        if keyword:
            data.post_row = inverse[data.post_row]
        if fingerprinted:
            data.fp_rows = inverse[data.fp_rows]
    if fingerprinted:
        by_key = np.lexsort((data.fp_rows, data.fp_keys))
        data.fp_keys, data.fp_rows = data.fp_keys[by_key], data.fp_rows[by_key]
    return data


class LiveSegment:
    """A segment with its tombstones: the rows deleted since it was written."""

    def __init__(self, segment: Segment, deleted_rows: np.ndarray | None = None) -> None:
        self.segment = segment
        self.deleted = np.zeros(0, np.int64) if deleted_rows is None else np.asarray(deleted_rows, np.int64)
        if len(self.deleted):
            self.live = np.ones(len(segment), bool)
            self.live[self.deleted] = False
        else:
            self.live = None  # every row live
        self.live_count = len(segment) - len(self.deleted)

    def live_ids(self) -> np.ndarray:
        return self.segment.ids if self.live is None else self.segment.ids[self.live]

    def mask_of(self, ids: np.ndarray | None) -> np.ndarray | None:
        """Live rows, and among them only `ids` when given (None: every row, nothing deleted)."""
        if ids is None:
            return self.live
        mask = np.zeros(len(self.segment), bool)
        mask[self.segment.rows_of(ids)[1]] = True
        return mask if self.live is None else mask & self.live


class RowFilter:
    """Allowed ids as one row mask per segment, computed once for a filter used again and again
    (查重's proposals): a search with it costs no lookups."""

    def __init__(self, segments: "SegmentSet", ids: np.ndarray) -> None:
        self.masks = [part.mask_of(np.asarray(ids, np.int64)) for part in segments.parts]
        self.count = sum(int(m.sum()) for m in self.masks)

    def __len__(self) -> int:
        return self.count


class SegmentSet:
    """The live rows of a list of segments, seen as one collection keyed by id."""

    def __init__(self, parts: list[LiveSegment], dim: int) -> None:
        self.parts, self.dim = parts, dim

    def __len__(self) -> int:
        return sum(p.live_count for p in self.parts)

    def ids(self) -> np.ndarray:
        return np.concatenate([p.live_ids() for p in self.parts]) if self.parts else np.zeros(0, np.int64)

    def locate(self, ids) -> list[tuple[LiveSegment, np.ndarray, np.ndarray]]:
        """For each segment holding some of `ids` (live rows only): (part, positions in ids, rows)."""
        ids = np.asarray(ids, np.int64)
        out = []
        for part in self.parts:
            pos, rows = part.segment.rows_of(ids)
            if part.live is not None and len(rows):
                ok = part.live[rows]
                pos, rows = pos[ok], rows[ok]
            if len(rows):
                out.append((part, pos, rows))
        return out

    def vectors_of(self, ids) -> tuple[np.ndarray, np.ndarray]:
        """(found mask over `ids`, their vectors in `ids` order, zeros where not found)."""
        ids = np.asarray(ids, np.int64)
        found = np.zeros(len(ids), bool)
        out = np.zeros((len(ids), self.dim), np.float32)
        for part, pos, rows in self.locate(ids):
            order = np.argsort(rows)  # read the memory-mapped rows forwards
            out[pos[order]] = part.segment.vectors[rows[order]]
            found[pos] = True
        return found, out

    def documents_of(self, ids) -> np.ndarray:
        """Document id of each of `ids` (-1 where not held)."""
        ids = np.asarray(ids, np.int64)
        out = np.full(len(ids), -1, np.int64)
        for part, pos, rows in self.locate(ids):
            out[pos] = part.segment.docs[rows]
        return out

    def ids_of_documents(self, doc_ids: np.ndarray) -> np.ndarray:
        """The live ids of every row of the documents `doc_ids`."""
        out = []
        for part in self.parts:
            keep = np.isin(part.segment.docs, doc_ids)
            if part.live is not None:
                keep &= part.live
            out.append(part.segment.ids[keep])
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def sharing_fingerprints(self, query: np.ndarray, containment: float) -> dict[int, float]:
        """Ids (documents) holding at least `containment` of the distinct fingerprints `query`,
        with the share they hold."""
        if not len(query):
            return {}
        out: dict[int, float] = {}
        for part in self.parts:
            seg = part.segment
            if not seg.fingerprints:
                continue
            rows, counts = shared_counts(seg.fp_keys, seg.fp_rows, query)
            share = counts / len(query)
            keep = share >= containment
            if part.live is not None:
                keep &= part.live[rows]
            out.update(zip(seg.ids[rows[keep]].tolist(), share[keep].tolist()))
        return out
