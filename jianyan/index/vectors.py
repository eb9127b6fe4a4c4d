"""Vector search over passage vectors, keyed by passage id.

`VectorIndex` is the interface the searcher and 查重 use; everything behind it (exact or
approximate, in process or on a server) is an implementation detail. Vectors are L2-normalised,
so inner product is cosine. The model the vectors come from is recorded in `index.json`: an
index is never queried with another model.

`SegmentedVectors` searches the live rows of the index's segments (`segments.py`): exactly over
the memory-mapped vectors of a small segment, through the segment's IVF index (`ann.py`, its
candidates re-scored exactly) for a large one, and merges the segments' top-k. Writes go through
`sync.py`, which adds segments and tombstones.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .ann import exact_top
from .segments import RowFilter, SegmentSet


class VectorIndex(Protocol):
    dim: int
    model_id: str

    def __len__(self) -> int: ...

    def ids(self) -> np.ndarray:
        """Every passage id held (int64)."""

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores) for one query vector, optionally among `allowed` ids only."""

    def search_many(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows for several query vectors in one call (-1 ids pad short rows)."""

    def reconstruct(self, ids) -> np.ndarray:
        """The stored vectors of `ids`, in that order."""

    def stats(self) -> dict:
        """What the index is (exact or approximate) and its measured recall@10 against exact."""


class SegmentedVectors:
    def __init__(self, segments: SegmentSet, model_id: str) -> None:
        self.segments, self.model_id, self.dim = segments, model_id, segments.dim

    def __len__(self) -> int:
        return len(self.segments)

    def ids(self) -> np.ndarray:
        return self.segments.ids()

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        ids, scores = self.search_many(np.asarray(query, np.float32).reshape(1, -1), k, allowed)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def search_many(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, np.float32)
        nq = len(queries)
        if k <= 0 or not nq or not len(self) or (allowed is not None and not len(allowed)):
            return np.zeros((nq, 0), np.int64), np.zeros((nq, 0), np.float32)
        found_ids, found_scores = [], []
        masks = allowed.masks if isinstance(allowed, RowFilter) else [p.mask_of(allowed) for p in self.segments.parts]
        for part, mask in zip(self.segments.parts, masks):
            seg = part.segment
            if mask is not None and not mask.any():
                continue
            n_allowed = len(seg) if mask is None else int(mask.sum())
            if seg.ann is not None and n_allowed > seg.ann.exact_below:
                rows, scores = seg.ann.search(seg.vectors, queries, k, mask, n_allowed / len(seg))
            else:  # small, or a filter leaving few rows: exact over those rows
                rows, scores = exact_top(seg.vectors, queries, k, None if mask is None else np.flatnonzero(mask))
            found_ids.append(np.where(rows >= 0, seg.ids[np.maximum(rows, 0)], -1))
            found_scores.append(np.where(rows >= 0, scores, -np.inf))
        if not found_ids:
            return np.zeros((nq, 0), np.int64), np.zeros((nq, 0), np.float32)
        ids, scores = np.hstack(found_ids), np.hstack(found_scores).astype(np.float32)
        k = min(k, ids.shape[1])
        # ties by id (padding last): the same result however the rows are spread over segments
        order = np.lexsort((np.where(ids >= 0, ids, np.iinfo(np.int64).max), -scores), axis=1)[:, :k]
        ids, scores = np.take_along_axis(ids, order, axis=1), np.take_along_axis(scores, order, axis=1)
        return np.where(np.isfinite(scores), ids, -1), np.where(np.isfinite(scores), scores, 0.0).astype(np.float32)

    def reconstruct(self, ids) -> np.ndarray:
        found, vectors = self.segments.vectors_of(ids)
        if not found.all():
            missing = np.asarray(ids, np.int64)[~found][:5].tolist()
            raise KeyError(f"passages not in the vector index: {missing}")
        return vectors

    def stats(self) -> dict:
        """Rows searched exactly and through ANN, and the ANN's recall@10 (row-weighted)."""
        ann_rows = sum(p.live_count for p in self.segments.parts if p.segment.ann is not None)
        recall = [(p.live_count, p.segment.ann.recall) for p in self.segments.parts
                  if p.segment.ann is not None and p.segment.ann.recall is not None]
        weight = sum(n for n, _ in recall)
        kinds = sorted({p.segment.ann.kind for p in self.segments.parts if p.segment.ann is not None})
        return {"kind": "+".join(kinds) or "exact", "segments": len(self.segments.parts),
                "rows": len(self), "ann_rows": ann_rows,
                "recall_at_10": round(sum(n * r for n, r in recall) / weight, 4) if weight else 1.0}
