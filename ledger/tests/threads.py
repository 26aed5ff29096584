"""Real threads for concurrency tests: released together, each with (and closing) its own connection."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection


def run_in_threads(n: int, work) -> list:
    """Run work(i) for i in range(n) in n threads released by one barrier; results in order."""
    barrier = threading.Barrier(n)

    def worker(i):
        try:
            barrier.wait()
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(worker, range(n)))
