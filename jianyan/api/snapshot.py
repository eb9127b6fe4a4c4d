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

from ..errors import NotReady
from ..library import View

log = logging.getLogger("jianyan.service")


class Snapshot(View):
    """A pinned `View` shared by concurrent requests: reference-counted by `SnapshotHolder`."""

    def __init__(self, data_dir: Path, embedder, pinned: bool = True) -> None:
        super().__init__(data_dir, embedder, pinned=pinned)
        self.closed = threading.Event()
        self.users = 0
        self.retired = False
        self.clusters: dict[int | None, list[dict]] = {}  # 并案 groups by year, computed once per view

    def close(self) -> None:
        super().close()
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
