"""One vector per document title, keyed by document id: a proposal's title states its subject,
which a passage deep in its body may not repeat (the dense channel adds its cosine)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import write_atomic


class TitleVectors:
    def __init__(self, dim: int) -> None:
        self.ids = np.zeros(0, np.int64)
        self.vectors = np.zeros((0, dim), np.float32)

    def __len__(self) -> int:
        return len(self.ids)

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
        write_atomic(path, lambda fh: np.savez(fh, ids=self.ids, vectors=self.vectors))

    @classmethod
    def load(cls, path: Path, dim: int) -> "TitleVectors":
        out = cls(dim)
        if path.exists():
            z = np.load(path)
            out.ids, out.vectors = z["ids"], z["vectors"]
        return out
