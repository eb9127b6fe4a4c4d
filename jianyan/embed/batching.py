"""Concurrent query embeddings coalesced into one model call.

Under load, requests arrive while the model is busy with the previous ones; instead of each
waiting its turn for a batch of one, the worker takes every query that has queued up and embeds
them together. A batched model (sentence-transformers) embeds 8 queries in much less than 8 times
the time of one, so throughput rises with load while an idle request waits for nobody.
Long queries cannot hold short ones up (see `BatchingEmbedder`).
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from concurrent.futures import Future

import numpy as np

log = logging.getLogger("jianyan.embed")


# A query longer than this is cut before tokenising: the model reads at most 512 tokens, which
# Chinese text reaches well before 1,024 characters.
MAX_EMBED_CHARS = 1024
# Queries of at most this many characters in all are "short": they go first, in batches.
SHORT_CHARS = 256
SHORT, LONG = 0, 1


class BatchingEmbedder:
    """Short queries are served first; a long one (a pasted paragraph and its clauses) is embedded
    one text per model call, with the short queries that arrived meanwhile served in between,
    so that no short search waits for more than one model call."""

    def __init__(self, inner, max_batch: int = 32) -> None:
        self.inner, self.max_batch = inner, max_batch
        self.model_id, self.dim = inner.model_id, inner.dim
        self.engine = f"{inner.engine}，合批"
        self.calls = 0  # model calls made (fewer than requests under load)
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._seq = itertools.count()
        threading.Thread(target=self._worker, name="jianyan-query-embed", daemon=True).start()

    def pending(self) -> int:
        """Queries waiting for the model (for the service's health)."""
        return self._queue.qsize()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        texts = [t[:MAX_EMBED_CHARS] for t in texts]
        done: Future = Future()
        kind = SHORT if sum(map(len, texts)) <= SHORT_CHARS else LONG
        self._queue.put((kind, next(self._seq), texts, done))
        return done.result()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)  # drafts for 查重: one large call, not worth queueing

    def _worker(self) -> None:
        while True:
            kind, _, texts, done = self._queue.get()
            if kind == SHORT:
                self._embed_together([(texts, done), *self._more_short()])
                continue
            vectors = []
            try:
                for text in texts:
                    vectors.append(self._call([text]))
                    shorts = self._more_short()
                    if shorts:
                        self._embed_together(shorts)
            except Exception as exc:  # noqa: BLE001 - handed to the one request it belongs to
                done.set_exception(exc)
                continue
            done.set_result(np.vstack(vectors))

    def _more_short(self) -> list[tuple[list[str], Future]]:
        """Short queries that queued up while the model was busy (up to a batch)."""
        items: list[tuple[list[str], Future]] = []
        while len(items) < self.max_batch:
            try:
                kind, seq, texts, done = self._queue.get_nowait()
            except queue.Empty:
                break
            if kind != SHORT:
                self._queue.put((kind, seq, texts, done))  # back in its place
                break
            items.append((texts, done))
        return items

    def _call(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return self.inner.embed_queries(texts)

    def _embed_together(self, items: list[tuple[list[str], Future]]) -> None:
        try:
            vectors = self._call([t for batch, _ in items for t in batch])
        except Exception:  # noqa: BLE001 - one bad query must not fail its neighbours
            for item in items:
                self._run_alone(item)
            return
        at = 0
        for batch, done in items:
            done.set_result(vectors[at:at + len(batch)])
            at += len(batch)

    def _run_alone(self, item: tuple[list[str], Future]) -> None:
        batch, done = item
        try:
            done.set_result(self._call(batch))
        except Exception as exc:  # noqa: BLE001 - handed to the one request it belongs to
            done.set_exception(exc)
