"""The sandbox's side of webhooks: signing an event body, POSTing it once to the endpoint, and the
delivery worker's step (the most overdue pending event, retried with exponential back-off).

Signing is implemented here again rather than imported from payments.providers.signatures: the
sandbox stands for an external provider, and two independent implementations agreeing is what the
tests check.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Sequence

from .store import Store

logger = logging.getLogger("sandbox")

SIGNATURE_HEADER = "Sandbox-Signature"
USER_AGENT = "LedgerPay-Sandbox-Webhooks/1.0"


def signature_header(body: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """`t=<ts>,v1=<sig>[,v1=<sig>...]`, one v1 per secret (several while a secret is being rotated)."""
    signed = f"{timestamp}.".encode() + body
    parts = [f"t={timestamp}"]
    parts += [f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}" for s in secrets]
    return ",".join(parts)


def deliver(
    url: str,
    body: bytes,
    *,
    secrets: Sequence[str],
    timestamp: int,
    event_id: str,
    attempt: int,
    timeout: float,
) -> tuple[int | None, str | None]:
    """POST one delivery attempt. Returns (HTTP status or None, error text or None); never raises."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Sandbox-Event-Id": event_id,
        "Sandbox-Delivery-Attempt": str(attempt),
    }
    if secrets:
        headers[SIGNATURE_HEADER] = signature_header(body, secrets, timestamp)
    if not url.startswith(("http://", "https://")):
        return None, f"unsupported webhook url {url!r}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310  (scheme checked)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
            return response.status, None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:  # URLError, refused, timeout, bad url
        return None, repr(exc)


class WebhookDelivery(Store):
    """Delivers the event outbox (table events) to config.webhook_url, one attempt per step."""

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
        status, error = deliver(
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
