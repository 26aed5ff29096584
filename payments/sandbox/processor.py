"""The sandbox processor's state and rules: charges, refunds, idempotency records, settlement lines and
the webhook outbox, in one SQLite file behind one lock, plus the two background workers (async outcomes
and webhook delivery).

A state change and the event announcing it are written in the same transaction, so an event is never
lost nor sent for a change that did not happen; a restart resumes pending deliveries and outcomes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import random
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from . import webhooks

logger = logging.getLogger("payments.sandbox")

PM_SUCCEED = "pm_card_visa"
PM_ASYNC = "pm_card_async"
PM_FLAKY = "pm_card_flaky"
PM_TIMEOUT = "pm_card_timeout"
PM_REFUND_FAIL = "pm_card_refund_fail"
DECLINES = {
    "pm_card_declined": ("card_declined", "Your card was declined."),
    "pm_card_insufficient_funds": ("insufficient_funds", "Your card has insufficient funds."),
}
PAYMENT_METHODS = frozenset({PM_SUCCEED, PM_ASYNC, PM_FLAKY, PM_TIMEOUT, PM_REFUND_FAIL, *DECLINES})

MAX_AMOUNT = 10**15  # far above any real charge, far below SQLite's int64 limit

SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    capture INTEGER NOT NULL,
    reference TEXT NOT NULL,
    metadata TEXT NOT NULL,
    status TEXT NOT NULL,
    amount_captured INTEGER NOT NULL DEFAULT 0,
    amount_refunded INTEGER NOT NULL DEFAULT 0,
    failure_code TEXT,
    failure_message TEXT,
    created INTEGER NOT NULL,
    resolve_at REAL
);
CREATE INDEX IF NOT EXISTS charges_reference ON charges (reference);
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY,
    charge_id TEXT NOT NULL REFERENCES charges (id),
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_code TEXT,
    failure_message TEXT,
    created INTEGER NOT NULL,
    resolve_at REAL
);
CREATE INDEX IF NOT EXISTS refunds_charge ON refunds (charge_id);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER,
    body TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settlement_lines (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,
    type TEXT NOT NULL,
    charge_id TEXT NOT NULL,
    refund_id TEXT,
    amount INTEGER NOT NULL,
    fee INTEGER NOT NULL,
    currency TEXT NOT NULL,
    occurred_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS settlement_lines_day ON settlement_lines (day);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    created INTEGER NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL,
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS events_due ON events (state, next_attempt);
"""


class ApiError(Exception):
    """A refusal the client caused; remembered under the idempotency key like a success."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def reply(self) -> Reply:
        return Reply(self.status, error_body(self.code, self.message))


class Unavailable(Exception):
    """A 503 that did nothing; not remembered, so a retry with the same key runs again."""


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    delay: float = 0.0  # seconds to hold the answer back (pm_card_timeout); never replayed
    replayed: bool = False


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Knobs settable at run time: name -> (validator, description of what is accepted).
_KNOBS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "latency_ms": (lambda v: _integer(v) and v >= 0, "an integer >= 0"),
    "failure_rate": (lambda v: _number(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "seed": (lambda v: v is None or _integer(v), "an integer or null"),
    "async_delay": (lambda v: _number(v) and v >= 0, "a number of seconds >= 0"),
    "timeout_delay": (lambda v: _number(v) and v >= 0, "a number of seconds >= 0"),
    "flaky_failures": (lambda v: _integer(v) and v >= 0, "an integer >= 0"),
    "fee_bps": (lambda v: _integer(v) and 0 <= v <= 10_000, "an integer in [0, 10000]"),
    "fee_fixed": (lambda v: _integer(v) and v >= 0, "an integer >= 0"),
    "webhook_url": (
        lambda v: v is None or (isinstance(v, str) and v.startswith(("http://", "https://"))),
        "an http(s) URL or null",
    ),
    "webhook_secrets": (
        lambda v: isinstance(v, list | tuple) and all(isinstance(s, str) and s for s in v),
        "a list of non-empty strings",
    ),
    "webhook_max_attempts": (lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    "webhook_retry_base": (lambda v: _number(v) and v >= 0, "a number of seconds >= 0"),
    "webhook_timeout": (lambda v: _number(v) and v > 0, "a number of seconds > 0"),
}


@dataclass(frozen=True)
class SandboxConfig:
    latency_ms: int = 0
    failure_rate: float = 0.0
    seed: int | None = None
    async_delay: float = 0.5
    timeout_delay: float = 5.0
    flaky_failures: int = 2
    fee_bps: int = 290
    fee_fixed: int = 30
    webhook_url: str | None = None
    webhook_secrets: tuple[str, ...] = field(default_factory=tuple)
    webhook_max_attempts: int = 6
    webhook_retry_base: float = 0.5
    webhook_timeout: float = 5.0

    def __post_init__(self) -> None:
        for name, (valid, accepted) in _KNOBS.items():
            if not valid(getattr(self, name)):
                raise ValueError(f"{name} must be {accepted}")
        object.__setattr__(self, "webhook_secrets", tuple(self.webhook_secrets))

    def updated(self, changes: dict[str, Any]) -> SandboxConfig:
        changes = dict(changes)
        if "webhook_secret" in changes:  # the singular form, as on the command line
            secret = changes.pop("webhook_secret")
            changes["webhook_secrets"] = [secret] if isinstance(secret, str) else secret
        unknown = set(changes) - set(_KNOBS)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def public(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["webhook_secrets"] = [f"{s[:6]}..." for s in self.webhook_secrets]
        return data

    def fee(self, amount: int) -> int:
        # Integer basis points, rounded half up: money never goes through a float.
        return self.fee_fixed + (amount * self.fee_bps + 5_000) // 10_000


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def utc_day(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).date().isoformat()


# --- request-body validation -----------------------------------------------------------------------


def _unknown_fields(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(body) - allowed
    if unknown:
        raise ApiError(400, "parameter_unknown", f"Unknown parameters: {', '.join(sorted(unknown))}.")


def _amount(body: dict[str, Any], name: str, *, required: bool) -> int | None:
    if body.get(name) is None:
        if required:
            raise ApiError(400, "parameter_missing", f"{name} is required.")
        return None
    value = body[name]
    if not _integer(value) or not 0 < value <= MAX_AMOUNT:
        raise ApiError(400, "parameter_invalid", f"{name} must be a positive integer of minor units.")
    return value


def _string(body: dict[str, Any], name: str, *, required: bool, default: str = "") -> str:
    value = body.get(name)
    if value is None:
        if required:
            raise ApiError(400, "parameter_missing", f"{name} is required.")
        return default
    if not isinstance(value, str) or (required and not value):
        raise ApiError(400, "parameter_invalid", f"{name} must be a string.")
    return value


class Processor:
    """All state and every rule. Thread-safe: every database access holds self.lock."""

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

    # --- run-time configuration ------------------------------------------------------------------

    def configure(self, changes: dict[str, Any]) -> SandboxConfig:
        with self.lock:
            config = self.config.updated(changes)  # ValueError on bad input, nothing changed
            if "seed" in changes:
                self._rng.seed(config.seed)
            self.config = config
            self._wake()
            return config

    def should_fail(self) -> bool:
        with self.lock:
            return self.config.failure_rate > 0 and self._rng.random() < self.config.failure_rate

    def reset(self) -> None:
        """Forget everything and return to the launch configuration."""
        with self.lock, self.conn:
            for table in ("refunds", "charges", "idempotency", "settlement_lines", "events"):
                self.conn.execute(f"DELETE FROM {table}")  # noqa: S608  (fixed table names)
            self.config = self.initial_config
            self._rng.seed(self.config.seed)

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
        self.conn.execute(
            "INSERT INTO events (id, type, created, body, state, next_attempt) VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, event_type, int(now), json.dumps(body).encode(), state, now),
        )
        self._wake()

    def _settle(
        self, kind: str, charge: sqlite3.Row, refund_id: str | None, amount: int, fee: int, now: float
    ) -> None:
        self.conn.execute(
            "INSERT INTO settlement_lines (day, type, charge_id, refund_id, amount, fee, currency, occurred_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (utc_day(now), kind, charge["id"], refund_id, amount, fee, charge["currency"], int(now)),
        )

    def create_charge(self, body: dict[str, Any], key: str, failures: int) -> Reply:
        _unknown_fields(body, {"amount", "currency", "payment_method", "capture", "reference", "metadata"})
        amount = _amount(body, "amount", required=True)
        currency = _string(body, "currency", required=True)
        if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
            raise ApiError(400, "parameter_invalid", "currency must be an ISO 4217 code.")
        currency = currency.upper()
        payment_method = _string(body, "payment_method", required=True)
        capture = body.get("capture", True)
        if not isinstance(capture, bool):
            raise ApiError(400, "parameter_invalid", "capture must be a boolean.")
        reference = _string(body, "reference", required=False)
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise ApiError(400, "parameter_invalid", "metadata must be an object of strings.")
        if payment_method not in PAYMENT_METHODS:
            raise ApiError(400, "invalid_payment_method", f"Unknown payment method {payment_method!r}.")
        config = self.config
        if payment_method == PM_FLAKY and failures < config.flaky_failures:
            raise Unavailable(f"The card network is unavailable (attempt {failures + 1}), try again.")

        now = self.clock()
        charge = {
            "id": new_id("ch"),
            "idempotency_key": key,
            "amount": amount,
            "currency": currency,
            "payment_method": payment_method,
            "capture": int(capture),
            "reference": reference,
            "metadata": json.dumps(metadata, sort_keys=True),
            "status": "succeeded",
            "amount_captured": 0,
            "amount_refunded": 0,
            "failure_code": None,
            "failure_message": None,
            "created": int(now),
            "resolve_at": None,
        }
        if payment_method in DECLINES:
            charge["status"] = "failed"
            charge["failure_code"], charge["failure_message"] = DECLINES[payment_method]
        elif payment_method == PM_ASYNC:
            charge["status"] = "pending"
            charge["resolve_at"] = now + config.async_delay
        elif capture:
            charge["amount_captured"] = amount
        else:
            charge["status"] = "requires_capture"
        columns = ", ".join(charge)
        self.conn.execute(
            f"INSERT INTO charges ({columns}) VALUES ({', '.join('?' * len(charge))})",  # noqa: S608
            tuple(charge.values()),
        )
        row = self._charge_row(charge["id"])
        if row["status"] == "succeeded":
            self._settle("capture", row, None, amount, config.fee(amount), now)
        event_type = {
            "failed": "charge.failed",
            "succeeded": "charge.succeeded",
            "requires_capture": "charge.authorized",
        }.get(row["status"])
        if event_type:
            self._emit(event_type, self.charge_json(row), now)
        if row["status"] == "pending":
            self._wake()
        delay = config.timeout_delay if payment_method == PM_TIMEOUT else 0.0
        return Reply(200, self.charge_json(row), delay=delay)

    def capture_charge(self, charge_id: str, body: dict[str, Any]) -> Reply:
        _unknown_fields(body, {"amount"})
        row = self._charge_row(charge_id)
        if row["status"] != "requires_capture":
            raise ApiError(
                400, "charge_not_capturable", f"The charge is {row['status']}, not requires_capture."
            )
        amount = _amount(body, "amount", required=False) or row["amount"]
        if amount > row["amount"]:
            raise ApiError(
                400, "amount_too_large", f"Cannot capture {amount}: only {row['amount']} is authorized."
            )
        now = self.clock()
        self.conn.execute(
            "UPDATE charges SET status = 'succeeded', amount_captured = ? WHERE id = ?", (amount, charge_id)
        )
        row = self._charge_row(charge_id)
        self._settle("capture", row, None, amount, self.config.fee(amount), now)
        self._emit("charge.captured", self.charge_json(row), now)
        return Reply(200, self.charge_json(row))

    def cancel_charge(self, charge_id: str, body: dict[str, Any]) -> Reply:
        _unknown_fields(body, set())
        row = self._charge_row(charge_id)
        if row["status"] != "requires_capture":
            raise ApiError(
                400, "charge_not_cancelable", f"The charge is {row['status']}, not requires_capture."
            )
        self.conn.execute("UPDATE charges SET status = 'canceled' WHERE id = ?", (charge_id,))
        row = self._charge_row(charge_id)
        self._emit("charge.canceled", self.charge_json(row), self.clock())
        return Reply(200, self.charge_json(row))

    def create_refund(self, body: dict[str, Any]) -> Reply:
        _unknown_fields(body, {"charge", "amount"})
        charge = self._charge_row(_string(body, "charge", required=True))
        if charge["status"] != "succeeded":
            raise ApiError(
                400,
                "charge_not_refundable",
                f"The charge is {charge['status']}; only succeeded charges are refundable.",
            )
        (pending,) = self.conn.execute(
            "SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE charge_id = ? AND status = 'pending'",
            (charge["id"],),
        ).fetchone()
        available = charge["amount_captured"] - charge["amount_refunded"] - pending
        amount = _amount(body, "amount", required=False) or available
        if amount > available or amount <= 0:
            raise ApiError(
                400, "amount_too_large", f"Cannot refund {amount}: {max(available, 0)} is refundable."
            )
        now = self.clock()
        refund = {
            "id": new_id("re"),
            "charge_id": charge["id"],
            "amount": amount,
            "currency": charge["currency"],
            "status": "succeeded",
            "failure_code": None,
            "failure_message": None,
            "created": int(now),
            "resolve_at": None,
        }
        if charge["payment_method"] == PM_REFUND_FAIL:
            # Accepted now, refused by the card network later: the amount stays reserved meanwhile.
            refund["status"] = "pending"
            refund["resolve_at"] = now + self.config.async_delay
        else:
            self.conn.execute(
                "UPDATE charges SET amount_refunded = amount_refunded + ? WHERE id = ?",
                (amount, charge["id"]),
            )
        self.conn.execute(
            f"INSERT INTO refunds ({', '.join(refund)}) VALUES ({', '.join('?' * len(refund))})",  # noqa: S608
            tuple(refund.values()),
        )
        row = self.conn.execute("SELECT * FROM refunds WHERE id = ?", (refund["id"],)).fetchone()
        if row["status"] == "succeeded":
            self._settle("refund", charge, row["id"], amount, 0, now)
            self._emit("refund.succeeded", self.refund_json(row), now)
        else:
            self._wake()
        return Reply(200, self.refund_json(row))

    # --- reads -----------------------------------------------------------------------------------

    def get_charge(self, charge_id: str) -> dict[str, Any]:
        with self.lock:
            return self.charge_json(self._charge_row(charge_id))

    def list_charges(self, *, idempotency_key: str | None = None, reference: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM charges WHERE 1 = 1", []
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

    def settlement(self, day: date) -> list[dict]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT * FROM settlement_lines WHERE day = ? ORDER BY seq", (day.isoformat(),)
            ).fetchall()
        return [
            {
                "type": r["type"],
                "charge": r["charge_id"],
                "refund": r["refund_id"],
                "amount": r["amount"],
                "fee": r["fee"],
                "currency": r["currency"],
                "occurred_at": r["occurred_at"],
            }
            for r in rows
        ]

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

    # --- background work -------------------------------------------------------------------------

    def resolve_due(self) -> float | None:
        """Settle the async outcomes that are due; return when the next one is due (or None)."""
        with self.lock, self.conn:
            now = self.clock()
            config = self.config
            for row in self.conn.execute(
                "SELECT * FROM charges WHERE status = 'pending' AND resolve_at <= ?", (now,)
            ).fetchall():
                if row["capture"]:
                    self.conn.execute(
                        "UPDATE charges SET status = 'succeeded', amount_captured = amount, resolve_at = NULL"
                        " WHERE id = ?",
                        (row["id"],),
                    )
                else:
                    self.conn.execute(
                        "UPDATE charges SET status = 'requires_capture', resolve_at = NULL WHERE id = ?",
                        (row["id"],),
                    )
                charge = self._charge_row(row["id"])
                if charge["status"] == "succeeded":
                    self._settle("capture", charge, None, charge["amount"], config.fee(charge["amount"]), now)
                    self._emit("charge.succeeded", self.charge_json(charge), now)
                else:
                    self._emit("charge.authorized", self.charge_json(charge), now)
            for row in self.conn.execute(
                "SELECT * FROM refunds WHERE status = 'pending' AND resolve_at <= ?", (now,)
            ).fetchall():
                self.conn.execute(
                    "UPDATE refunds SET status = 'failed', failure_code = 'expired_or_canceled_card',"
                    " failure_message = 'The card network refused the refund.', resolve_at = NULL WHERE id = ?",
                    (row["id"],),
                )
                refund = self.conn.execute("SELECT * FROM refunds WHERE id = ?", (row["id"],)).fetchone()
                self._emit("refund.failed", self.refund_json(refund), now)
            (next_due,) = self.conn.execute(
                "SELECT MIN(t) FROM (SELECT MIN(resolve_at) AS t FROM charges WHERE status = 'pending'"
                " UNION ALL SELECT MIN(resolve_at) FROM refunds WHERE status = 'pending')"
            ).fetchone()
            return next_due

    def _next_delivery(self) -> tuple[sqlite3.Row | None, float | None]:
        now = self.clock()
        row = self.conn.execute(
            "SELECT * FROM events WHERE state = 'pending' AND next_attempt <= ? ORDER BY next_attempt, seq LIMIT 1",
            (now,),
        ).fetchone()
        if row is not None:
            return row, None
        (next_due,) = self.conn.execute(
            "SELECT MIN(next_attempt) FROM events WHERE state = 'pending'"
        ).fetchone()
        return None, next_due

    def deliver_one(self) -> float:
        """Attempt the most overdue delivery, if any is due; return when to look again."""
        with self.lock:
            row, next_due = self._next_delivery()
            if row is None:
                return next_due if next_due is not None else self.clock() + 1.0
            config = self.config
            if not config.webhook_url:
                with self.conn:
                    self.conn.execute("UPDATE events SET state = 'skipped' WHERE seq = ?", (row["seq"],))
                return self.clock()
            attempt = row["attempts"] + 1
        # The POST happens outside the lock: a slow endpoint must never stall the API.
        status, error = webhooks.deliver(
            config.webhook_url,
            row["body"],
            secrets=config.webhook_secrets,
            timestamp=int(self.clock()),
            event_id=row["id"],
            attempt=attempt,
            timeout=config.webhook_timeout,
        )
        ok = status is not None and 200 <= status < 300
        with self.lock, self.conn:
            if ok:
                state, next_attempt = "delivered", None
            elif attempt >= config.webhook_max_attempts:
                state, next_attempt = "failed", None
            else:
                state, next_attempt = "pending", self.clock() + config.webhook_retry_base * 2 ** (attempt - 1)
            # attempts = attempt - 1 guards against a reset or redeliver that happened meanwhile.
            self.conn.execute(
                "UPDATE events SET state = ?, attempts = ?, next_attempt = ?, last_status = ?, last_error = ?"
                " WHERE seq = ? AND attempts = ?",
                (state, attempt, next_attempt, status, error, row["seq"], attempt - 1),
            )
        log = logger.info if ok else logger.warning
        log("webhook %s %s attempt %d -> %s", row["id"], row["type"], attempt, status or error)
        return self.clock()  # at once: more deliveries may be due

    def _wake(self) -> None:
        with self.changed:
            self._generation += 1
            self.changed.notify_all()

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
