"""Okapi BM25 over passages, kept as a sparse term-weight matrix.

score(d, q) = Σ_{t ∈ q} idf(t) · tf(t,d) / (tf(t,d) + k1 · (1 − b + b · |d| / avgdl))
with idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5)) — the "Lucene" variant of Kamphuis et al.,
"Which BM25 do you mean? A large-scale reproducibility study of scoring variants" (ECIR 2020),
the default of bm25s. k1 = 1.5, b = 0.75. Query tokens count with their multiplicity, as in bm25s.

The index stores term frequencies (CSR, one row per passage) and recomputes the weights when
passages are added or removed: for tens of thousands of passages this takes milliseconds, and it
keeps the index exactly equal to one built from scratch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import sparse

from ..atomic import write_atomic


class BM25Index:
    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.vocab: dict[str, int] = {}
        self.ids = np.zeros(0, np.int64)  # passage id of each row
        self.tf = sparse.csr_matrix((0, 0), dtype=np.float32)
        self._weights: sparse.csc_matrix | None = None

    def __len__(self) -> int:
        return len(self.ids)

    # -- building ----------------------------------------------------------------------------
    def _rows(self, token_lists: list[list[str]]) -> sparse.csr_matrix:
        indptr, indices, data = [0], [], []
        for tokens in token_lists:
            counts: dict[int, int] = {}
            for tok in tokens:
                tid = self.vocab.setdefault(tok, len(self.vocab))
                counts[tid] = counts.get(tid, 0) + 1
            indices.extend(counts.keys())
            data.extend(counts.values())
            indptr.append(len(indices))
        return sparse.csr_matrix((np.asarray(data, np.float32), np.asarray(indices, np.int64),
                                  np.asarray(indptr, np.int64)), shape=(len(token_lists), len(self.vocab)))

    def add(self, ids: list[int] | np.ndarray, token_lists: list[list[str]]) -> None:
        if len(ids) == 0:
            return
        rows = self._rows(token_lists)
        old = self.tf
        width = len(self.vocab)
        old = sparse.csr_matrix((old.data, old.indices, old.indptr), shape=(old.shape[0], width))
        rows = sparse.csr_matrix((rows.data, rows.indices, rows.indptr), shape=(rows.shape[0], width))
        self.tf = sparse.vstack([old, rows], format="csr")
        self.ids = np.concatenate([self.ids, np.asarray(ids, np.int64)])
        self._weights = None

    def remove(self, ids) -> None:
        keep = ~np.isin(self.ids, np.asarray(list(ids), np.int64))
        if keep.all():
            return
        self.tf = self.tf[keep]
        self.ids = self.ids[keep]
        self._weights = None

    # -- scoring -----------------------------------------------------------------------------
    def _weight_matrix(self) -> sparse.csc_matrix:
        if self._weights is None:
            n = self.tf.shape[0]
            tf = self.tf.tocoo()
            doc_len = np.asarray(self.tf.sum(axis=1)).ravel()
            avgdl = doc_len.mean() if n else 1.0
            df = np.bincount(tf.col, minlength=self.tf.shape[1]).astype(np.float64)
            idf = np.log1p((n - df + 0.5) / (df + 0.5))
            self._idf = idf
            norm = self.k1 * (1 - self.b + self.b * doc_len / max(avgdl, 1e-9))
            w = idf[tf.col] * tf.data / (tf.data + norm[tf.row])
            self._weights = sparse.csc_matrix((w.astype(np.float32), (tf.row, tf.col)), shape=self.tf.shape)
        return self._weights

    def prepare(self) -> None:
        """Compute the weights now rather than on the first query (a service warms up with it)."""
        self._weight_matrix()

    def idf(self, token: str) -> float:
        """Inverse document frequency of `token` (0 for a token no passage has)."""
        tid = self.vocab.get(token)
        if tid is None or not len(self.ids):
            return 0.0
        self._weight_matrix()
        return float(self._idf[tid])

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every passage (row order = self.ids) for the query tokens."""
        n = len(self.ids)
        tids = [self.vocab[t] for t in query_tokens if t in self.vocab]
        if not n or not tids:
            return np.zeros(n, np.float32)
        w = self._weight_matrix()
        counts = np.bincount(tids, minlength=w.shape[1])
        cols = np.nonzero(counts)[0]
        sub = w[:, cols] @ counts[cols].astype(np.float32)
        return np.asarray(sub).ravel().astype(np.float32)

    # -- persistence (write-then-rename) -----------------------------------------------------
    def save(self, path: Path) -> None:
        write_atomic(path, lambda fh: np.savez(
            fh, ids=self.ids, data=self.tf.data, indices=self.tf.indices, indptr=self.tf.indptr,
            shape=np.asarray(self.tf.shape), params=np.asarray([self.k1, self.b]),
            vocab=np.frombuffer(json.dumps(list(self.vocab), ensure_ascii=False).encode(), np.uint8)))

    @classmethod
    def load(cls, path: Path) -> "BM25Index":
        z = np.load(path)
        k1, b = z["params"].tolist()
        idx = cls(k1, b)
        idx.vocab = {t: i for i, t in enumerate(json.loads(z["vocab"].tobytes().decode()))}
        idx.ids = z["ids"]
        idx.tf = sparse.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        return idx
