"""Embedding cache: (model_id, sha256 of the embedded text) → vector, in SQLite.

Derived data (it can be deleted at any time); it makes re-indexing unchanged text free and means
the same text is never embedded twice, whichever document it comes from.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from ..hashing import text_hash
from ..script import fold


class EmbeddingCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("""CREATE TABLE IF NOT EXISTS vectors (
            model_id TEXT NOT NULL, key TEXT NOT NULL, vector BLOB NOT NULL,
            PRIMARY KEY (model_id, key))""")

    def get_many(self, model_id: str, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self.conn.execute(
                f"SELECT key, vector FROM vectors WHERE model_id=? AND key IN ({','.join('?' * len(chunk))})",
                [model_id, *chunk])
            for key, blob in rows:
                out[key] = np.frombuffer(blob, np.float32)
        return out

    def put_many(self, model_id: str, items: list[tuple[str, np.ndarray]]) -> None:
        self.conn.execute("BEGIN")
        self.conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?,?,?)",
                              [(model_id, k, np.asarray(v, np.float32).tobytes()) for k, v in items])
        self.conn.execute("COMMIT")

    # -- checks (`jianyan check`) ----------------------------------------------------------------
    def problems(self) -> list[str]:
        """SQLite's quick_check of the cache file: [] when sound."""
        rows = [r[0] for r in self.conn.execute("PRAGMA quick_check(5)")]
        return [] if rows == ["ok"] else rows

    def vector_sizes(self) -> dict[tuple[str, int], int]:
        """(model id, bytes per vector) → number of vectors (vectors of one model all have one size)."""
        rows = self.conn.execute("SELECT model_id, length(vector), COUNT(*) FROM vectors GROUP BY 1, 2")
        return {(m, n): c for m, n, c in rows}

    def drop(self, model_id: str, nbytes: int) -> int:
        """Remove the vectors of `model_id` that are `nbytes` long (wrong-sized ones); how many."""
        cur = self.conn.execute("DELETE FROM vectors WHERE model_id=? AND length(vector)=?", (model_id, nbytes))
        return cur.rowcount

    def close(self) -> None:
        self.conn.close()


def embed_with_cache(texts: list[str], embedder, cache: EmbeddingCache, batch: int = 64,
                     progress=None) -> np.ndarray:
    """Passage vectors for `texts`, embedding only what the cache lacks (each distinct text once).
    Keyed by the text the model sees (`script.fold`: a traditional text and its simplified twin
    share one vector)."""
    texts = [fold(t) for t in texts]
    keys = [text_hash(t) for t in texts]
    found = cache.get_many(embedder.model_id, list(dict.fromkeys(keys)))
    missing = list(dict.fromkeys(k for k in keys if k not in found))
    by_key = {k: t for k, t in zip(keys, texts)}
    for i in range(0, len(missing), batch):
        chunk = missing[i:i + batch]
        vectors = embedder.embed_passages([by_key[k] for k in chunk])
        cache.put_many(embedder.model_id, list(zip(chunk, vectors)))
        found.update(zip(chunk, vectors))
        if progress is not None:
            progress(sum(len(by_key[k]) for k in chunk))
    if not texts:
        return np.zeros((0, embedder.dim), np.float32)
    return np.vstack([found[k] for k in keys]).astype(np.float32)
