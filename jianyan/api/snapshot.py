"""A consistent view for readers while writers go on.

A `Snapshot` holds its own SQLite connection inside a read transaction: in WAL mode that
connection sees the store exactly as it was at the transaction's first read, whatever is written
afterwards. The indexes it loads were built at that same generation, so a search never meets a
passage the store no longer has, nor the store a passage the index does not know yet.

Writers (uploads, deletes) change the store and the indexes, then build a new snapshot and swap
it in. Requests already running finish on the old one, which is closed when the last leaves.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import JianyanError
from ..search.duplicates import DuplicateChecker
from ..search.indexer import load_indexes
from ..search.search import Searcher
from ..store import Store

log = logging.getLogger("jianyan.service")


class NotReady(JianyanError):
    code = "not_ready"


class Snapshot:
    def __init__(self, data_dir: Path, embedder) -> None:
        self.store = Store(data_dir)
        try:
            self.store.conn.execute("BEGIN")  # deferred: the first read below fixes the view
            self.generation = self.store.generation
            self.indexes = load_indexes(data_dir)
            if self.indexes is None:
                raise NotReady("还没有检索索引")
            self.index_generation = self.indexes.meta.get("generation")
            self.searcher = Searcher(self.store, self.indexes, embedder)
            self.checker = DuplicateChecker(self.store, self.indexes, embedder)
        except BaseException:
            self.store.close()
            raise
        self.users = 0
        self.retired = False
        self.clusters: dict[int | None, list[dict]] = {}  # 并案 groups by year, computed once per view

    @property
    def consistent(self) -> bool:
        """False when something outside the service (the CLI) wrote after the indexes were built."""
        return self.index_generation == self.generation

    def warm(self) -> None:
        """Build what the first 查重 would otherwise wait for (the MinHash LSH Ensemble)."""
        self.checker.warm()

    def close(self) -> None:
        try:
            self.store.conn.execute("COMMIT")
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        self.store.close()


class SnapshotHolder:
    """The current snapshot, reference-counted so that swapping never pulls one from under a request."""

    def __init__(self) -> None:
        self._current: Snapshot | None = None
        self._lock = threading.Lock()

    @property
    def current(self) -> Snapshot | None:
        return self._current

    @contextmanager
    def use(self) -> Iterator[Snapshot]:
        with self._lock:
            snap = self._current
            if snap is None:
                raise NotReady("服务正在启动，正在加载文档库和索引，请稍候再试")
            snap.users += 1
        try:
            yield snap
        finally:
            with self._lock:
                snap.users -= 1
                if snap.retired and snap.users == 0:
                    snap.close()

    def swap(self, new: Snapshot) -> None:
        self._replace(new)
        log.info("已切换到新的文档库视图（第 %d 版，%d 段）", new.generation, len(new.indexes.vectors))

    def close(self) -> None:
        self._replace(None)

    def _replace(self, new: Snapshot | None) -> None:
        """Make `new` current; the old one closes now if idle, else when its last reader leaves."""
        with self._lock:
            old, self._current = self._current, new
            if old is not None:
                old.retired = True
                if old.users == 0:
                    old.close()
