"""Admission of expensive requests (查重): a few run at once, a few more wait, the rest are
refused at once with 503, so that they can never take every worker thread from searches.

`enter()` is called on the event loop before any work (even before an upload is read) and
either refuses or reserves a place; the place is then used in a worker thread (`slot()`).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from ..errors import Overloaded


class Admission:
    def __init__(self, running: int, waiting: int, what: str) -> None:
        self.running, self.waiting, self.what = running, waiting, what
        self._slots = threading.BoundedSemaphore(running)
        self._lock = threading.Lock()
        self.admitted = 0  # running or waiting now
        self.refused = 0  # since start

    @property
    def saturated(self) -> bool:
        return self.admitted >= self.running + self.waiting

    def enter(self) -> "Admission":
        with self._lock:
            if self.admitted >= self.running + self.waiting:
                self.refused += 1
                raise Overloaded(f"{self.what}请求过多（{self.running} 个正在处理、{self.waiting} 个在等待），"
                                 "请稍后再试")
            self.admitted += 1
        return self

    def leave(self) -> None:
        with self._lock:
            self.admitted -= 1

    @contextmanager
    def slot(self):
        """In a worker thread, after `enter()`: wait for one of the running places."""
        with self._slots:
            yield

    @contextmanager
    def place(self):
        """`enter()` … `leave()` around a request."""
        self.enter()
        try:
            yield
        finally:
            self.leave()
