"""The payment-provider interface: the value types that cross it, its exceptions and the Protocol.

Everything a provider answers is turned into these frozen dataclasses inside the adapter, so no
provider JSON travels further into LedgerPay. Money is always an integer count of minor units.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol, get_args, runtime_checkable

ChargeStatus = Literal["pending", "requires_capture", "succeeded", "failed", "canceled"]
RefundStatus = Literal["pending", "succeeded", "failed"]
SettlementLineType = Literal["capture", "refund"]

CHARGE_STATUSES: frozenset[str] = frozenset(get_args(ChargeStatus))
REFUND_STATUSES: frozenset[str] = frozenset(get_args(RefundStatus))

_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def _is_int(value: object) -> bool:
    # bool is an int subclass; True must never pass for one minor unit.
    return isinstance(value, int) and not isinstance(value, bool)


def _require_amount(name: str, value: object, *, positive: bool) -> None:
    if not _is_int(value):
        raise TypeError(f"{name} must be an int of minor units, not {type(value).__name__}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'positive' if positive else 'non-negative'}, got {value}")


@dataclass(frozen=True)
class ChargeRequest:
    """One authorization (capture=False) or authorization plus capture (capture=True)."""

    idempotency_key: str
    amount: int
    currency: str
    payment_method: str
    capture: bool
    reference: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.idempotency_key:
            raise ValueError("idempotency_key is required")
        _require_amount("amount", self.amount, positive=True)
        if not isinstance(self.currency, str) or not _CURRENCY_RE.match(self.currency):
            raise ValueError(f"currency must be an upper-case ISO 4217 code, got {self.currency!r}")
        if not self.payment_method:
            raise ValueError("payment_method is required")
        if not isinstance(self.capture, bool):
            raise TypeError("capture must be a bool")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.metadata.items()):
            raise TypeError("metadata must map str to str")
        # A private copy, so a caller mutating its dict cannot change a request already sent.
        object.__setattr__(self, "metadata", dict(self.metadata))


@dataclass(frozen=True)
class ProviderCharge:
    id: str
    status: ChargeStatus
    amount: int
    amount_captured: int
    amount_refunded: int
    currency: str
    failure_code: str | None
    failure_message: str | None
    created: datetime
    reference: str = ""
    idempotency_key: str = ""

    @property
    def amount_refundable(self) -> int:
        return self.amount_captured - self.amount_refunded


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    charge_id: str
    amount: int
    currency: str
    status: RefundStatus
    failure_code: str | None
    failure_message: str | None
    created: datetime


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider notification; exactly one of charge/refund is set for the known types."""

    id: str
    type: str
    created: datetime
    charge: ProviderCharge | None = None
    refund: ProviderRefund | None = None


@dataclass(frozen=True)
class SettlementLine:
    """One money movement the provider settles. amount is always positive; type gives the direction."""

    type: SettlementLineType
    charge_id: str
    refund_id: str | None
    amount: int
    fee: int
    currency: str
    occurred_at: datetime


@dataclass(frozen=True)
class SettlementReport:
    provider: str
    day: date
    lines: list[SettlementLine]


class ProviderError(Exception):
    """A provider call failed. transient=True means retrying (with the same idempotency key) may work."""

    def __init__(self, code: str, message: str, transient: bool = False, *, http_status: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.transient = transient
        self.http_status = http_status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, transient={self.transient})"


class ProviderUnavailable(ProviderError):
    """The provider did not do it: connection refused, 5xx, rate limited. Safe to retry."""

    def __init__(self, code: str, message: str, transient: bool = True, *, http_status: int | None = None):
        super().__init__(code, message, transient, http_status=http_status)


class ProviderTimeout(ProviderError):
    """AMBIGUOUS: the request may have reached the provider and taken effect.

    Recover by retrying with the same idempotency key or by find_charge(); never by a new key.
    """

    def __init__(self, code: str, message: str, transient: bool = True, *, http_status: int | None = None):
        super().__init__(code, message, transient, http_status=http_status)


class ProviderRequestError(ProviderError):
    """The provider refused the request (4xx). Retrying the same request will fail the same way."""

    def __init__(self, code: str, message: str, transient: bool = False, *, http_status: int | None = None):
        super().__init__(code, message, transient, http_status=http_status)


class WebhookVerificationError(Exception):
    """A webhook could not be trusted or read: signature_missing, signature_invalid,
    signature_expired or payload_invalid. Answer 400 and let the provider redeliver."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@runtime_checkable
class PaymentProvider(Protocol):
    """A card processor. Every mutating call takes an idempotency key: retrying with it is always safe."""

    name: str

    def authorize(self, request: ChargeRequest) -> ProviderCharge: ...

    def capture(self, *, charge_id: str, amount: int | None, idempotency_key: str) -> ProviderCharge: ...

    def cancel(self, *, charge_id: str, idempotency_key: str) -> ProviderCharge: ...

    def refund(self, *, charge_id: str, amount: int, idempotency_key: str) -> ProviderRefund: ...

    def retrieve_charge(self, *, charge_id: str) -> ProviderCharge: ...

    def find_charge(self, *, idempotency_key: str) -> ProviderCharge | None: ...

    def retrieve_refund(self, *, refund_id: str) -> ProviderRefund: ...

    def parse_webhook(
        self, *, payload: bytes, headers: Mapping[str, str], now: datetime | None = None
    ) -> WebhookEvent: ...

    def settlement_report(self, *, day: date) -> SettlementReport: ...
