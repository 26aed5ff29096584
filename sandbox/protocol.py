"""The sandbox's wire protocol: test cards, the error and reply types, ids and request-body checks."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, overload

from .config import _integer

# Events that announce a charge's success: the ones `lost_webhooks` swallows.
LOST_EVENT_TYPES = frozenset({"charge.succeeded", "charge.captured"})

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
    raw: bytes | None = None  # a non-JSON body (the settlement CSV), sent instead of body
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def utc_day(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).date().isoformat()


# --- request-body validation -----------------------------------------------------------------------


def _unknown_fields(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(body) - allowed
    if unknown:
        raise ApiError(400, "parameter_unknown", f"Unknown parameters: {', '.join(sorted(unknown))}.")


@overload
def _amount(body: dict[str, Any], name: str, *, required: Literal[True]) -> int: ...
@overload
def _amount(body: dict[str, Any], name: str, *, required: bool) -> int | None: ...
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
