"""The charge rules: create (authorize, optionally capture), capture, cancel, and the async outcome of
pm_card_async charges. Called with the store's lock held and its transaction open (see Store.idempotent).
"""

from __future__ import annotations

import json
from typing import Any

from .protocol import (
    DECLINES,
    PAYMENT_METHODS,
    PM_ASYNC,
    PM_FLAKY,
    PM_TIMEOUT,
    ApiError,
    Reply,
    Unavailable,
    _amount,
    _string,
    _unknown_fields,
    new_id,
)
from .store import Store


class ChargeRules(Store):
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
        charge: dict[str, Any] = {
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
            self._settle("charge", row, None, amount, config.fee(amount, currency), now)
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
        self._settle("charge", row, None, amount, self.config.fee(amount, row["currency"]), now)
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

    def _resolve_charges(self, now: float) -> None:
        """pm_card_async charges whose delay is over succeed (or become authorized); lock held."""
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
                fee = config.fee(charge["amount"], charge["currency"])
                self._settle("charge", charge, None, charge["amount"], fee, now)
                self._emit("charge.succeeded", self.charge_json(charge), now)
            else:
                self._emit("charge.authorized", self.charge_json(charge), now)
