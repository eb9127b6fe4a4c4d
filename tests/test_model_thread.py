"""The model thread: one thread runs all model work, urgent work first, errors come back."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from jianyan.embed.model_thread import THREAD_NAME, on_model_thread


def test_work_from_many_threads_runs_on_one_thread_and_nested_calls_do_not_wait():
    names = set()

    def work():
        names.add(threading.current_thread().name)
        return on_model_thread(lambda: threading.current_thread().name)  # nested: runs in place

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: on_model_thread(work), range(20)))
    assert names == {THREAD_NAME} and set(results) == {THREAD_NAME}


def test_an_error_reaches_the_caller_and_the_thread_goes_on():
    with pytest.raises(ZeroDivisionError):
        on_model_thread(lambda: 1 / 0)
    assert on_model_thread(lambda: 42) == 42


def test_urgent_work_is_taken_before_work_that_queued_earlier():
    started, release, order = threading.Event(), threading.Event(), []

    def block():
        started.set()
        release.wait(10)

    with ThreadPoolExecutor(3) as pool:
        blocker = pool.submit(on_model_thread, block)
        assert started.wait(10)
        normal = pool.submit(on_model_thread, lambda: order.append("normal"))
        time.sleep(0.2)  # queued behind the blocker
        urgent = pool.submit(on_model_thread, lambda: order.append("urgent"), True)
        time.sleep(0.2)
        release.set()
        for f in (blocker, normal, urgent):
            f.result(10)
    assert order == ["urgent", "normal"]
