"""Webhook signatures: the `Sandbox-Signature` header scheme, signing and constant-time verification.

Header value: ``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}." + payload)>``. Several v1 entries
may appear while the sender rotates its secret; one match is enough. The timestamp is signed too, so
an old delivery cannot be replayed with a fresh ``t``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable
from datetime import datetime

from .base import WebhookVerificationError

SIGNATURE_HEADER = "Sandbox-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_SECONDS = 300


def compute_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The hex v1 signature of payload at timestamp."""
    signed = f"{int(timestamp)}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The header value for payload signed with secret at timestamp."""
    return f"t={int(timestamp)},{SCHEME}={compute_signature(payload, secret, timestamp)}"


def _parse_header(header_value: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header_value.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise WebhookVerificationError(
                    "signature_invalid", "The signature timestamp is not an integer."
                ) from None
        elif key == SCHEME and value:
            signatures.append(value)
    if timestamp is None:
        raise WebhookVerificationError("signature_invalid", "The signature header has no timestamp.")
    if not signatures:
        raise WebhookVerificationError(
            "signature_invalid", f"The signature header has no {SCHEME} signature."
        )
    return timestamp, signatures


def _unix(now: datetime | float | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now.timestamp()
    return float(now)


def verify(
    payload: bytes,
    header_value: str | None,
    secret: str | Iterable[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: datetime | float | None = None,
) -> int:
    """Check header_value against payload; return the signed timestamp or raise WebhookVerificationError.

    secret may be several secrets while the receiver rotates its own. The signature is checked before
    the timestamp, so a forged header is reported as invalid rather than expired.
    """
    if not header_value:
        raise WebhookVerificationError("signature_missing", f"The {SIGNATURE_HEADER} header is missing.")
    timestamp, candidates = _parse_header(header_value)
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets or not all(secrets):
        raise ValueError("a non-empty webhook secret is required")
    expected = [compute_signature(payload, s, timestamp) for s in secrets]
    # Compare every pair without stopping early, so timing does not reveal which entry matched.
    matched = False
    for candidate in candidates:
        for good in expected:
            matched |= hmac.compare_digest(candidate.encode(), good.encode())
    if not matched:
        raise WebhookVerificationError("signature_invalid", "No signature matches the payload.")
    if abs(_unix(now) - timestamp) > tolerance:
        raise WebhookVerificationError(
            "signature_expired", f"The signature timestamp is more than {tolerance} s from now."
        )
    return timestamp
