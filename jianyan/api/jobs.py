"""Background ingest jobs: one worker thread, one job at a time, progress readable at any moment.

Jobs live in memory (the last `KEEP` of them). What a job ingests lands in the store of record;
a job that is lost with the process is simply uploaded again (re-ingest is idempotent).
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..ingest.pipeline import FileToIngest, Outcome

log = logging.getLogger("jianyan.jobs")
KEEP = 200
# Outcomes a job lists one by one: this many problems (failed, skipped) and this many of the rest,
# so that neither a flood of bad rows nor of good ones hides the other; beyond them only counted.
DETAIL = 1000
PROBLEMS = ("failed", "skipped")

PHASES = {"queued": "排队中", "reading": "读取与切分", "embedding": "向量化", "indexing": "更新索引",
          "done": "完成", "failed": "失败"}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Job:
    files: list[FileToIngest]
    folder: Path  # where the uploads were saved; removed when the job ends
    mapping: object = None  # FieldMapping | None
    doc_type: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: str = "queued"  # queued | running | done | failed
    phase: str = "queued"
    outcomes: list[Outcome] = field(default_factory=list)  # listed in detail (see `DETAIL`)
    counts: dict[str, int] = field(default_factory=dict)  # every outcome, by status
    omitted: int = 0  # outcomes counted but not listed
    embed_done: int = 0
    embed_total: int = 0
    recognising: dict = field(default_factory=dict)  # a scan being recognised: file, pages done, pages
    error: str = ""
    created_at: str = field(default_factory=_now)
    finished_at: str = ""
    seconds: float = 0.0

    def on_outcome(self, outcome: Outcome) -> None:
        self.counts[outcome.status] = self.counts.get(outcome.status, 0) + 1
        problem = outcome.status in PROBLEMS
        # This outcome's place among those of its kind: the first DETAIL of each kind are listed.
        place = sum(n for status, n in self.counts.items() if (status in PROBLEMS) == problem)
        if place <= DETAIL:
            self.outcomes.append(outcome)
        else:
            self.omitted += 1

    def on_pages(self, name: str, done: int, total: int) -> None:
        self.recognising = {"file": name, "done_pages": done, "total_pages": total}

    def on_embed(self, done: int, total: int) -> None:
        self.embed_done, self.embed_total = done, total

    def to_dict(self) -> dict:
        return {
            "id": self.id, "status": self.status, "phase": self.phase, "phase_name": PHASES[self.phase],
            "files": [f.name for f in self.files], "counts": dict(self.counts),
            "outcomes": [{"source": o.source, "status": o.status, "message": o.message, "code": o.code,
                          "external_id": o.external_id} for o in list(self.outcomes)],
            "outcomes_truncated": self.omitted > 0, "outcomes_omitted": self.omitted,
            "embedding": {"done_chars": self.embed_done, "total_chars": self.embed_total},
            "recognising": dict(self.recognising),  # {} unless a scan was recognised
            "error": self.error, "created_at": self.created_at, "finished_at": self.finished_at,
            "seconds": round(self.seconds, 2),
        }


class JobManager:
    def __init__(self, run: Callable[[Job], None]) -> None:
        self._run = run
        self._jobs: dict[str, Job] = {}
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._worker, name="jianyan-jobs", daemon=True)
        self._thread.start()

    def submit(self, job: Job) -> Job:
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest].status in ("queued", "running"):
                    break
                del self._jobs[oldest]
        self._queue.put(job)
        log.info("任务 %s 已排队：%d 个文件", job.id, len(job.files))
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def waiting(self) -> int:
        return sum(1 for j in list(self._jobs.values()) if j.status == "queued")

    def active(self) -> int:
        return sum(1 for j in list(self._jobs.values()) if j.status in ("queued", "running"))

    def stop(self, wait: float = 30.0) -> None:
        """Let the running job finish (its documents are stored whole either way), then stop."""
        self._queue.put(None)
        self._thread.join(wait)

    def _worker(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            started = time.perf_counter()
            job.status, job.phase = "running", "reading"
            try:
                self._run(job)
                job.status, job.phase = "done", "done"
            except Exception as exc:  # noqa: BLE001 - a job fails alone; the service goes on
                job.status, job.phase = "failed", "failed"
                job.error = getattr(exc, "message", "") or f"导入任务出错（{type(exc).__name__}: {exc}）"
                log.exception("任务 %s 失败", job.id)
            finally:
                job.seconds = time.perf_counter() - started
                job.finished_at = _now()
                shutil.rmtree(job.folder, ignore_errors=True)
            log.info("任务 %s %s：%s，用时 %.1f 秒", job.id, PHASES[job.phase],
                     "，".join(f"{k} {v}" for k, v in dict(job.counts).items()) or "无文件", job.seconds)
