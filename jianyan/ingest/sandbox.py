"""Read a file in a child process it cannot escape: wall time, address space, and the readers'
own counters (`limits.py`). A parser stuck in a hostile file is killed; one that runs out of
memory fails alone; the service's memory and threads are never shared with it.

Children are forked from a `forkserver` that imported the readers once (a clean, small process:
no model, no threads), so each read costs a fork, not an interpreter start.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from .. import errors
from ..documents import SourceDocument
from .limits import ReadLimits
from .readers import FieldMapping, RecordProblem, read_file

log = logging.getLogger("jianyan.ingest")
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["jianyan.ingest.readers"])
ReadResult = tuple[list[SourceDocument], list[RecordProblem]]
Progress = Callable[[int, int], None]  # (pages recognised, pages to recognise)


def read_limited(path: Path, external_id: str, mapping: FieldMapping | None = None,
                 name: str | None = None, limits: ReadLimits | None = None,
                 on_progress: Progress | None = None) -> ReadResult:
    """`read_file` under `limits` (default: the settings), in a child process. A reader that
    recognises scanned pages reports each (`on_progress(done, total)`), and each page recognised
    adds `limits.ocr_page_seconds` to the time allowed."""
    limits = limits or ReadLimits.from_env()
    shown = name or str(path)
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    # The child's temporary files (a LibreOffice conversion: a copy of the file) go in a folder
    # the parent removes, even when it has to kill the child.
    scratch = tempfile.mkdtemp(prefix="jianyan-read-")
    child = _CONTEXT.Process(target=_child, args=(sender, path, external_id, mapping, name, limits, scratch),
                             name="jianyan-reader", daemon=True)
    t0 = time.monotonic()
    child.start()
    sender.close()
    try:
        deadline = t0 + limits.seconds
        while True:
            if not receiver.poll(max(0.0, deadline - time.monotonic())):
                raise limits.exceeded("seconds", path=shown)
            kind, payload = receiver.recv()
            if kind != "progress":
                break
            deadline += limits.ocr_page_seconds
            if on_progress is not None:
                on_progress(*payload)
    except EOFError:  # the child died without a word: killed by the kernel or a crashed parser
        child.join(5)
        raise limits.exceeded("memory_mb", f"读取进程异常退出，退出码 {child.exitcode}", path=shown) from None
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receiver.close()
        shutil.rmtree(scratch, ignore_errors=True)
    log.debug("read %s in %.2f s", shown, time.monotonic() - t0)
    if kind == "ok":
        return payload
    cls, message, limit = payload
    error_class = getattr(errors, cls)
    raise (error_class(message, limit=limit, path=shown) if limit else error_class(message, path=shown))


def _child(sender, path, external_id, mapping, name, limits: ReadLimits, scratch: str) -> None:
    tempfile.tempdir = scratch
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(limits.seconds) + 1  # a second guard, should the parent be gone
    most = cpu + int(limits.ocr_page_seconds * limits.ocr_pages) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, most))

    def progress(done: int, total: int) -> None:  # a page recognised: tell the parent, and allow it its time
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (min(hard, soft + int(limits.ocr_page_seconds) + 1), hard))
        sender.send(("progress", (done, total)))

    try:
        result = ("ok", read_file(path, external_id, mapping, name, limits, progress))
    except errors.JianyanError as exc:
        result = ("error", (type(exc).__name__, exc.message, getattr(exc, "limit", "")))
    except MemoryError:
        result = ("error", ("LimitExceeded", limits.exceeded("memory_mb").message, "memory_mb"))
    except RecursionError:
        result = ("error", ("LimitExceeded", limits.exceeded("depth").message, "depth"))
    except Exception as exc:  # noqa: BLE001 - a parser's own failure on a damaged file
        result = ("error", ("CorruptFile", f"文件已损坏或格式异常，无法读取（{type(exc).__name__}）", ""))
    try:
        try:
            sender.send(result)
        except MemoryError:
            sender.send(("error", ("LimitExceeded", limits.exceeded("memory_mb").message, "memory_mb")))
    except (BrokenPipeError, ConnectionResetError):
        return  # the parent is gone (killed mid-read): no one to tell, and no traceback on its terminal
    sender.close()
