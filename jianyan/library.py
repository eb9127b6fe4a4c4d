"""The application object: one data folder — its store of record, the indexes derived from it,
and the searcher and duplicate checker over both. The CLI and the service are thin front ends
over a `Library`; every write goes through it, so "write the store, then sync the indexes" is
written once.

```
lib = Library("jianyan-data")
lib.ingest(["提案/"])                       # store + indexes
with lib.open_view() as view:              # a consistent read view
    view.searcher.search("社区嵌入式养老")
    view.checker.check(text, title)
```
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .dupes.checker import DuplicateChecker
from .errors import IndexMismatch, NotReady
from .index.sync import EmbedProgress, SyncReport, index_exists, load_indexes, read_index_meta, sync_indexes
from .ingest.pipeline import FileToIngest, IngestReport, Outcome, ingest_files, ingest_paths
from .ingest.readers import FieldMapping
from .search.searcher import Searcher
from .storage import storage_errors
from .store import Store
from .writelock import WriteLock

log = logging.getLogger("jianyan.library")
NO_INDEX = "还没有检索索引：请先用 jianyan ingest 导入文档（或运行 jianyan reindex）"


@dataclass
class WriteResult:
    """What one write did: the store's report and, when the indexes were synced, theirs."""

    ingest: IngestReport | None = None
    removed: dict | None = None
    sync: SyncReport | None = None


class View:
    """A read view of the library: a store connection, the indexes of the same generation, and
    a `Searcher` and `DuplicateChecker` over both.

    `pinned=True` holds the connection inside one read transaction (WAL): the view then sees the
    store exactly as it was when it was opened, whatever is written afterwards — the service's
    snapshots (`api/snapshot.py`). Unpinned, it reads the store as it is (the CLI).
    """

    def __init__(self, data_dir: Path, embedder, pinned: bool = True) -> None:
        self.store = Store(data_dir)
        self.pinned = False
        try:
            if pinned:
                self.store.begin_read()  # the first read below fixes the view
                self.pinned = True
            self.generation = self.store.generation
            self.indexes = load_indexes(data_dir)
            if self.indexes is None:
                raise NotReady(NO_INDEX)
            self.index_generation = self.indexes.meta.get("generation")
            # Indexes behind the store (before the service has caught up): search what they hold.
            indexed = None if self.consistent else set(self.indexes.vectors.ids().tolist())
            self.searcher = Searcher(self.store, self.indexes, embedder, indexed=indexed)
            self.checker = DuplicateChecker(self.store, self.indexes, embedder, indexed=indexed)
        except BaseException:
            self.store.close()
            raise

    def pin(self) -> None:
        """Fix the view from now on (for a view opened unpinned)."""
        if self.pinned:
            return
        self.store.begin_read()
        self.pinned = True
        generation = self.store.generation
        if generation != self.generation:  # only if something wrote without the service's lock
            log.warning("文档库在切换视图时被外部修改（第 %d → %d 版）", self.generation, generation)

    @property
    def consistent(self) -> bool:
        """False when something wrote to the store after the indexes were built (e.g. the CLI
        behind the service's back)."""
        return self.index_generation == self.generation

    def warm(self) -> None:
        """Build what the first requests would otherwise wait for (查重's proposal passage filter)."""
        self.checker.warm()

    def close(self) -> None:
        if self.pinned:
            try:
                self.store.end_read()
            except Exception:  # noqa: BLE001 - closing anyway
                log.debug("COMMIT at close failed", exc_info=True)
        self.store.close()

    def __enter__(self) -> "View":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Library:
    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)

    # -- reading ------------------------------------------------------------------------------
    def open_store(self) -> Store:
        return Store(self.data_dir)

    def index_meta(self) -> dict | None:
        """What the indexes were built with (model, generation…), None before the first sync."""
        return read_index_meta(self.data_dir)

    def has_index(self) -> bool:
        return index_exists(self.data_dir)

    def query_embedder(self):
        """The lowest-latency engine for queries against this library's indexes (the CLI's)."""
        from .embed.engines import query_embedder

        meta = self.index_meta()
        return query_embedder(meta["model_id"] if meta else None)

    def open_view(self, embedder=None, pinned: bool = False) -> View:
        """A read view (see `View`); `embedder` embeds queries and drafts (default: `query_embedder`)."""
        if not self.has_index():  # before loading a model: the first thing to fix
            raise NotReady(NO_INDEX)
        return View(self.data_dir, embedder if embedder is not None else self.query_embedder(), pinned=pinned)

    # -- writing: the store first, then the indexes derived from it ------------------------------
    def ingest(self, paths: Iterable[str | Path] = (), files: list[FileToIngest] | None = None,
               mapping: FieldMapping | None = None, doc_type: str | None = None, *,
               index: bool = True, embedder=None, progress: bool = False, label: str = "上传",
               on_outcome: Callable[[Outcome], None] | None = None,
               on_pages: Callable[[str, int, int], None] | None = None,
               before_sync: Callable[[], None] | None = None,
               on_embed: EmbedProgress | None = None) -> WriteResult:
        """Ingest `paths` (files and folders, each a batch) or `files` (named files, one batch),
        then sync the indexes if anything was stored (or there are none yet) and `index` is set."""
        with self.writing():
            try:
                with self.open_store() as store:
                    if files is not None:
                        report = ingest_files(files, store, mapping, doc_type, progress=progress, label=label,
                                              on_outcome=on_outcome, on_pages=on_pages)
                    else:
                        report = ingest_paths(list(paths), store, mapping, doc_type, progress=progress,
                                              on_outcome=on_outcome)
                    generation = store.generation
            except Exception:
                # What was stored before the failure is indexed, not left in the store unseen.
                if index and self.has_index():
                    self.sync(embedder, progress=progress, on_progress=on_embed)
                raise
            result = WriteResult(ingest=report)
            # Also when nothing was stored but the indexes lag behind the store: a run killed
            # before they caught up is completed by running it again.
            if index and (report.stored or self._index_behind(generation)):
                if before_sync is not None:
                    before_sync()
                result.sync = self.sync(embedder, progress=progress, on_progress=on_embed)
        return result

    def _index_behind(self, generation: int) -> bool:
        """No index yet, or one built at another store generation than `generation`."""
        try:
            meta = self.index_meta()
        except (IndexMismatch, ValueError):  # outdated or unreadable: for `jianyan check --repair` or
            return False                    # `reindex`, which say so, not for an ingest to rebuild
        return meta is None or meta.get("generation") != generation

    def remove(self, ref: str | int, *, embedder=None,
               on_removed: Callable[[dict], None] | None = None) -> WriteResult:
        """Remove one document by id or external id, then drop its passages from the indexes
        (removals embed nothing: `embedder` only has to match the index's model).
        `on_removed(row)` is told once the store has committed, before the indexes follow."""
        with self.writing():
            with self.open_store() as store:
                row = store.remove_document(ref)
            if on_removed is not None:
                on_removed(row)
            result = WriteResult(removed=row)
            if self.has_index():
                result.sync = self.sync(embedder)
        return result

    def sync(self, embedder=None, *, rebuild: bool = False, progress: bool = False,
             on_progress: EmbedProgress | None = None) -> SyncReport:
        """Bring the indexes in step with the store (`index/sync.py`)."""
        with self.writing(), self.open_store() as store:
            return sync_indexes(store, embedder, progress=progress, rebuild=rebuild, on_progress=on_progress)

    def checkpoint(self) -> tuple[int, int, int]:
        """Restart the store's WAL (see `api/snapshot.py` for when this is safe)."""
        with self.writing(), self.open_store() as store:
            return store.checkpoint()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """The folder's write lock (`writelock.py`: one writer across processes, re-entrant
        within one), with storage errors met while it is held raised in words (`storage.py`).
        Every write of this class runs inside it; a new kind of write (restore…) should too."""
        with WriteLock(self.data_dir, purpose="write"), storage_errors(self.data_dir):
            yield
