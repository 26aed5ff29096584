"""The payment-provider interface: the value types that cross it, its exceptions and the Protocol.

Everything a provider answers is turned into these frozen dataclasses inside the adapter, so no
provider JSON travels further into LedgerPay. Money is always an integer count of minor units.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal, Protocol, TypeGuard, get_args, runtime_checkable

ChargeStatus = Literal["pending", "requires_capture", "succeeded", "failed", "canceled"]
RefundStatus = Literal["pending", "succeeded", "failed"]

CHARGE_STATUSES: frozenset[str] = frozenset(get_args(ChargeStatus))
REFUND_STATUSES: frozenset[str] = frozenset(get_args(RefundStatus))

_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def _is_int(value: object) -> TypeGuard[int]:
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


class SettlementLineType(StrEnum):
    """What a settlement report line is (the `line_type` column)."""

    CHARGE = "charge"
    REFUND = "refund"
    FEE = "fee"
    CHARGEBACK = "chargeback"
    CHARGEBACK_REVERSAL = "chargeback_reversal"
    ADJUSTMENT = "adjustment"
    PAYOUT = "payout"


class SettlementReportSource(StrEnum):
    API = "api"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """One line of a provider's itemized settlement report (format: payments/providers/settlement.py).

    Amounts are signed integer minor units of `currency`: money to the merchant is positive (a charge),
    money going back is negative (a refund, a chargeback); net = gross - fee. A payout line closes its
    batch: its net is what the provider pays out, and batch_net is the Σ net of the batch's other lines
    as the parser counted them (they differ only in a wrong report; None on other lines).
    line_number is the line in the CSV file (the header is line 1).
    """

    line_number: int
    line_id: str
    line_type: SettlementLineType
    psp_reference: str
    merchant_reference: str
    batch_id: str
    payout_id: str
    created_at: datetime
    available_on: date
    currency: str
    gross: int
    fee: int
    net: int
    batch_net: int | None = None


@dataclass(frozen=True)
class FeeRule:
    """A provider's processing fee on a charge: basis points of the amount, rounded half up, plus a fixed
    part in minor units (one value for every currency, or per currency: an unlisted one pays none)."""

    bps: int
    fixed: int | Mapping[str, int] = 0

    def fee(self, amount: int, currency: str) -> int:
        fixed = self.fixed if isinstance(self.fixed, int) else self.fixed.get(currency, 0)
        return fixed + (amount * self.bps + 5_000) // 10_000


@dataclass(frozen=True)
class SettlementReport:
    """One version of a provider's settlement report for one day, held as a CSV file on disk.

    lines() streams and validates it (constant memory) and may raise SettlementReportError at any
    line, the last included: apply what it yields in one transaction. A report fetched over the API
    lives in a temporary file that close() (or leaving a `with` block) removes; a report given as a
    file is never removed.
    """

    provider: str
    day: date
    version: int
    source: SettlementReportSource
    path: Path
    checksum: str  # sha256 hex digest of the file's bytes
    size: int

    def lines(self, *, allow_payout_mismatch: bool = False) -> Iterator[SettlementLine]:
        from .settlement import settlement_lines_read

        return settlement_lines_read(self.path, day=self.day, allow_payout_mismatch=allow_payout_mismatch)

    def close(self) -> None:
        if self.source == SettlementReportSource.API:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> SettlementReport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


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

    def settlement_report(self, *, day: date, version: int | None = None) -> SettlementReport:
        """The day's report (the latest version unless one is asked for), downloaded to a file."""
        ...
