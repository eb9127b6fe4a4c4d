"""Every call into the torch model on one thread, queries first.

PyTorch on Linux runs its operators on GNU OpenMP, which gives each thread that starts a
parallel region its own team of worker threads. Once a second thread has run the model (a 查重
draft on a request thread, an upload on the job thread, queries on the batching thread), the
process holds two teams on two cores, and a query's embedding took 39–47 ms instead of 22–28
for the rest of the process's life (measured in one process, 45 dev queries, sentence-transformers
bf16 on this 2-core machine; `benchmarks/model_thread.py`: 19–23 ms against 30–36). So the
model has one thread: callers hand it work and wait. Work is taken queries first (`urgent`),
then in arrival order; callers split long work into batches so that a query waits for at most
one batch.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from concurrent.futures import Future
from typing import Callable, TypeVar

T = TypeVar("T")
THREAD_NAME = "jianyan-model"
URGENT, NORMAL = 0, 1
_lock = threading.Lock()
_work: queue.PriorityQueue | None = None
_order = itertools.count()


def on_model_thread(work: Callable[[], T], urgent: bool = False) -> T:
    """`work()` run on the model thread; its result or its exception, here."""
    if threading.current_thread().name == THREAD_NAME:  # already there (nested calls)
        return work()
    done: Future = Future()
    _queue().put((URGENT if urgent else NORMAL, next(_order), work, done))
    return done.result()


def _queue() -> queue.PriorityQueue:
    global _work
    with _lock:
        if _work is None:
            _work = queue.PriorityQueue()
            threading.Thread(target=_serve, args=(_work,), name=THREAD_NAME, daemon=True).start()
        return _work


def _serve(work_queue: queue.PriorityQueue) -> None:
    while True:
        _, _, work, done = work_queue.get()
        try:
            done.set_result(work())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller that waits for it
            done.set_exception(exc)


def _after_fork_in_child() -> None:
    """A forked child has none of the parent's threads: it starts its own model thread."""
    global _work, _lock
    _work, _lock = None, threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
