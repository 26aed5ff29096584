"""The sandbox processor's store: the Store base class (one connection behind one lock, run-time config,
idempotency records, the JSON shapes, the event outbox and the reads). Its wire types are in protocol.py,
its schema in schema.py; the rules live in charges.py, refunds.py, settlement.py and webhooks.py;
processor.py puts them together.

A state change and the event announcing it are written in the same transaction, so an event is never
lost nor sent for a change that did not happen; a restart resumes pending deliveries and outcomes.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from .config import SandboxConfig
from .protocol import LOST_EVENT_TYPES, ApiError, Reply, Unavailable, error_body, new_id, utc_day
from .schema import _ADDED_COLUMNS, SCHEMA, TABLES

logger = logging.getLogger("sandbox")


class Store:
    """The state and the plumbing every rule needs. Thread-safe: every database access holds self.lock."""

    def __init__(
        self, db_path: str, *, name: str, config: SandboxConfig, clock: Callable[[], float] = time.time
    ):
        self.name = name
        self.clock = clock
        self.initial_config = config
        self.config = config
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)  # wakes the workers on new work
        self._generation = 0  # bumped with every wake-up, so one between a check and a wait is not lost
        self._rng = random.Random(config.seed)  # noqa: S311  (failure injection, not security)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.conn = sqlite3.connect(db_path, check_same_thread=False, timeout=30)
        self.conn.row_factory = sqlite3.Row
        with self.lock:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(SCHEMA)
            for table, column, ddl in _ADDED_COLUMNS:
                present = {r["name"] for r in self.conn.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")
        self._lost_webhooks = config.lost_webhooks  # charge successes whose webhook is still to be lost

    # --- run-time configuration ------------------------------------------------------------------

    def configure(self, changes: dict[str, Any]) -> SandboxConfig:
        with self.lock:
            config = self.config.updated(changes)  # ValueError on bad input, nothing changed
            if "seed" in changes:
                self._rng.seed(config.seed)
            if "lost_webhooks" in changes:
                self._lost_webhooks = config.lost_webhooks
            self.config = config
            self._wake()
            return config

    def should_fail(self) -> bool:
        with self.lock:
            return self.config.failure_rate > 0 and self._rng.random() < self.config.failure_rate

    def reset(self) -> None:
        """Forget everything and return to the launch configuration."""
        with self.lock, self.conn:
            for table in TABLES:
                self.conn.execute(f"DELETE FROM {table}")  # noqa: S608  (fixed table names)
            self.config = self.initial_config
            self._rng.seed(self.config.seed)
            self._lost_webhooks = self.config.lost_webhooks

    # --- idempotency -----------------------------------------------------------------------------

    def idempotent(self, key: str, fingerprint: str, operation: Callable[[int], Reply]) -> Reply:
        """Run operation once per key: a repeat answers the remembered reply, a different request under
        the same key is refused. operation gets the number of 503s already answered for this key."""
        with self.lock:
            row = self.conn.execute("SELECT * FROM idempotency WHERE key = ?", (key,)).fetchone()
            if row is not None and row["fingerprint"] != fingerprint:
                return Reply(
                    409,
                    error_body(
                        "idempotency_key_reused",
                        "This Idempotency-Key was already used with a different request.",
                    ),
                )
            if row is not None and row["status"] is not None:
                return Reply(row["status"], json.loads(row["body"]), replayed=True)
            failures = row["failures"] if row is not None else 0
            try:
                with self.conn:
                    reply = operation(failures)
                    self._remember(key, fingerprint, reply, failures)
                return reply
            except Unavailable as exc:
                with self.conn:
                    self.conn.execute(
                        "INSERT INTO idempotency (key, fingerprint, failures, created) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (key) DO UPDATE SET failures = excluded.failures",
                        (key, fingerprint, failures + 1, self.clock()),
                    )
                return Reply(503, error_body("service_unavailable", str(exc)))
            except ApiError as exc:
                reply = exc.reply()
                with self.conn:
                    self._remember(key, fingerprint, reply, failures)
                return reply

    def _remember(self, key: str, fingerprint: str, reply: Reply, failures: int) -> None:
        self.conn.execute(
            "INSERT INTO idempotency (key, fingerprint, status, body, failures, created) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET status = excluded.status, body = excluded.body",
            (key, fingerprint, reply.status, json.dumps(reply.body), failures, self.clock()),
        )

    # --- JSON shapes -----------------------------------------------------------------------------

    @staticmethod
    def charge_json(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "object": "charge",
            "status": row["status"],
            "amount": row["amount"],
            "amount_captured": row["amount_captured"],
            "amount_refunded": row["amount_refunded"],
            "currency": row["currency"],
            "payment_method": row["payment_method"],
            "capture": bool(row["capture"]),
            "reference": row["reference"],
            "metadata": json.loads(row["metadata"]),
            "idempotency_key": row["idempotency_key"],
            "failure_code": row["failure_code"],
            "failure_message": row["failure_message"],
            "created": row["created"],
        }

    @staticmethod
    def refund_json(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "object": "refund",
            "charge": row["charge_id"],
            "amount": row["amount"],
            "currency": row["currency"],
            "status": row["status"],
            "failure_code": row["failure_code"],
            "failure_message": row["failure_message"],
            "created": row["created"],
            "reference": row["reference"],
        }

    # --- writes (called inside idempotent(): lock held, transaction open) ------------------------

    def _charge_row(self, charge_id: str) -> sqlite3.Row:
        row = self.conn.execute("SELECT * FROM charges WHERE id = ?", (charge_id,)).fetchone()
        if row is None:
            raise ApiError(404, "charge_not_found", f"No charge {charge_id!r}.")
        return row

    def _emit(self, event_type: str, obj: dict[str, Any], now: float) -> None:
        event_id = new_id("evt")
        body = {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(now),
            "data": {"object": obj},
        }
        state = "pending" if self.config.webhook_url else "skipped"
        if event_type in LOST_EVENT_TYPES and self._lost_webhooks > 0:
            # Fault injection: the charge succeeded here, but its announcement never leaves.
            self._lost_webhooks -= 1
            state = "suppressed"
            logger.warning("sandbox: webhook %s %s suppressed (lost_webhooks)", event_id, event_type)
        self.conn.execute(
            "INSERT INTO events (id, type, created, body, state, next_attempt) VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, event_type, int(now), json.dumps(body).encode(), state, now),
        )
        self._wake()

    # --- reads -----------------------------------------------------------------------------------

    def _settle(
        self, kind: str, charge: sqlite3.Row, refund: sqlite3.Row | None, amount: int, fee: int, now: float
    ) -> None:
        """Record one money movement for the settlement report of its UTC day (see settlement.py)."""
        reference = refund["reference"] if refund is not None else charge["reference"]
        self.conn.execute(
            "INSERT INTO settlement_lines (line_id, day, type, charge_id, refund_id, reference, amount, fee,"
            " currency, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new_id("sl"),
                utc_day(now),
                kind,
                charge["id"],
                refund["id"] if refund is not None else None,
                reference,
                amount,
                fee,
                charge["currency"],
                int(now),
            ),
        )

    # --- reads -----------------------------------------------------------------------------------

    def get_charge(self, charge_id: str) -> dict[str, Any]:
        with self.lock:
            return self.charge_json(self._charge_row(charge_id))

    def list_charges(self, *, idempotency_key: str | None = None, reference: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM charges WHERE 1 = 1", list[object]()
        if idempotency_key is not None:
            sql, args = sql + " AND idempotency_key = ?", [*args, idempotency_key]
        if reference is not None:
            sql, args = sql + " AND reference = ?", [*args, reference]
        with self.lock:
            return [self.charge_json(r) for r in self.conn.execute(sql + " ORDER BY rowid", args)]

    def get_refund(self, refund_id: str) -> dict[str, Any]:
        with self.lock:
            row = self.conn.execute("SELECT * FROM refunds WHERE id = ?", (refund_id,)).fetchone()
        if row is None:
            raise ApiError(404, "refund_not_found", f"No refund {refund_id!r}.")
        return self.refund_json(row)

    def list_refunds(self, *, charge_id: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM refunds", []
        if charge_id is not None:
            sql, args = sql + " WHERE charge_id = ?", [charge_id]
        with self.lock:
            return [self.refund_json(r) for r in self.conn.execute(sql + " ORDER BY rowid", args)]

    def list_events(self) -> list[dict]:
        with self.lock:
            rows = self.conn.execute("SELECT * FROM events ORDER BY seq").fetchall()
        return [
            {
                "id": r["id"],
                "type": r["type"],
                "created": r["created"],
                "state": r["state"],
                "attempts": r["attempts"],
                "last_status": r["last_status"],
                "last_error": r["last_error"],
                "data": json.loads(r["body"])["data"],
            }
            for r in rows
        ]

    def redeliver(self, event_id: str) -> None:
        """Send an event again (same id, same body), as a provider does after an endpoint outage."""
        with self.lock, self.conn:
            updated = self.conn.execute(
                "UPDATE events SET state = 'pending', attempts = 0, next_attempt = ? WHERE id = ?",
                (self.clock(), event_id),
            ).rowcount
            if not updated:
                raise ApiError(404, "event_not_found", f"No event {event_id!r}.")
            self._wake()

    def _wake(self) -> None:
        with self.changed:
            self._generation += 1
            self.changed.notify_all()
