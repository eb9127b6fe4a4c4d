"""A consistent view for readers while writers go on.

A `Snapshot` holds its own SQLite connection inside a read transaction: in WAL mode that
connection sees the store exactly as it was at the transaction's first read, whatever is written
afterwards. The indexes it loads were built at that same generation, so a search never meets a
passage the store no longer has, nor the store a passage the index does not know yet.

Writers (uploads, deletes) change the store and the indexes, then build a new snapshot and swap
it in. Requests already running finish on the old one, which is closed when the last leaves.

A reader inside a transaction keeps SQLite from restarting the WAL, and there is always a
current snapshot: so a new one is built and swapped in *unpinned* (reading without a transaction,
which is safe while the writer still holds the write lock and nothing can change), the WAL is
checkpointed once the old snapshot has drained, and only then is the new one pinned. A
transaction begun on a fully checkpointed WAL reads the database file alone, so the next write
can start the WAL over instead of growing it forever.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import JianyanError
from ..dupes.checker import DuplicateChecker
from ..index.sync import load_indexes
from ..search.searcher import Searcher
from ..store import Store

log = logging.getLogger("jianyan.service")


class NotReady(JianyanError):
    code = "not_ready"


class Snapshot:
    def __init__(self, data_dir: Path, embedder, pinned: bool = True) -> None:
        self.store = Store(data_dir)
        self.pinned = False
        self.closed = threading.Event()
        try:
            if pinned:
                self.store.conn.execute("BEGIN")  # deferred: the first read below fixes the view
                self.pinned = True
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

    def pin(self) -> None:
        """Fix the view from now on (see the module docstring for why this comes late)."""
        if self.pinned:
            return
        self.store.conn.execute("BEGIN")
        self.pinned = True
        generation = self.store.generation
        if generation != self.generation:  # only if something wrote without the service's lock
            log.warning("文档库在切换视图时被外部修改（第 %d → %d 版）", self.generation, generation)

    @property
    def consistent(self) -> bool:
        """False when something outside the service (the CLI) wrote after the indexes were built."""
        return self.index_generation == self.generation

    def warm(self) -> None:
        """Build what the first requests would otherwise wait for: the BM25 weights, the MinHash
        LSH Ensemble of 查重."""
        self.indexes.keyword.prepare()
        self.checker.warm()

    def close(self) -> None:
        if self.pinned:
            try:
                self.store.conn.execute("COMMIT")
            except Exception:  # noqa: BLE001 - closing anyway
                log.debug("COMMIT at close failed", exc_info=True)
        self.store.close()
        self.closed.set()


class SnapshotHolder:
    """The current snapshot, reference-counted so that swapping never pulls one from under a request."""

    def __init__(self) -> None:
        self._current: Snapshot | None = None
        self._lock = threading.Lock()
        self.unavailable = "服务正在启动，正在加载文档库和索引，请稍候再试"  # said while there is no snapshot

    @property
    def current(self) -> Snapshot | None:
        return self._current

    @contextmanager
    def use(self) -> Iterator[Snapshot]:
        with self._lock:
            snap = self._current
            if snap is None:
                raise NotReady(self.unavailable)
            snap.users += 1
        try:
            yield snap
        finally:
            with self._lock:
                snap.users -= 1
                if snap.retired and snap.users == 0:
                    snap.close()

    def swap(self, new: Snapshot) -> Snapshot | None:
        """Make `new` current; returns the old one (closed now if idle, else by its last reader)."""
        old = self._replace(new)
        log.info("已切换到新的文档库视图（第 %d 版，%d 段）", new.generation, len(new.indexes.vectors))
        return old

    def close(self) -> None:
        self._replace(None)

    def _replace(self, new: Snapshot | None) -> Snapshot | None:
        with self._lock:
            old, self._current = self._current, new
            if old is not None:
                old.retired = True
                if old.users == 0:
                    old.close()
        return old
