"""The sandbox processor: the store and every rule put together, plus the two background workers
(async outcomes and webhook delivery). The pieces:

- store.py: schema, config, idempotency records, event outbox, reads
- charges.py, refunds.py: the rules per operation
- webhooks.py: signing and delivery
- settlement.py: settlement lines, the itemized CSV report, its versions and injected faults
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable

from .charges import ChargeRules
from .config import SandboxConfig
from .protocol import ApiError, Reply, Unavailable, error_body
from .refunds import RefundRules
from .settlement import SettlementReports
from .webhooks import WebhookDelivery

__all__ = ["ApiError", "Processor", "Reply", "SandboxConfig", "Unavailable", "error_body"]

logger = logging.getLogger("sandbox")


class Processor(ChargeRules, RefundRules, SettlementReports, WebhookDelivery):
    """All state and every rule. Thread-safe: every database access holds self.lock."""

    def resolve_due(self) -> float | None:
        """Settle the async outcomes that are due; return when the next one is due (or None)."""
        with self.lock, self.conn:
            now = self.clock()
            self._resolve_charges(now)
            self._resolve_refunds(now)
            (next_due,) = self.conn.execute(
                "SELECT MIN(t) FROM (SELECT MIN(resolve_at) AS t FROM charges WHERE status = 'pending'"
                " UNION ALL SELECT MIN(resolve_at) FROM refunds WHERE status = 'pending')"
            ).fetchone()
            return next_due

    def _worker(self, step: Callable[[], float | None], name: str) -> None:
        while not self._stopping.is_set():
            with self.changed:
                generation = self._generation
            try:
                due = step()
            except Exception:
                logger.exception("sandbox %s worker failed; continuing", name)
                due = self.clock() + 1.0
            with self.changed:
                if self._stopping.is_set():
                    return
                if generation != self._generation:
                    continue  # something changed while step() ran: look again before sleeping
                wait = 1.0 if due is None else min(max(due - self.clock(), 0.0), 1.0)
                if wait > 0:
                    self.changed.wait(wait)

    def start(self) -> None:
        for step, name in ((self.resolve_due, "outcomes"), (self.deliver_one, "webhooks")):
            thread = threading.Thread(
                target=self._worker, args=(step, name), name=f"sandbox-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        self._wake()
        for thread in self._threads:
            thread.join(timeout=5)
        with self.lock, contextlib.suppress(sqlite3.Error):
            self.conn.close()
