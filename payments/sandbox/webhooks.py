"""The sandbox's side of webhooks: signing an event body and POSTing it once to the endpoint.

Signing is implemented here again rather than imported from payments.providers.signatures: the
sandbox stands for an external provider, and two independent implementations agreeing is what the
tests check.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request
from collections.abc import Sequence

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
