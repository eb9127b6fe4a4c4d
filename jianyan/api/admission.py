"""Admission of expensive requests (查重): a few run at once, a few more wait, the rest are
refused at once with 503, so that they can never take every worker thread from searches.

Everything here happens on the event loop. `place()` is taken before any work (even before an
upload is read) and either refuses or reserves a place; `run()` then waits for one of the
running places — without a worker thread, and giving the place up if the client leaves while
it waits — and runs the work in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import contextmanager
from typing import Callable, TypeVar

from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request

from ..errors import BadRequest, Overloaded

log = logging.getLogger("jianyan.http")
T = TypeVar("T")


def client_left(request: Request, doing: str) -> BadRequest:
    """The error for a request whose client disconnected while the service was `doing` something
    for it: not a failure of the service, so one info line and a 4xx no one will read."""
    log.info("客户端已断开连接（%s）：%s %s", doing, request.method, request.url.path)
    return BadRequest(f"客户端在{doing}时断开了连接，请求已放弃")


async def _until_disconnected(request: Request) -> None:
    """Returns when the client disconnects (the request body has been read: nothing else comes)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


class Admission:
    def __init__(self, running: int, waiting: int, what: str) -> None:
        self.running, self.waiting, self.what = running, waiting, what
        self._slots = asyncio.BoundedSemaphore(running)
        self._lock = threading.Lock()  # `saturated` is read from other threads (health)
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
    def place(self):
        """`enter()` … `leave()` around a request."""
        self.enter()
        try:
            yield
        finally:
            self.leave()

    async def run(self, request: Request, work: Callable[[], T]) -> T:
        """Within `place()`: wait for a running place, unless `request`'s client leaves first
        (`client_left`), then `work()` in a worker thread. The running place is held until
        the work is over, even if this request is cancelled meanwhile (the thread goes on)."""
        await self._acquire(request)
        try:
            return await run_in_threadpool(work)
        finally:
            self._slots.release()

    async def _acquire(self, request: Request) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # free: taken at once
            return
        slot = asyncio.ensure_future(self._slots.acquire())
        gone = asyncio.ensure_future(_until_disconnected(request))
        try:
            await asyncio.wait((slot, gone), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # this request cancelled while it waited
            gone.cancel()
            if not slot.cancel():  # too late to cancel: it had been granted
                self._slots.release()
            raise
        gone.cancel()
        if slot.done() and not gone.done():
            return
        if not slot.cancel():  # granted, but the client has left
            self._slots.release()
        raise client_left(request, f"等待{self.what}")
