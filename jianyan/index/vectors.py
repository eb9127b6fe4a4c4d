"""Vector indexes over passage vectors, keyed by passage id.

`VectorIndex` is the interface the searcher, 查重 and `sync_indexes` use; everything behind it
(exact or approximate, in process or on a server) is an implementation detail. Vectors are
L2-normalised, so inner product is cosine.

`FlatVectorIndex` is FAISS `IndexIDMap2(IndexFlatIP)`: exact, in memory, saved as one file with
write-then-rename. It serves up to a few hundred thousand passages on one machine; an ANN index
(HNSW/IVF) or a vector database is another implementation of the same interface, chosen by
`open_vector_index`. The model the vectors come from is recorded by the caller (`index.json`):
an index is never queried with another model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from ..atomic import write_atomic
from ..errors import IndexMismatch

VECTORS_FILE = "vectors.faiss"


class VectorIndex(Protocol):
    dim: int
    model_id: str

    def __len__(self) -> int: ...

    def ids(self) -> np.ndarray:
        """Every passage id held (int64)."""

    def add(self, ids, vectors: np.ndarray) -> None: ...

    def remove(self, ids) -> int: ...

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (ids, scores) for one query vector, optionally among `allowed` ids only."""

    def search_many(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows for several query vectors in one call (-1 ids pad short rows)."""

    def reconstruct(self, ids) -> np.ndarray:
        """The stored vectors of `ids`, in that order."""

    def save(self, folder: Path) -> None: ...


def open_vector_index(folder: Path | None, dim: int, model_id: str) -> VectorIndex:
    """The vector index saved in an index folder, or a new empty one (`folder` None)."""
    if folder is None:
        return FlatVectorIndex(dim, model_id)
    if not (folder / VECTORS_FILE).exists():
        raise IndexMismatch(f"索引文件 {folder / VECTORS_FILE} 不见了，请运行 jianyan reindex 重建索引")
    return FlatVectorIndex.load(folder, dim, model_id)


class FlatVectorIndex:
    """Exact inner-product search with FAISS (`IndexIDMap2(IndexFlatIP)`)."""

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
        # Serialised here and written by Python, not by `faiss.write_index`: FAISS reports a full
        # disk as a RuntimeError, or not at all when the last buffered bytes fail at fclose.
        data = faiss.serialize_index(self.index)
        write_atomic(folder / VECTORS_FILE, lambda fh: fh.write(memoryview(data)))

    @classmethod
    def load(cls, folder: Path, dim: int, model_id: str) -> "FlatVectorIndex":
        import faiss

        idx = cls(dim, model_id)
        idx.index = faiss.read_index(str(folder / VECTORS_FILE))
        if idx.index.d != dim:
            raise IndexMismatch(f"索引文件的向量维度 {idx.index.d} 与记录的 {dim} 不一致，请运行 jianyan reindex")
        return idx

