"""Test helpers shared by every app's tests: real threads released together, and polling.

Imported only by tests (it needs pytest); nothing here times an assertion: wait_until fails a
test only when what it waits for never happens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from django.db import connection

T = TypeVar("T")


def run_in_threads(n: int, work: Callable[[int], T]) -> list[T]:
    """Run work(i) for i in range(n) in n threads released by one barrier; results in order.

    Each thread has its own database connection, closed when its work is done.
    """
    barrier = threading.Barrier(n)

    def worker(i: int) -> T:
        try:
            barrier.wait()
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(worker, range(n)))


def wait_until(
    predicate: Callable[[], Any], *, timeout: float = 5.0, interval: float = 0.02, what: str = ""
) -> Any:
    """Poll predicate until it returns something truthy and return that; fail the test after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)
