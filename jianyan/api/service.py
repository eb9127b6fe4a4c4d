"""The service's state: the current snapshot for readers, one writer at a time, the job queue.

Invariants:
- The SQLite store is the record; the indexes are derived and are brought in step with it
  (`sync_indexes`) before a snapshot is built on them, at start and after every write.
- Writes (an upload job, a delete) hold `write_lock`, so the store and the indexes change
  together and in one order. Readers never wait for it: they read the current snapshot.
- The service holds the data folder's file lock (`writelock.py`) from start to stop, so no other
  process (a `jianyan ingest`, a second `jianyan serve`) writes to the folder meanwhile.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

from ..embed.batching import BatchingEmbedder
from ..embed.engines import service_query_embedder
from ..errors import Busy
from ..library import Library
from ..maintenance import SYNC, check, log_repair, repair
from ..writelock import WriteLock
from .admission import Admission
from .jobs import Job, JobManager
from .settings import ServiceSettings
from .snapshot import Snapshot, SnapshotHolder

log = logging.getLogger("jianyan.service")
DELETE_WAIT_SECONDS = 10
DRAIN_SECONDS = 10  # how long a swap waits for the old snapshot's last reader before the checkpoint


class Service:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.library = Library(self.data_dir)
        self.holder = SnapshotHolder()
        self.write_lock = threading.Lock()
        self.embedder = None
        self.bulk_embedder = None  # None: sync_indexes picks the engine by the amount of text
        self.state = "starting"  # starting | ready | failed
        self.stopping = False
        self.error = ""
        self.started = time.time()
        self.requests = 0
        self.jobs = JobManager(self._ingest_job)
        self.catching_up = ""  # why searches do not see every stored document yet (after a restart)
        self.dupes = Admission(settings.dupes_running, settings.dupes_waiting, "查重")
        self.upload_root = self.data_dir / "uploads"
        self.folder_lock = WriteLock(self.data_dir, purpose="serve")  # held from _load to stop

    # -- start ---------------------------------------------------------------------------------
    def start(self, background: bool = True) -> None:
        if background:
            threading.Thread(target=self._load, name="jianyan-load", daemon=True).start()
        else:
            self._load()

    def _load(self) -> None:
        t0 = time.perf_counter()
        try:
            self.folder_lock.acquire()  # before anything is written, even the upload folder
            # Uploads of a job the last process did not finish: their documents were either
            # stored whole or not at all, and the files are not kept.
            if self.upload_root.exists():
                shutil.rmtree(self.upload_root, ignore_errors=True)
            with self.write_lock:
                self.library.open_store().close()  # a new folder gets its empty store (and then its index)
                found = check(self.data_dir)
            indexed = (self.library.index_meta() or {}).get("generation")
            if found.remedies() == {SYNC} and found.summary and (indexed or 0) < found.summary.generation:
                # The indexes lag behind the store (killed before they caught up): serve what they
                # hold at once (a `View` behind its store searches only that), say so, catch up.
                self._start_embedder()
                with self.write_lock:
                    self._swap()
                self.catching_up = (f"正在补齐索引：已索引至文档库第 {indexed} 版，"
                                    f"文档库为第 {found.summary.generation} 版；新近导入的文档补齐后才能检索")
                self.state = "ready"
                log.info("先以现有索引提供检索（%s）", self.catching_up)
            with self.write_lock:
                # The store against its indexes and cache (maintenance.py), repaired before the
                # model is chosen from index.json; an index of another model is left for a person.
                # The check above stands for the repair's own, unless uploads may have been
                # stored since (served early, while catching up).
                checked = None if self.state == "ready" else found
                log_repair(repair(self.data_dir, rebuild_for_model=False, before=checked), log)
            if self.embedder is None:
                self._start_embedder()
            with self.write_lock:
                self._swap()
            self.catching_up = ""
            self.state = "ready"
            log.info("服务就绪：%s，用时 %.1f 秒", self.data_dir, time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001 - reported by /api/health
            self.state, self.error = "failed", getattr(exc, "message", "") or f"{type(exc).__name__}: {exc}"
            self.holder.unavailable = f"服务启动失败：{self.error}（请查看服务日志）"
            log.exception("服务启动失败")

    def _start_embedder(self) -> None:
        meta = self.library.index_meta()
        inner = service_query_embedder(meta["model_id"] if meta else None)
        self.embedder = BatchingEmbedder(inner)
        # Upload jobs embed with the same loaded model when it is the fast bulk engine.
        self.bulk_embedder = inner if inner.engine.startswith("sentence-transformers") else None
        log.info("检索向量模型：%s（%s）", self.embedder.model_id, self.embedder.engine)

    def _swap(self) -> None:
        """Under the write lock: a new snapshot for readers, then a WAL checkpoint, then pin it
        (snapshot.py says why in this order)."""
        snap = Snapshot(self.data_dir, self.embedder, pinned=False)
        try:
            snap.warm()
        except BaseException:
            snap.close()
            raise
        if self.stopping:
            snap.close()
            return
        old = self.holder.swap(snap)
        if old is None or old.closed.wait(DRAIN_SECONDS):
            busy, wal_frames, done = self.library.checkpoint()
            log.debug("WAL checkpoint: busy %s, %s frames, %s copied", busy, wal_frames, done)
        snap.pin()

    QUERIES_QUEUED_BUSY = 16  # queries waiting for the model: searches are being slowed down

    def saturation(self) -> list[str]:
        """Why the service is saturated now (empty: it is not), in Chinese, for /api/health."""
        reasons = [self.catching_up] if self.catching_up else []
        if self.dupes.saturated:
            reasons.append(f"查重已满（{self.dupes.running} 个处理中、{self.dupes.waiting} 个等待），新的查重请求会被拒绝")
        if self.embedder is not None and self.embedder.pending() >= self.QUERIES_QUEUED_BUSY:
            reasons.append(f"有 {self.embedder.pending()} 个检索在等待向量模型")
        if self.jobs.waiting() > 0:
            reasons.append(f"有 {self.jobs.waiting()} 个导入任务在排队")
        return reasons

    def stop(self) -> None:
        self.stopping = True
        self.jobs.stop()
        self.holder.close()
        self.folder_lock.release()

    def store_generation(self) -> int:
        """The store's generation now, read on a connection of its own, outside any snapshot."""
        with self.library.open_store() as store:
            return store.generation

    def consistency(self, snap: Snapshot) -> tuple[bool, int]:
        """(whether what the service serves is the store as it is now, the store's generation):
        the snapshot's index generation against the store's current one, so that a write behind
        the service's back (another program, a restored file) shows. While the service's own write
        is under way its snapshot is behind by design until the swap, and counts as consistent."""
        generation = self.store_generation()
        if snap.index_generation == generation:
            return True, generation
        if self.write_lock.locked():
            return snap.consistent, generation
        current = self.holder.current  # a write of the service's own finished since `snap` was taken
        return current is not None and current.index_generation == generation, generation

    def upload_folder(self) -> Path:
        """Where uploads wait for their job (`<data>/uploads`, emptied at every start)."""
        self.upload_root.mkdir(parents=True, exist_ok=True)
        return self.upload_root

    # -- writes --------------------------------------------------------------------------------
    def _ingest_job(self, job: Job) -> None:
        def embedding() -> None:
            job.phase = "embedding"

        with self.write_lock:
            result = self.library.ingest(files=job.files, mapping=job.mapping, doc_type=job.doc_type,
                                         embedder=self.bulk_embedder, label="上传", on_outcome=job.on_outcome,
                                         on_pages=job.on_pages, before_sync=embedding, on_embed=job.on_embed)
            if result.ingest.stored:
                job.phase = "indexing"
                self._swap()

    def delete_document(self, ref: str | int) -> dict:
        """Delete by id or external id, resolved under the write lock: a job that replaced the
        document meanwhile gave it a new id, and the caller meant the document, not the id."""
        if not self.write_lock.acquire(timeout=DELETE_WAIT_SECONDS):
            raise Busy("正在导入其他文档，请稍后再删除")
        try:
            row = self.library.remove(ref, embedder=self.embedder).removed  # removals: nothing to embed
            self._swap()
        finally:
            self.write_lock.release()
        log.info("已删除文档 %s 《%s》", row["id"], row["title"])
        return row
