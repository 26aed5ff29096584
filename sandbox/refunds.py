"""The refund rules: create a refund of a succeeded charge, and the late refusal of refunds of
pm_card_refund_fail charges. Called with the store's lock held and its transaction open.
"""

from __future__ import annotations

from typing import Any

from .protocol import PM_REFUND_FAIL, ApiError, Reply, _amount, _string, _unknown_fields, new_id
from .store import Store


class RefundRules(Store):
    def create_refund(self, body: dict[str, Any], key: str = "") -> Reply:
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
            "reference": key,  # what the client calls this refund: its idempotency key
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
            self._settle("refund", charge, row, amount, 0, now)
            self._emit("refund.succeeded", self.refund_json(row), now)
        else:
            self._wake()
        return Reply(200, self.refund_json(row))

    def _resolve_refunds(self, now: float) -> None:
        """Refunds of pm_card_refund_fail charges are refused by the network once their delay is over."""
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
