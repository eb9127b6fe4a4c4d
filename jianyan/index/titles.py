"""One vector per document title, keyed by document id: a proposal's title states its subject,
which a passage deep in its body may not repeat (the dense channel adds its cosine).
Kept in segments of their own (`segments.py`, vectors only), written and merged as the
passages' are."""

from __future__ import annotations

import numpy as np

from .ann import dot_rows
from .segments import SegmentSet


class TitleVectors:
    def __init__(self, segments: SegmentSet) -> None:
        self.segments = segments

    def __len__(self) -> int:
        return len(self.segments)

    @property
    def ids(self) -> np.ndarray:
        return self.segments.ids()

    def similarities(self, query_vector: np.ndarray, doc_ids) -> dict[int, float]:
        """Cosine of the query with the titles of `doc_ids` (those that have one)."""
        doc_ids = np.asarray(list(doc_ids), np.int64)
        found, vectors = self.segments.vectors_of(doc_ids)
        sims = dot_rows(vectors[found], query_vector)
        return dict(zip(doc_ids[found].tolist(), sims.tolist()))
