"""FAISS vector index over passage vectors, keyed by passage id.

Vectors are L2-normalised, so inner product is cosine. `IndexIDMap2(IndexFlatIP)` is exact; it
serves up to a few hundred thousand passages on one machine. A size-adaptive choice (HNSW/IVF)
fits behind the same class later. Saved with write-then-rename next to a JSON file naming the
model and dimension the vectors come from: an index is never queried with another model.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..errors import JianyanError


class IndexMismatch(JianyanError):
    code = "index_mismatch"


class VectorIndex:
    def __init__(self, dim: int, model_id: str) -> None:
        import faiss

        self.dim, self.model_id = dim, model_id
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return self.index.ntotal

    def ids(self) -> np.ndarray:
        import faiss

        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def add(self, ids, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise IndexMismatch(f"向量维度 {vectors.shape[1]} 与索引维度 {self.dim} 不一致")
        self.index.add_with_ids(vectors, np.asarray(ids, np.int64))

    def remove(self, ids) -> int:
        import faiss

        ids = np.asarray(list(ids), np.int64)
        if not len(ids):
            return 0
        return self.index.remove_ids(faiss.IDSelectorBatch(ids))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores) for one normalised query vector, optionally among `allowed` ids."""
        import faiss

        if len(self) == 0 or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, np.int64)))
        k = min(k, len(self))
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), np.float32), k,
                                        params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def search_many(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores) rows for several query vectors in one call (-1 ids are padding)."""
        import faiss

        if len(self) == 0 or k <= 0 or not len(queries):
            return np.zeros((len(queries), 0), np.int64), np.zeros((len(queries), 0), np.float32)
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, np.int64)))
        scores, ids = self.index.search(np.ascontiguousarray(queries, np.float32), min(k, len(self)),
                                        params=params)
        return ids, scores

    def reconstruct(self, ids) -> np.ndarray:
        return np.vstack([self.index.reconstruct(int(i)) for i in ids]) if len(ids) else \
            np.zeros((0, self.dim), np.float32)

    def save(self, folder: Path) -> None:
        import faiss

        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "vectors.faiss.tmp"
        faiss.write_index(self.index, str(tmp))
        os.replace(tmp, folder / "vectors.faiss")

    @classmethod
    def load(cls, folder: Path, dim: int, model_id: str) -> "VectorIndex":
        import faiss

        idx = cls(dim, model_id)
        idx.index = faiss.read_index(str(folder / "vectors.faiss"))
        if idx.index.d != dim:
            raise IndexMismatch(f"索引文件的向量维度 {idx.index.d} 与记录的 {dim} 不一致，请运行 jianyan reindex")
        return idx


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
